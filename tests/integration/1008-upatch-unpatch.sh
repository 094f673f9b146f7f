#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Unpatch puts back the original bytes of every replaced function (the
# process's code equals the file again), and it never removes code a thread
# is running: with a thread inside the patch's new code it refuses (exit 1,
# busy) when its --timeout runs out, and waits when the thread leaves in time.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/unpatch"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix-three.o" "$src/fix-three.c"
cc_fix "$T/fix-block.o" "$src/fix-block.c"
pack --target "$T/target" --object "$T/fix-three.o" -o "$T/three.kpatch" --id three
pack --target "$T/target" --object "$T/fix-block.o" -o "$T/block.kpatch" --id block

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^values 1 2 3$' 5
mem_equal $pid "$T/target" f1 f2 f3 blocker

step "three functions patched, then unpatched: original bytes back"
lcctl_ok patch -p $pid "$T/three.kpatch"
out_has "^$pid: patched three level 1 in $(re_quote "$T/target") \(3 functions\)$"
expect_value "$T/target.log" '^values 101 102 103$'
mem_patched $pid "$T/target" f1 f2 f3
lcctl_ok unpatch -p $pid --id three
out_has "^$pid: unpatched three level 1 from $(re_quote "$T/target")$"
expect_value "$T/target.log" '^values 1 2 3$'
mem_equal $pid "$T/target" f1 f2 f3 blocker
expect_patches $pid ""

step "a thread inside the patch's code: unpatch --timeout 1 refuses"
m=$(lines "$T/target.log")
lcctl_ok patch -p $pid "$T/block.kpatch"
expect_line "$T/target.log" '^in new blocker$' 5 $m
t0=$(now_ms)
lcctl_fails unpatch -p $pid --id block --timeout 1
echo "# refused after $(($(now_ms) - t0)) ms"
err_has "^libcare-ctl: $pid: .*busy"
expect_patches $pid "block:1:target"
mem_patched $pid "$T/target" blocker
alive $pid || fail "target died"
expect_value "$T/target.log" '^values 1 2 3$'

step "the thread leaves 300 ms later: unpatch waits and succeeds"
(
	sleep 0.3
	kill -USR1 $pid
) &
t0=$(now_ms)
lcctl_ok unpatch -p $pid --id block --timeout 5
echo "# unpatched after $(($(now_ms) - t0)) ms"
out_has "^$pid: unpatched block level 1 from $(re_quote "$T/target")$"
# the blocked call returned through the new code, which was still there
expect_line "$T/target.log" '^blocker 2$' 5
expect_value "$T/target.log" '^blocker 1$'
mem_equal $pid "$T/target" f1 f2 f3 blocker
expect_patches $pid ""
echo "ok"
