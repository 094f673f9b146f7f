#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The patcher may die at any instant. libcare-ctl patch and unpatch of a
# three-function patch on a busy four-thread target are SIGKILLed after a
# random delay of 0..20 ms (mostly short), many times (500 cycles of patch and unpatch,
# 2000 with KC_SLOW=1, or KC_KILL_CYCLES; KC_SEED repeats a run). After each
# kill every function is whole (its file bytes, or a jump into patch code:
# src/killed/state.py); then `libcare-ctl recover` (or, every third time,
# the next patch or unpatch) finishes or rolls back what was interrupted,
# after which `info` is consistent with memory: the patch listed and all
# three functions patched, or not listed and all three original. The
# target never crashes and never runs torn code (it checks every result).
# Calls that saw part of the patch only (f patched, g not yet) are counted
# and reported; KC_STRICT_MIX=1 makes them a failure.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

if [ -n "${KC_SLOW:-}" ]; then
	cycles=${KC_KILL_CYCLES:-2000}
else
	cycles=${KC_KILL_CYCLES:-500}
fi
seed=${KC_SEED:-$(date +%s)}
src="$KC_SRC/killed"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/killed.kpatch" --id killed

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^tick olds [1-9]' 5

# target_ok WHAT: the target lives and checked every result
target_ok() {
	alive $pid || fail "$1: the target died: $(tail -n 3 "$T/target.log" "$T/target.err")"
	no_line "$T/target.log" '^BAD'
}

echo "# seed $seed"
# delays in us, skewed towards short ones (half are under 5 ms): a run
# takes a few ms, and the kill must often land inside it
awk -v seed="$seed" -v n=$((cycles * 2)) \
	'BEGIN { srand(seed); for (i = 0; i < n; i++) { r = rand(); printf "%d\n", int(r * r * 20001) } }' \
	>"$T/delays"
# the state checker (src/killed/state.py) serves the whole run through two fifos
mkfifo "$T/state.in" "$T/state.out"
"$KC_PY" "$src/state.py" $pid "$T/target" "$KC_CTL_BIN" "$T/killed.kpatch" killed f g h \
	<"$T/state.in" >"$T/state.out" 2>"$T/state.err" &
track $!
exec 3>"$T/state.in" 4<"$T/state.out"
STATE=orig
n=0
kills=0
RECOVERED=0
start=$(now_ms)
while read -r us; do
	n=$((n + 1))
	if [ $STATE = orig ]; then
		set -- patch -p $pid "$T/killed.kpatch"
	else
		set -- unpatch -p $pid
	fi
	what="op $n ($1, SIGKILL after $us us)"
	"$KC_CTL_BIN" "$@" >"$T/ctl.out" 2>"$T/ctl.err" &
	cpid=$!
	[ "$us" = 0 ] || sleep "$(printf '0.%06d' "$us")"
	kill -9 $cpid 2>/dev/null
	wait $cpid
	rc=$?
	case $rc in
	0 | 137) ;;
	1) echo "# $what: exit 1: $(cat "$T/ctl.err")" ;;
	*) fail "$what: libcare-ctl exited $rc: $(cat "$T/ctl.err")" ;;
	esac
	[ $rc = 137 ] && kills=$((kills + 1))
	target_ok "$what"
	if [ $((n % 3)) = 0 ]; then
		mode=next
	elif [ $rc = 137 ]; then
		mode=recover
	else
		mode=recover-none
	fi
	echo $mode >&3
	read -r answer <&4 || fail "$what, $mode: the state checker died"
	printf '%s\n' "$answer" >"$T/state"
	case $answer in FAIL:*) fail "$what, $mode: $answer" ;; esac
	case $(cat "$T/state") in
	state=patched*) STATE=patched ;;
	*) STATE=orig ;;
	esac
	case $(cat "$T/state") in
	*recovered=0*) ;;
	*) RECOVERED=$((RECOVERED + 1)) ;;
	esac
	[ -n "${KC_VERBOSE:-}" ] && echo "# $what: exit $rc, $(cat "$T/state")"
	target_ok "$what, after recovery"
done <"$T/delays"
exec 3>&- 4<&-
echo "# $n operations, $kills killed, $RECOVERED recovered, in $(($(now_ms) - start)) ms"
[ $kills -gt 0 ] || fail "libcare-ctl was never killed before it finished"

step "final unpatch"
[ $STATE = orig ] || lcctl_ok unpatch -p $pid
mem_equal $pid "$T/target" f g h
expect_patches $pid ""
target_ok "at the end"
expect_value "$T/target.log" '^tick '
tail -1 "$T/target.log"
grep '^MIX' "$T/target.log" | sed 's/^/# calls that saw part of the patch: /'
if [ -n "${KC_STRICT_MIX:-}" ]; then
	no_line "$T/target.log" '^MIX'
fi
echo "ok"
