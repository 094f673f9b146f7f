#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 16 threads call the patched function in a tight loop while it is patched
# and unpatched many times: no crash, and the target's own checker sees
# nothing but the old or the new result. Rounds: KC_STRESS_ROUNDS, else 200
# with KC_SLOW=1, else 50 (on 2 cores busy with 16 threads one operation
# takes 0.2-0.3 s, so 200 rounds take minutes).
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

if [ -n "${KC_SLOW:-}" ]; then
	rounds=${KC_STRESS_ROUNDS:-200}
else
	rounds=${KC_STRESS_ROUNDS:-50}
fi
src="$KC_SRC/stress"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/stress.kpatch" --id stress

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^tick olds [1-9]' 5

start=$(now_ms)
i=0
while [ $i -lt "$rounds" ]; do
	lcctl patch -p $pid "$T/stress.kpatch" >/dev/null
	[ $KC_RC = 0 ] || fail "round $i: patch exited $KC_RC: $(cat "$T/ctl.err")"
	lcctl unpatch -p $pid >/dev/null
	[ $KC_RC = 0 ] || fail "round $i: unpatch exited $KC_RC: $(cat "$T/ctl.err")"
	alive $pid || fail "round $i: the target died: $(tail -3 "$T/target.log")"
	i=$((i + 1))
done
echo "# $rounds rounds in $(($(now_ms) - start)) ms"

no_line "$T/target.log" '^BAD'
alive $pid || fail "the target died"
grep -q '^tick olds [0-9]* news [1-9]' "$T/target.log" || fail "no thread ever ran the new code"
# unpatched for good: the count of new results stops growing
expect_value "$T/target.log" '^tick '
n1=$(tail -1 "$T/target.log" | sed -n 's/^tick olds [0-9]* news \([0-9]*\)$/\1/p')
m=$(lines "$T/target.log")
expect_line "$T/target.log" '^tick ' 5 $((m + 2))
n2=$(tail -1 "$T/target.log" | sed -n 's/^tick olds [0-9]* news \([0-9]*\)$/\1/p')
[ -n "$n1" ] && [ "$n1" = "$n2" ] || fail "new results still counted after the last unpatch ($n1, $n2)"
mem_equal $pid "$T/target" value
expect_patches $pid ""
echo "ok"
