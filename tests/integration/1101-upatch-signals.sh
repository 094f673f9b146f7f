#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# No signal is lost while a process is patched. Another process sends the
# target real-time signals (sigqueue, each carrying a sequence number) and
# ordinary ones (SIGUSR1/2, one at a time, each acknowledged) throughout
# many patch/unpatch cycles (200, 1000 with KC_SLOW=1, or KC_SIGNAL_CYCLES):
# every signal arrives, real-time ones once each, in order, with their
# value and as sent by sigqueue (a patcher re-sending a signal itself
# would lose the value).
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

if [ -n "${KC_SLOW:-}" ]; then
	cycles=${KC_SIGNAL_CYCLES:-1000}
else
	cycles=${KC_SIGNAL_CYCLES:-200}
fi
src="$KC_SRC/signals"
cc_prog "$T/target" "$src/target.c"
cc_prog "$T/sender" "$src/sender.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/signals.kpatch" --id signals

start_target target "$T/target" "$T/counts"
pid=$TPID
expect_line "$T/target.log" '^value 1 ' 5
"$T/sender" $pid "$T/counts" "$T/stop" >"$T/sender.log" 2>&1 &
spid=$!
track $spid
expect_line "$T/sender.log" '^sending$' 5

step "$cycles patch/unpatch cycles under a stream of signals"
start=$(now_ms)
i=0
while [ $i -lt "$cycles" ]; do
	for verb in patch unpatch; do
		if [ $verb = patch ]; then
			set -- patch -p $pid "$T/signals.kpatch"
		else
			set -- unpatch -p $pid
		fi
		timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" "$@" >"$T/ctl.out" 2>"$T/ctl.err" ||
			fail "cycle $i: $verb exited $?: $(cat "$T/ctl.err")"
	done
	i=$((i + 1))
done
echo "# $cycles cycles in $(($(now_ms) - start)) ms"
alive $pid || fail "the target died: $(tail -n 3 "$T/target.err")"

step "every signal arrived"
touch "$T/stop"
# the sender ends by itself: 5 s at most per missing ordinary signal, 10 s for the rest
n=0
while alive $spid && [ $n -lt 1500 ]; do
	sleep 0.02
	n=$((n + 1))
done
alive $spid && kill -9 $spid && fail "the sender did not finish: $(tail -n 3 "$T/sender.log")"
wait $spid
st=$?
sed 's/^/  sender: /' "$T/sender.log"
[ $st = 0 ] || fail "signals lost or altered (sender exit $st): $(grep -E '^(lost|got)' "$T/sender.log" | head -3)"
sent=$(sed -n 's/^sent rt \([0-9]*\) .*/\1/p' "$T/sender.log")
[ "${sent:-0}" -ge "$cycles" ] || fail "only ${sent:-0} rounds of signals during $cycles cycles"
expect_value "$T/target.log" '^value 1 '
mem_equal $pid "$T/target" value_fn
expect_patches $pid ""
echo "ok"
