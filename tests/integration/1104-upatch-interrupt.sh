#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Ctrl-C. While libcare-ctl waits for a thread to leave a function being
# replaced (--timeout 3), SIGINT or SIGTERM makes it roll back and exit 1
# at once with "libcare-ctl: PID: interrupted, rolled back": after an
# interrupted patch the process is untouched (memory equal to the file,
# the same executable mappings, no patch listed, still running); after an
# interrupted unpatch the patch is still applied and working.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/interrupt"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/interrupt.kpatch" --id interrupt

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 1$' 5

# hold N: a thread enters hold_fn() (version N) and stays there
hold() {
	_m=$(lines "$T/target.log")
	kill -USR1 $pid
	expect_line "$T/target.log" "^holding $1$" 5 "$_m"
}

release() {
	_m=$(lines "$T/target.log")
	kill -USR2 $pid
	expect_line "$T/target.log" "^released $1$" 5 "$_m"
}

# interrupted SIG VERB ARGS...: libcare-ctl VERB, with SIG's default
# disposition (as in a terminal: a background job of sh would ignore
# SIGINT), gets SIG after 0.5 s and must exit 1 within 1.5 s of it
interrupted() {
	_sig=$1
	shift
	env --default-signal=INT,TERM "$KC_CTL_BIN" "$@" --timeout 3 >"$T/ctl.out" 2>"$T/ctl.err" &
	_cpid=$!
	sleep 0.5
	alive $_cpid || fail "$*: libcare-ctl ended before $_sig: $(cat "$T/ctl.err")"
	_t0=$(now_ms)
	kill -"$_sig" $_cpid
	_n=0
	while alive $_cpid && [ $_n -lt 250 ]; do
		sleep 0.02
		_n=$((_n + 1))
	done
	_dt=$(($(now_ms) - _t0))
	alive $_cpid && kill -9 $_cpid
	wait $_cpid
	_st=$?
	echo "\$ libcare-ctl $* --timeout 3 (SIG$_sig after 0.5 s) -> $_st after $_dt ms"
	sed 's/^/  out: /' "$T/ctl.out"
	sed 's/^/  err: /' "$T/ctl.err"
	[ $_st = 1 ] || fail "$* with SIG$_sig: exit $_st, expected 1"
	[ $_dt -le 1500 ] || fail "$* with SIG$_sig: took $_dt ms to end"
	grep -q "^libcare-ctl: $pid: interrupted, rolled back$" "$T/ctl.err" ||
		fail "$* with SIG$_sig: no 'libcare-ctl: $pid: interrupted, rolled back' line"
}

for sig in INT TERM; do
	step "SIG$sig during a patch waiting for a busy thread: rolled back"
	hold 1
	exec_maps $pid >"$T/maps.before"
	interrupted $sig patch -p $pid "$T/interrupt.kpatch"
	grep -q ' patched ' "$T/ctl.out" && fail "interrupted, yet it says patched"
	untouched $pid "$T/target" hold_fn value_fn
	exec_maps $pid >"$T/maps.after"
	cmp -s "$T/maps.before" "$T/maps.after" ||
		fail "executable mappings changed: $(diff "$T/maps.before" "$T/maps.after")"
	expect_value "$T/target.log" '^value 1$'
	release 1
done

step "patch"
lcctl_ok patch -p $pid "$T/interrupt.kpatch"
expect_value "$T/target.log" '^value 2$'

for sig in INT TERM; do
	step "SIG$sig during an unpatch waiting for a busy thread: still patched"
	hold 2
	interrupted $sig unpatch -p $pid
	grep -q ' unpatched ' "$T/ctl.out" && fail "interrupted, yet it says unpatched"
	expect_patches $pid "interrupt:1:target"
	mem_patched $pid "$T/target" hold_fn value_fn
	expect_value "$T/target.log" '^value 2$'
	release 2
done

step "unpatch"
lcctl_ok unpatch -p $pid
expect_value "$T/target.log" '^value 1$'
mem_equal $pid "$T/target" hold_fn value_fn
alive $pid || fail "the target died"
echo "ok"
