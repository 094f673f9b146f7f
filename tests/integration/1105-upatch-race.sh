#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Two patchers at once on one process: two `patch -p PID` runs, or
# `patch -p all` racing `patch -p PID`, started 0..10 ms apart (10 rounds,
# 50 with KC_SLOW=1, or KC_RACE_ROUNDS); then two `unpatch -p PID` at once.
# Exactly one run patches (unpatches); the other says "already applied"
# (exit 0), finds nothing to do, or fails cleanly (exit 1, "busy" or
# "already applied"). Afterwards exactly one patch is listed, the code is
# patched (original) and the process holds as many patch mappings as
# after a single, unraced patch: never a double patch.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

if [ -n "${KC_SLOW:-}" ]; then
	rounds=${KC_RACE_ROUNDS:-50}
else
	rounds=${KC_RACE_ROUNDS:-10}
fi
src="$KC_SRC/race"
cc_prog "$T/target" "$KC_SRC/common/workers.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/race.kpatch" --id race

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 1$' 5

# anon_exec: executable mappings of no file (where patch code lives)
anon_exec() {
	awk '$2 ~ /x/ && NF == 5' "/proc/$pid/maps" | wc -l | tr -d ' '
}

step "unraced patch and unpatch, for reference"
k0=$(anon_exec)
lcctl_ok patch -p $pid "$T/race.kpatch"
k1=$(anon_exec)
lcctl_ok unpatch -p $pid
[ "$(anon_exec)" = "$k0" ] || fail "unpatch left $(($(anon_exec) - k0)) executable mappings"
echo "# anonymous executable mappings: $k0 unpatched, $k1 patched"

# race DELAY-MS VERB-OF-A ARGS-OF-A -- ARGS-OF-B: A in the background,
# B DELAY-MS later; both end in bounded time. Output in $T/a.* and $T/b.*
race() {
	_ms=$1
	shift
	_a=""
	while [ "$1" != -- ]; do
		_a="$_a $1"
		shift
	done
	shift
	timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" $_a >"$T/a.out" 2>"$T/a.err" &
	_apid=$!
	[ "$_ms" = 0 ] || sleep "$(printf '0.%03d' "$_ms")"
	timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" "$@" >"$T/b.out" 2>"$T/b.err" &
	_bpid=$!
	wait $_apid
	RC_A=$?
	wait $_bpid
	RC_B=$?
	for _r in a b; do
		[ $_r = a ] && _rc=$RC_A || _rc=$RC_B
		[ $_r = a ] && _args=$_a || _args=" $*"
		echo "\$ libcare-ctl$_args ($_r) -> $_rc"
		grep "^$pid: " "$T/$_r.out" | sed 's/^/  out: /'
		sed 's/^/  err: /' "$T/$_r.err"
	done
}

# judge R VERB: what run R said about our process is acceptable; counts
# the runs that did VERB (patched, unpatched) in DONE
judge() {
	_rc=$RC_A
	[ "$1" = b ] && _rc=$RC_B
	[ "$_rc" = 0 ] || [ "$_rc" = 1 ] || fail "run $1 exited $_rc"
	grep "^libcare-ctl: $pid: " "$T/$1.err" >"$T/$1.mine"
	if [ -s "$T/$1.mine" ]; then
		grep -Eivq "busy|already applied" "$T/$1.mine" && fail "run $1 failed unexpectedly: $(cat "$T/$1.mine")"
		[ "$_rc" = 1 ] || fail "run $1 printed an error but exited 0"
	elif [ "$_rc" = 1 ] && ! grep -q . "$T/$1.err"; then
		fail "run $1 exited 1 without a message"
	fi
	if grep -q "^$pid: $2 race level 1 " "$T/$1.out"; then
		DONE=$((DONE + 1))
	fi
}

# settled STATE: exactly STATE is left (patched or original)
settled() {
	if [ "$1" = patched ]; then
		expect_patches $pid "race:1:target"
		mem_patched $pid "$T/target" value_fn
		[ "$(anon_exec)" = "$k1" ] || fail "$(anon_exec) anonymous executable mappings after a patch, $k1 expected"
		expect_value "$T/target.log" '^value 2$'
	else
		expect_patches $pid ""
		mem_equal $pid "$T/target" value_fn
		[ "$(anon_exec)" = "$k0" ] || fail "$(anon_exec) anonymous executable mappings after unpatch, $k0 expected"
		expect_value "$T/target.log" '^value 1$'
	fi
}

i=0
while [ $i -lt "$rounds" ]; do
	ms=$((i * 7 % 11))
	if [ $((i % 2)) = 0 ]; then
		step "round $i: patch -p $pid and patch -p $pid, $ms ms apart"
		race $ms patch -p $pid "$T/race.kpatch" -- patch -p $pid "$T/race.kpatch"
	else
		step "round $i: patch -p all and patch -p $pid, $ms ms apart"
		race $ms patch -p all "$T/race.kpatch" -- patch -p $pid "$T/race.kpatch"
	fi
	DONE=0
	judge a patched
	judge b patched
	[ $DONE = 1 ] || fail "round $i: $DONE runs patched the process"
	settled patched

	step "round $i: two unpatch -p $pid, $ms ms apart"
	race $ms unpatch -p $pid -- unpatch -p $pid
	DONE=0
	judge a unpatched
	judge b unpatched
	[ $DONE = 1 ] || fail "round $i: $DONE runs unpatched the process"
	settled original
	i=$((i + 1))
done
alive $pid || fail "the target died"
echo "ok"
