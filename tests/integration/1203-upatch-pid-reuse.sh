#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# PID reuse (issue 14 item 4), in a PID namespace of the test's own, where
# ns_last_pid lets the test hand a dead process's PID to a new one. A
# second libcare-ctl waits for a first one that holds process A; A is
# killed and a new process B (the same program) gets A's PID. The waiting
# libcare-ctl, which read A's state, must not act on B: it skips with a note
# saying the PID was reused, and B carries no patch and keeps running.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "no unshare/nsenter"

src="$KC_SRC/busy"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix-spin.o" "$src/fix-spin.c"
cc_fix "$T/fix-slow.o" "$src/fix-slow.c"
pack --target "$T/target" --object "$T/fix-spin.o" -o "$T/spin.kpatch" --id spin
pack --target "$T/target" --object "$T/fix-slow.o" -o "$T/slow.kpatch" --id slow

# the namespace's PID 1: starts A, and on $T/go-N replaces it by a process with its PID
cat >"$T/inner.sh" <<'EOS'
T=$1
"$T/target" >"$T/a.log" 2>&1 &
a=$!
echo "A $a" >"$T/ns.log"
n=1
while [ $n -le 3 ]; do
	while [ ! -e "$T/go-$n" ]; do sleep 0.01; done
	kill -9 $a
	wait $a
	echo $((a - 1)) >/proc/sys/kernel/ns_last_pid
	"$T/target" >"$T/b$n.log" 2>&1 &
	echo "B$n $!" >>"$T/ns.log"
	n=$((n + 1))
done
wait
EOS
unshare --pid --fork --mount-proc sh "$T/inner.sh" "$T" >"$T/ns.out" 2>&1 &
track $!
wait_for_line "$T/ns.log" '^A [0-9]+$' 10 || skip "cannot make a PID namespace: $(cat "$T/ns.out")"
ns=""
for c in $(pgrep -P $!); do ns=$c; done
[ -n "$ns" ] || fail "no PID 1 in the namespace"
track $ns
a=$(sed -n 's/^A //p' "$T/ns.log")
ctl_ns() {
	nsenter -t $ns -p -m "$KC_CTL_BIN" "$@"
}

for n in 1 2 3; do
	step "try $n: libcare-ctl waits for another holding $a, which is replaced meanwhile"
	wait_for_line "$T/$([ $n = 1 ] && echo a || echo b$((n - 1))).log" '^spinning$' 5 ||
		fail "the target at pid $a does not spin"
	ctl_ns patch -p $a --timeout 2 "$T/spin.kpatch" >"$T/ctl1.out" 2>"$T/ctl1.err" &
	c1=$!
	sleep 0.5
	ctl_ns patch -p $a --timeout 10 "$T/slow.kpatch" >"$T/ctl2.out" 2>"$T/ctl2.err" &
	c2=$!
	sleep 0.5
	touch "$T/go-$n"
	wait_for_line "$T/ns.log" "^B$n [0-9]+\$" 5 || fail "no new process made"
	b=$(sed -n "s/^B$n //p" "$T/ns.log")
	wait $c2
	st=$?
	wait $c1
	echo "# new process $b; second libcare-ctl exited $st: $(cat "$T/ctl2.err")"
	[ "$b" = "$a" ] || skip "the namespace did not hand out pid $a again (got $b)"
	if grep -q 'has exited\|process .* exited' "$T/ctl2.err"; then
		continue # it looked while the PID was free: not this test's case, try again
	fi
	grep -q 'PID was reused' "$T/ctl2.err" || fail "no note about the reused PID: $(cat "$T/ctl2.err" "$T/ctl2.out")"
	[ $st = 1 ] || fail "second libcare-ctl exited $st, expected 1"
	nsenter -t $ns -p -m "$KC_CTL_BIN" info -p $b --json >"$T/info.json" || fail "info -p $b failed"
	grep -q '"id"' "$T/info.json" && fail "the new process carries a patch: $(cat "$T/info.json")"
	nsenter -t $ns -p -m sh -c "kill -0 $b" || fail "the new process died"
	echo "ok"
	exit 0
done
skip "the PID was free at every look of the waiting libcare-ctl"
