#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The kcarectl tests never touch a process they did not start: a process
# live-patched outside them (as a service is on the host of someone who runs
# make check) is still patched after 6101 ran its --lib-update and
# --lib-unload. The control shows the check can fail: in a PID namespace of
# this test's own, the same patched process next to a 6101 that is told it is
# already confined (KC_IN_PIDNS=1) is acted on (6101 counts it as its own,
# and fails, or its --lib-unload removes the patch).
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
command -v unshare >/dev/null && unshare --fork --pid --mount-proc true 2>/dev/null ||
	skip "unshare --fork --pid --mount-proc is not permitted here"

cc_prog "$T/target" "$KC_SRC/common/workers.c"
cc_fix "$T/fix.o" "$KC_SRC/race/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/foreign.kpatch" --id foreign

step "a patched process outside the test, then 6101"
start_target foreign "$T/target"
pid=$TPID
lcctl_ok patch -p $pid "$T/foreign.kpatch"
expect_patches $pid "foreign:1:target"
sh "$KC_TOP/tests/integration/6101-kcarectl-libcare.sh" >"$T/6101.log" 2>&1 ||
	fail "6101 failed: $(tail -5 "$T/6101.log")"
alive $pid || fail "the foreign process died"
expect_patches $pid "foreign:1:target"

step "control: 6101 unconfined, next to the patched process, in a namespace of ours"
cat >"$T/control.sh" <<'EOF'
"$1" >"$2/c-target.log" 2>&1 &
tpid=$!
i=0
until grep -q '^ready' "$2/c-target.log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "target did not start"; exit 2; }
	sleep 0.1
done
"$3" patch -p $tpid "$4" >/dev/null || { echo "patch failed"; exit 2; }
# the neighbour's patch makes 6101 fail, or its --lib-unload removes the patch
KC_IN_PIDNS=1 sh "$5" >"$2/c-6101.log" 2>&1 || { echo "interfered: 6101 failed"; kill -9 $tpid; exit 0; }
"$3" info -p $tpid --json >"$2/c-info.json" || { echo "info failed"; exit 2; }
grep -q '"foreign"' "$2/c-info.json" && echo "left alone" || echo "interfered: unpatched"
kill -9 $tpid
EOF
timeout 300 unshare --fork --pid --mount-proc --kill-child sh "$T/control.sh" "$T/target" "$T" \
	"$KC_CTL_BIN" "$T/foreign.kpatch" "$KC_TOP/tests/integration/6101-kcarectl-libcare.sh" >"$T/control.out" 2>&1
grep -q '^interfered' "$T/control.out" ||
	fail "control: an unconfined 6101 should have acted on its neighbour; it said: $(cat "$T/control.out")"
echo "# control: $(cat "$T/control.out")"
echo "ok"
