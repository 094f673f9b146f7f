#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 16 threads call the patched function in a tight loop while it is patched
# and unpatched many times: no crash, and the target's own checker sees
# nothing but the old or the new result. Rounds: KC_STRESS_ROUNDS, else 200
# (the issue's figure; about 30 s on 2 cores busy with 16 threads).
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

rounds=${KC_STRESS_ROUNDS:-200}
src="$KC_SRC/stress"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/stress.kpatch" --id stress

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^tick olds [1-9]' 5

# the tools are run directly, not through lcctl: with 16 busy threads every
# extra process the loop starts costs tens of milliseconds
start=$(now_ms)
i=0
while [ $i -lt "$rounds" ]; do
	for verb in patch unpatch; do
		if [ $verb = patch ]; then
			set -- patch -p $pid "$T/stress.kpatch"
		else
			set -- unpatch -p $pid
		fi
		timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" "$@" >"$T/ctl.out" 2>"$T/ctl.err" ||
			fail "round $i: $verb exited $?: $(cat "$T/ctl.err"); target: $(tail -2 "$T/target.log")"
	done
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
