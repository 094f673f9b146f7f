#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Job control survives patching. A process stopped by SIGSTOP is patched
# (and unpatched) and stays stopped afterwards: every thread in state T,
# no output; after SIGCONT it runs the new (old) code. SIGSTOP sent while
# libcare-ctl works on a running process leaves it stopped once
# libcare-ctl is done; SIGCONT sent while it works on a stopped process
# leaves it running. The signals land at several delays (0..19 ms) so
# that they hit every phase of the operation.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/stop"
cc_prog "$T/target" "$KC_SRC/common/workers.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/stop.kpatch" --id stop

# thread_states PID: the distinct state letters of the process's threads
thread_states() {
	for _f in /proc/$1/task/*/stat; do
		sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "$_f" 2>/dev/null
	done | sort -u | tr -d '\n'
}

# expect_stopped PID WHAT: every thread reaches group stop (T, not the
# tracing stop t) within 2 s and the output stays still for 300 ms
expect_stopped() {
	_n=100
	while [ "$(thread_states "$1")" != T ] && [ $_n -gt 0 ]; do
		sleep 0.02
		_n=$((_n - 1))
	done
	[ "$(thread_states "$1")" = T ] || fail "$2: thread states '$(thread_states "$1")', expected all T"
	_m=$(lines "$T/target.log")
	sleep 0.3
	[ "$(lines "$T/target.log")" = "$_m" ] || fail "$2: the stopped process printed: $(tail -1 "$T/target.log")"
	[ "$(thread_states "$1")" = T ] || fail "$2: thread states '$(thread_states "$1")' 300 ms later"
}

# expect_running PID WHAT VALUE: the process prints again, and then VALUE
expect_running() {
	_m=$(lines "$T/target.log")
	wait_for_line "$T/target.log" '^value ' 2 "$_m" || fail "$2: not running (states '$(thread_states "$1")')"
	expect_value "$T/target.log" "^value $3$"
}

# ctl_bg VERB: libcare-ctl patch or unpatch in the background, pid in CPID
ctl_bg() {
	if [ "$1" = patch ]; then
		timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" patch -p $pid "$T/stop.kpatch" >"$T/ctl.out" 2>"$T/ctl.err" &
	else
		timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" unpatch -p $pid >"$T/ctl.out" 2>"$T/ctl.err" &
	fi
	CPID=$!
}

ctl_wait() {
	wait $CPID
	_st=$?
	[ $_st = 0 ] || fail "$1: libcare-ctl exited $_st: $(cat "$T/ctl.err")"
}

sleep_ms() {
	[ "$1" = 0 ] || sleep "$(printf '0.%03d' "$1")"
}

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 1$' 5

step "patch a stopped process: it stays stopped, and runs the fix after SIGCONT"
kill -STOP $pid
expect_stopped $pid "after SIGSTOP"
lcctl_ok patch -p $pid "$T/stop.kpatch"
out_has "^$pid: patched stop level 1 "
expect_stopped $pid "after patch"
mem_patched $pid "$T/target" value_fn
expect_patches $pid "stop:1:target"
kill -CONT $pid
expect_running $pid "after SIGCONT" 2

step "unpatch a stopped process: it stays stopped, and runs the original after SIGCONT"
kill -STOP $pid
expect_stopped $pid "after SIGSTOP"
lcctl_ok unpatch -p $pid
expect_stopped $pid "after unpatch"
mem_equal $pid "$T/target" value_fn
kill -CONT $pid
expect_running $pid "after SIGCONT" 1

step "SIGSTOP during patch and unpatch: stopped afterwards"
# A SIGSTOP taken by a borrowed thread is stashed and queued back to it.
for ms in 0 1 2 3 5 7 9 12 15 19; do
	for verb in patch unpatch; do
		ctl_bg $verb
		sleep_ms $ms
		kill -STOP $pid
		ctl_wait "$verb with SIGSTOP after $ms ms"
		expect_stopped $pid "$verb with SIGSTOP after $ms ms"
		kill -CONT $pid
		[ $verb = patch ] && v=2 || v=1
		expect_running $pid "SIGCONT after $verb with SIGSTOP after $ms ms" $v
	done
done

step "SIGCONT during patch and unpatch of a stopped process: running afterwards"
for ms in 0 1 2 3 5 7 9 12 15 19; do
	for verb in patch unpatch; do
		kill -STOP $pid
		expect_stopped $pid "before $verb"
		ctl_bg $verb
		sleep_ms $ms
		kill -CONT $pid
		ctl_wait "$verb with SIGCONT after $ms ms"
		[ $verb = patch ] && v=2 || v=1
		expect_running $pid "$verb with SIGCONT after $ms ms" $v
	done
done
mem_equal $pid "$T/target" value_fn
expect_patches $pid ""
alive $pid || fail "the target died"
echo "ok"
