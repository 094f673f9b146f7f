#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile targets: processes that exec themselves (also from a non-leader
# thread), fork, spawn 100 threads a second (1000 with KC_SLOW=1) or exit
# while they are patched and unpatched. Every libcare-ctl run ends in
# bounded time (KC_CMD_TIMEOUT, here 15 s by default) with success or a
# clean error (exit 1, one "libcare-ctl: " line), never a crash or a
# hang; the targets never crash, and whatever a successful run did shows
# in their output (forked children and new threads run the new code).
: "${KC_CMD_TIMEOUT:=15}"
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

if [ -n "${KC_SLOW:-}" ]; then
	cycles=${KC_HOSTILE_CYCLES:-40}
	spawn_us=1000
else
	cycles=${KC_HOSTILE_CYCLES:-8}
	spawn_us=10000
fi
src="$KC_SRC/hostile"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/hostile.kpatch" --id hostile

# outcome: the last libcare-ctl run succeeded or failed cleanly; tallies
outcome() {
	case $KC_RC in
	0) OK=$((OK + 1)) ;;
	1)
		[ "$(lines "$T/ctl.err")" = 1 ] && grep -q '^libcare-ctl: ' "$T/ctl.err" ||
			fail "exit 1 without a one-line error: $(cat "$T/ctl.err")"
		ERRS=$((ERRS + 1))
		sed 's/[0-9][0-9]*/N/g' "$T/ctl.err" >>"$T/errors"
		;;
	*) fail "libcare-ctl exited $KC_RC: $(cat "$T/ctl.err")" ;;
	esac
}

# tally NAME: how the runs went, and the kinds of errors
tally() {
	echo "# $1: $OK runs succeeded, $ERRS failed cleanly"
	[ -f "$T/errors" ] && sort "$T/errors" | uniq -c | sed 's/^/#   /'
	rm -f "$T/errors"
}

# died NAME PID: fails if PID is really gone: during an exec from a
# non-leader thread the old leader shows as a zombie for a moment
died() {
	sleep 0.1
	alive "$2" && return 0
	wait "$2"
	fail "$1: the target died (wait status $?): $(tail -n 3 "$T/$1.log" "$T/$1.err")"
}

# run_cycles NAME PID [CHECK-PREFIX]: patch and unpatch PID $cycles times; with
# CHECK-PREFIX, each successful run is followed by a line
# "CHECK-PREFIX value 2" (1 after unpatch) in NAME's output
run_cycles() {
	OK=0
	ERRS=0
	_i=0
	while [ $_i -lt "$cycles" ]; do
		for _v in 2 1; do
			_m=$(lines "$T/$1.log")
			if [ $_v = 2 ]; then
				lcctl patch -p "$2" "$T/hostile.kpatch" >/dev/null
			else
				lcctl unpatch -p "$2" >/dev/null
			fi
			outcome
			[ -n "${3:-}" ] && [ $KC_RC = 0 ] && expect_line "$T/$1.log" "^$3 value $_v$" 5 "$_m"
			alive "$2" || died "$1" "$2"
		done
		_i=$((_i + 1))
	done
	no_line "$T/$1.log" '^BAD'
	tally "$1"
}

# unpatched PID: a last unpatch (retried: the target is still hostile)
# leaves the original code; one that finds no patch left (the cycles
# ended with a successful unpatch) says so and exits 1
unpatched() {
	_n=0
	while [ $_n -lt 5 ]; do
		lcctl unpatch -p "$1" >/dev/null
		[ $KC_RC = 0 ] && break
		[ $KC_RC = 1 ] && grep -q '^libcare-ctl: [0-9]*: no patch is applied$' "$T/ctl.err" && break
		_n=$((_n + 1))
	done
	[ $KC_RC = 0 ] || grep -q 'no patch is applied$' "$T/ctl.err" ||
		fail "unpatch failed 5 times: $(cat "$T/ctl.err")"
	mem_equal "$1" "$T/target" value_fn
	expect_patches "$1" ""
}

step "a process forking a child every 10 ms"
start_target fork "$T/target" fork
pid=$TPID
run_cycles fork $pid child
unpatched $pid
kill -9 $pid

step "a process spawning a thread every $spawn_us us"
start_target threads "$T/target" threads $spawn_us
pid=$TPID
run_cycles threads $pid "threads $spawn_us"
unpatched $pid
kill -9 $pid

step "a process exec'ing itself every 20 ms, from main or from another thread"
start_target exec "$T/target" exec 0
pid=$TPID
run_cycles exec $pid
# after the last unpatch, a new image is clean whatever the last run did
gen=$(tail -1 "$T/exec.log" | sed -n 's/^exec \([0-9]*\) .*/\1/p')
expect_line "$T/exec.log" "^exec $((gen + 2)) value 1$" 10
echo "# generation $((gen + 2)) reached"
# info may fail cleanly when the process execs while it reads it: retry
n=0
while [ $n -lt 5 ]; do
	lcctl info -p $pid --json >/dev/null
	[ $KC_RC = 0 ] && break
	n=$((n + 1))
done
[ $KC_RC = 0 ] || fail "info failed 5 times: $(cat "$T/ctl.err")"
cp "$T/ctl.out" "$T/info.json"
[ -z "$("$KC_PY" "$KC_TOOL" info "$T/info.json")" ] || fail "a patch is listed after the last unpatch and two execs"
kill -9 $pid

step "processes exiting while patched, from main or from another thread"
OK=0
ERRS=0
i=0
while [ $i -lt 20 ]; do
	ms=$((i * 7 % 41 + 1))
	i=$((i + 1))
	"$T/target" exit $ms >"$T/exit.log" 2>&1 &
	xpid=$!
	track $xpid
	lcctl patch -p $xpid "$T/hostile.kpatch" >/dev/null
	outcome
	wait $xpid
	st=$?
	[ $st = 0 ] || fail "a process exiting after $ms ms while patched exited $st: $(cat "$T/exit.log")"
done
tally exiting
echo "ok"
