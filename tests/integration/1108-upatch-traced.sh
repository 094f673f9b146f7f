#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A process traced by another tool (strace here; a debugger is the same
# to the kernel): patch and unpatch fail with exit 1 and "already traced
# by process N" (N the tracer), and leave the process untouched, whether
# the tracer holds every thread (strace -f -p PID), a single non-leader
# thread (strace -p TID) or stops the process (gdb -p PID, when gdb is
# installed). Once the tracer has let go, patching works.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
command -v strace >/dev/null || skip "no strace"

src="$KC_SRC/traced"
cc_prog "$T/target" "$KC_SRC/common/workers.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/traced.kpatch" --id traced

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 1$' 5

tracer_of() {
	sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null
}

# strace_on ID ARGS...: strace ARGS in the background until thread ID is
# traced by it; its pid in SPID
strace_on() {
	_id=$1
	shift
	strace -o /dev/null "$@" 2>"$T/strace.err" &
	SPID=$!
	track $SPID
	_n=250
	while [ "$(tracer_of "$_id")" != $SPID ] && [ $_n -gt 0 ]; do
		sleep 0.02
		_n=$((_n - 1))
	done
	[ "$(tracer_of "$_id")" = $SPID ] || skip "strace $* could not attach: $(cat "$T/strace.err")"
}

strace_off() {
	kill -TERM $SPID
	wait $SPID
	[ "$(tracer_of "$1")" = 0 ] || fail "strace did not let go of $1"
}

step "strace -f -p $pid"
strace_on $pid -f -p $pid
lcctl_fails patch -p $pid "$T/traced.kpatch"
err_has "^libcare-ctl: $pid: .*already traced by process $SPID"
untouched $pid "$T/target" value_fn
[ "$(tracer_of $pid)" = $SPID ] || fail "strace lost the process"
strace_off $pid

step "strace -p TID of one worker thread"
tid=""
for d in /proc/$pid/task/*; do
	[ "${d##*/}" = $pid ] || tid=${d##*/}
done
[ -n "$tid" ] || fail "no worker thread"
strace_on $tid -p $tid
[ "$(tracer_of $pid)" = 0 ] || fail "the leader is traced too"
lcctl_fails patch -p $pid "$T/traced.kpatch"
err_has "^libcare-ctl: $pid: .*already traced by process $SPID"
untouched $pid "$T/target" value_fn
strace_off $tid

if command -v gdb >/dev/null; then
	step "gdb -p $pid"
	# gdb holds the process until the file go exists, then detaches and quits
	gdb -q -batch -nx -p $pid -ex "shell while [ ! -e '$T/go' ]; do sleep 0.05; done" \
		>"$T/gdb.out" 2>&1 &
	gpid=$!
	track $gpid
	n=1000
	while [ "$(tracer_of $pid)" != $gpid ] && alive $gpid && [ $n -gt 0 ]; do
		sleep 0.02
		n=$((n - 1))
	done
	if [ "$(tracer_of $pid)" = $gpid ]; then
		lcctl_fails patch -p $pid "$T/traced.kpatch"
		err_has "^libcare-ctl: $pid: .*already traced by process $gpid"
		untouched $pid "$T/target" value_fn
		touch "$T/go"
		wait $gpid
		n=250
		while [ "$(tracer_of $pid)" != 0 ] && [ $n -gt 0 ]; do
			sleep 0.02
			n=$((n - 1))
		done
		[ "$(tracer_of $pid)" = 0 ] || fail "gdb did not let go"
	else
		echo "# gdb could not attach: $(tail -n 2 "$T/gdb.out")"
		kill -9 $gpid
	fi
fi

step "after the tracer left: patch, then unpatch refused while traced"
lcctl_ok patch -p $pid "$T/traced.kpatch"
expect_value "$T/target.log" '^value 2$'
strace_on $pid -f -p $pid
lcctl_fails unpatch -p $pid
err_has "^libcare-ctl: $pid: .*already traced by process $SPID"
expect_patches $pid "traced:1:target"
mem_patched $pid "$T/target" value_fn
strace_off $pid
lcctl_ok unpatch -p $pid
expect_value "$T/target.log" '^value 1$'
mem_equal $pid "$T/target" value_fn
alive $pid || fail "the target died"
echo "ok"
