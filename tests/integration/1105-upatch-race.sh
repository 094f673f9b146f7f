#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Two patchers at once on one process: two `patch -p PID` runs, or
# `patch -p all` racing `patch -p PID`, started 0..10 ms apart (10 rounds,
# 50 with KC_SLOW=1, or KC_RACE_ROUNDS); then two `unpatch -p PID` at once.
# Exactly one run patches (unpatches); the other says "already applied"
# (exit 0), finds nothing to do, or fails cleanly (exit 1, "busy" or
# "already applied"; an unpatch that found nothing left: "no patch is
# applied"). Afterwards exactly one patch is listed, the code is
# patched (original) and the process holds as many patch mappings as
# after a single, unraced patch: never a double patch.
# Mixed front ends: `kcarectl --lib-unload` (in a PID namespace holding
# only its own target, so it touches nothing else of the host) against
# `libcare-ctl unpatch -p PID` runs, in either order and close together:
# one waits for the other (never "already traced"), exactly one unpatches
# and the target lives. The same with libcare-ctl copied under another
# name: patchers know each other by what the engine holds, not by name.
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
	timeout "$KC_CMD_TIMEOUT" "${CTL_A:-$KC_CTL_BIN}" $_a >"$T/a.out" 2>"$T/a.err" &
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
	grep -E "^(libcare-ctl|patcher-b): $pid: " "$T/$1.err" >"$T/$1.mine"
	if [ -s "$T/$1.mine" ]; then
		grep -Eivq "busy|already applied|no patch is applied" "$T/$1.mine" && fail "run $1 failed unexpectedly: $(cat "$T/$1.mine")"
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

# Patchers know each other by what the engine holds, not by program name: a
# copy of libcare-ctl under another name holds the process first, and the
# other run waits for it instead of failing with "already traced".
cp "$KC_CTL_BIN" "$T/patcher-b"
for i in 1 2 3 4 5 6; do
	ms=$((10 + i * 8)) # the renamed one is likely to hold the process by then
	step "renamed patcher round $i: patch -p $pid by 'patcher-b', patch -p $pid $ms ms later"
	CTL_A="$T/patcher-b" race $ms patch -p $pid "$T/race.kpatch" -- patch -p $pid "$T/race.kpatch"
	grep -q "already traced" "$T/a.err" "$T/b.err" && fail "a patcher under another name was taken for a foreign tracer"
	DONE=0
	judge a patched
	judge b patched
	[ $DONE = 1 ] || fail "renamed round $i: $DONE runs patched the process"
	settled patched
	CTL_A="$T/patcher-b" race $ms unpatch -p $pid -- unpatch -p $pid
	DONE=0
	judge a unpatched
	judge b unpatched
	[ $DONE = 1 ] || fail "renamed round $i: $DONE runs unpatched the process"
	settled original
done

step "mixed front ends: kcarectl --lib-unload and libcare-ctl unpatch"
KCCTL_BIN="$KC_BUILD/src/agent/kcarectl"
[ -x "$KCCTL_BIN" ] || skip "kcarectl is not built"
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "no unshare or nsenter"
unshare --fork --pid --mount-proc true 2>/dev/null ||
	skip "unshare --fork --pid --mount-proc is not permitted here"
mkdir -p "$T/root/etc/sysconfig/kcare"
unshare --fork --pid --mount-proc --kill-child sh -c '"$1" & wait' sh "$T/target" \
	>"$T/ns.log" 2>"$T/ns.err" &
upid=$!
track $upid
wait_for_line "$T/ns.log" '^ready' 10 || fail "the namespace's target did not start: $(cat "$T/ns.err")"
init=$(tr -d ' \n' <"/proc/$upid/task/$upid/children")
npid=$(tr -d ' \n' <"/proc/$init/task/$init/children")
[ -n "$npid" ] && [ -d "/proc/$npid" ] || fail "cannot find the namespace's target"
track $npid
expect_line "$T/ns.log" '^value 1$' 5

