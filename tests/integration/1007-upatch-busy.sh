#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The safety check. A thread that never leaves a function being replaced:
# `patch --timeout 1` gives up after about a second with a message saying
# busy, exit 1, and leaves the process untouched (code equal to the file, no
# new executable mapping, no patch listed, still running). A thread that
# leaves the function after 300 ms: `patch` waits and succeeds, and the other
# threads keep running while it waits.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/busy"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix-spin.o" "$src/fix-spin.c"
cc_fix "$T/fix-slow.o" "$src/fix-slow.c"
pack --target "$T/target" --object "$T/fix-spin.o" -o "$T/spin.kpatch" --id spin
pack --target "$T/target" --object "$T/fix-slow.o" -o "$T/slow.kpatch" --id slow

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^spinning$' 5

step "a thread never leaves spin_fn: busy after --timeout 1"
exec_maps $pid >"$T/maps.before"
t0=$(now_ms)
lcctl_fails patch -p $pid --timeout 1 "$T/spin.kpatch"
dt=$(($(now_ms) - t0))
echo "# failed after $dt ms"
err_has "^libcare-ctl: $pid: .*busy"
[ $dt -ge 800 ] || fail "gave up after $dt ms, before the 1 s timeout"
[ $dt -le 5000 ] || fail "took $dt ms to give up with --timeout 1"
untouched $pid "$T/target" spin_fn slow_fn
exec_maps $pid >"$T/maps.after"
cmp -s "$T/maps.before" "$T/maps.after" || fail "executable mappings changed: $(diff "$T/maps.before" "$T/maps.after")"
expect_value "$T/target.log" '^tick '
no_line "$T/target.log" '^spin done'

step "a thread leaves slow_fn after 300 ms: patch waits and succeeds"
m=$(lines "$T/target.log")
kill -USR1 $pid
expect_line "$T/target.log" '^in slow$' 5 $m
t0=$(now_ms)
lcctl_ok patch -p $pid "$T/slow.kpatch"
echo "# applied after $(($(now_ms) - t0)) ms"
out_has "^$pid: patched slow level 1 in $(re_quote "$T/target") \(1 functions?\)$"
# the call in progress finished in the old code
expect_line "$T/target.log" '^left slow 1$' 5 $m
# the other threads ran while the patch waited: about 30 ticks in 300 ms
ticks=$(tail -n +$((m + 1)) "$T/target.log" | sed -n '/^in slow$/,/^left slow/p' | grep -c '^tick')
echo "# $ticks ticks while slow_fn ran"
[ "$ticks" -ge 5 ] || fail "only $ticks ticks while the patch waited: the process was held stopped"
m=$(lines "$T/target.log")
kill -USR1 $pid
expect_line "$T/target.log" '^left slow 2$' 5 $m
no_line "$T/target.log" '^spin done'
expect_patches $pid "slow:1:target"
mem_equal $pid "$T/target" spin_fn
echo "ok"
