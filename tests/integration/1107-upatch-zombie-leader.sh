#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A zombie thread-group leader: main called pthread_exit() and the other
# threads run on. `patch -p PID` (the leader's pid, the only one ps shows)
# patches the process: the workers run the new code, `info` lists the
# patch, the memory (read through a live thread) holds the jump; unpatch
# brings the original back. `patch -p all` finds the process too.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
# The leader's own maps, mem, auxv and exe are empty: the engine reads the
# address space through a live thread (kc_proc_mm_tid()).

src="$KC_SRC/zombie"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/zombie.kpatch" --id zombie

start_target target "$T/target"
pid=$TPID
tid=$(sed -n 's/^ready tid \([0-9]*\)$/\1/p' "$T/target.log")
[ -n "$tid" ] || fail "no thread id in the target's output"
expect_line "$T/target.log" '^value 1$' 5
state=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$pid/stat")
[ "$state" = Z ] || fail "the leader is in state '$state', not a zombie"
[ -d "/proc/$pid/task/$tid" ] || fail "thread $tid is not a thread of $pid"
mem_equal $tid "$T/target" value_fn

step "patch -p $pid"
lcctl_ok patch -p $pid "$T/zombie.kpatch"
out_has "^$pid: patched zombie level 1 in $(re_quote "$T/target") \(1 functions?\)$"
expect_value "$T/target.log" '^value 2$'
expect_patches $pid "zombie:1:target"
mem_patched $tid "$T/target" value_fn

step "unpatch -p $pid"
lcctl_ok unpatch -p $pid
out_has "^$pid: unpatched zombie level 1 from "
expect_value "$T/target.log" '^value 1$'
expect_patches $pid ""
mem_equal $tid "$T/target" value_fn

step "patch -p all"
lcctl patch -p all "$T/zombie.kpatch" >/dev/null
out_has "^$pid: patched zombie level 1 in "
grep -q "^libcare-ctl: $pid:" "$T/ctl.err" && fail "patch -p all failed on the process: $(cat "$T/ctl.err")"
expect_value "$T/target.log" '^value 2$'
lcctl_ok unpatch -p $pid
expect_value "$T/target.log" '^value 1$'
mem_equal $tid "$T/target" value_fn
[ -d "/proc/$pid/task/$tid" ] || fail "the process died"
echo "ok"