# mixed FIRST DELAY-MS: kcarectl (k) and libcare-ctl (l), FIRST started
# first. k first: libcare-ctl runs start every DELAY-MS ms, 8 of them, to
# meet kcarectl's hold whenever it comes; l first: kcarectl starts
# DELAY-MS ms after the one libcare-ctl. Every run finishes cleanly and
# exactly one unpatches.
mixed() {
	_ls=""
	if [ "$1" = k ]; then
		KCARE_ROOT="$T/root" timeout "$KC_CMD_TIMEOUT" nsenter -t "$init" -p -m \
			"$KCCTL_BIN" --lib-unload >"$T/k.out" 2>"$T/k.err" &
		_kpid=$!
		for _j in 1 2 3 4 5 6 7 8; do
			sleep "$(printf '0.%03d' "$2")"
			(
				timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" unpatch -p "$npid" \
					>"$T/l$_j.out" 2>"$T/l$_j.err"
				echo $? >"$T/l$_j.rc"
			) &
			_ls="$_ls $_j:$!"
		done
	else
		(
			timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" unpatch -p "$npid" >"$T/l1.out" 2>"$T/l1.err"
			echo $? >"$T/l1.rc"
		) &
		_ls=" 1:$!"
		[ "$2" = 0 ] || sleep "$(printf '0.%03d' "$2")"
		KCARE_ROOT="$T/root" timeout "$KC_CMD_TIMEOUT" nsenter -t "$init" -p -m \
			"$KCCTL_BIN" --lib-unload >"$T/k.out" 2>"$T/k.err" &
		_kpid=$!
	fi
	wait $_kpid
	_rk=$?
	echo "\$ kcarectl --lib-unload -> $_rk"
	sed 's/^/  out: /' "$T/k.out"
	sed 's/^/  err: /' "$T/k.err"
	[ $_rk = 0 ] || fail "kcarectl exited $_rk"
	grep -q '^processes: [01] unpatched, 0 failed$' "$T/k.out" || fail "kcarectl: unexpected summary"
	DONE=$(sed -n 's/^processes: \([01]\) unpatched.*/\1/p' "$T/k.out")
	for _l in $_ls; do
		_j=${_l%%:*}
		wait "${_l#*:}"
		_rl=$(cat "$T/l$_j.rc")
		echo "\$ libcare-ctl unpatch -p $npid ($_j) -> $_rl"
		sed 's/^/  out: /' "$T/l$_j.out"
		sed 's/^/  err: /' "$T/l$_j.err"
		if [ "$_rl" = 0 ]; then
			grep -q "^$npid: unpatched race level 1 " "$T/l$_j.out" ||
				fail "libcare-ctl exited 0 without unpatching"
			DONE=$((DONE + 1))
		else
			[ "$_rl" = 1 ] || fail "libcare-ctl exited $_rl"
			grep -qx "libcare-ctl: $npid: no patch is applied" "$T/l$_j.err" ||
				fail "libcare-ctl failed unexpectedly: $(cat "$T/l$_j.err")"
		fi
	done
	[ "$DONE" = 1 ] || fail "$DONE runs unpatched the process"
	alive $npid || fail "the namespace's target died"
	expect_patches $npid ""
	mem_equal $npid "$T/target" value_fn
	expect_value "$T/ns.log" '^value 1$'
}

i=0
while [ $i -lt "$rounds" ]; do
	lcctl_ok patch -p $npid "$T/race.kpatch"
	expect_value "$T/ns.log" '^value 2$'
	if [ $((i % 2)) = 0 ]; then
		ms=$((5 + i % 3 * 5))
		step "mixed round $i: kcarectl --lib-unload, then 8 libcare-ctl unpatch every $ms ms"
		mixed k $ms
	else
		ms=$((i * 7 % 11))
		step "mixed round $i: libcare-ctl unpatch, kcarectl --lib-unload $ms ms later"
		mixed l $ms
	fi
	i=$((i + 1))
done
echo "ok"
