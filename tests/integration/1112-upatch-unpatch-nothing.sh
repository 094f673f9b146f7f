#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# An unpatch that removes nothing is a failure, not a silent success: a
# mistyped --id or --build-id, or a patch someone else removed already,
# gets one line and exit 1, and the patch that was asked about (if any)
# stays live. Per process the run says what it removed. `-p all` runs in a
# PID namespace of its own (never touching other processes of the host):
# when no process carries the patch, one line says so.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/unpatch"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix-three.o" "$src/fix-three.c"
pack --target "$T/target" --object "$T/fix-three.o" -o "$T/three.kpatch" --id three

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^values 1 2 3$' 5
lcctl_ok patch -p $pid "$T/three.kpatch"
expect_value "$T/target.log" '^values 101 102 103$'

step "unpatch --id typo: one line, exit 1, the patch stays live"
lcctl_fails unpatch -p $pid --id typo
err_has "^libcare-ctl: $pid: no patch 'typo' is applied$"
expect_patches $pid "three:1:target"
mem_patched $pid "$T/target" f1 f2 f3

step "unpatch --build-id of no object: one line, exit 1"
lcctl_fails unpatch -p $pid --build-id 0123456789abcdef
err_has "^libcare-ctl: $pid: no patch for build-id 0123456789abcdef is applied$"
expect_patches $pid "three:1:target"

step "unpatch --id three: says what it removed"
lcctl_ok unpatch -p $pid --id three
out_has "^$pid: unpatched three level 1 from $(re_quote "$T/target")$"
expect_value "$T/target.log" '^values 1 2 3$'

step "the same unpatch again (removed already): exit 1"
lcctl_fails unpatch -p $pid --id three
err_has "^libcare-ctl: $pid: no patch 'three' is applied$"
lcctl_fails unpatch -p $pid
err_has "^libcare-ctl: $pid: no patch is applied$"

step "-p all in a PID namespace of its own"
command -v unshare >/dev/null || skip "no unshare"
unshare --fork --pid --mount-proc true 2>/dev/null ||
	skip "unshare --fork --pid --mount-proc is not permitted here"
# the namespace's init starts its own target, then runs each command
# (N ARGS...) with output in $T/ns-N.{out,err,rc}
cat >"$T/ns.sh" <<'EOF'
T=$1 CTL=$2
"$T/target" >"$T/ns-target.log" 2>&1 &
i=0
until grep -q '^ready' "$T/ns-target.log"; do
	i=$((i + 1))
	[ $i -lt 100 ] || exit 3
	sleep 0.1
done
echo $! >"$T/ns-pid"
run() {
	n=$1
	shift
	timeout 30 "$CTL" "$@" >"$T/ns-$n.out" 2>"$T/ns-$n.err"
	echo $? >"$T/ns-$n.rc"
}
run 1 unpatch -p all --id three
run 2 patch -p all "$T/three.kpatch"
run 3 unpatch -p all --id typo
run 4 unpatch -p all --id three
run 5 unpatch -p all
EOF
timeout 120 unshare --fork --pid --mount-proc --kill-child sh "$T/ns.sh" "$T" "$KC_CTL_BIN" ||
	fail "the namespace's script failed ($?)"
nspid=$(cat "$T/ns-pid")
# ns_expect N RC: run N exited RC (its output echoed to the log)
ns_expect() {
	echo "\$ (in the namespace) run $1 -> $(cat "$T/ns-$1.rc")"
	sed 's/^/  out: /' "$T/ns-$1.out"
	sed 's/^/  err: /' "$T/ns-$1.err"
	[ "$(cat "$T/ns-$1.rc")" = "$2" ] || fail "run $1 exited $(cat "$T/ns-$1.rc"), expected $2"
	[ "$2" = 0 ] || [ "$(lines "$T/ns-$1.err")" = 1 ] || fail "run $1: expected one line on stderr"
}
ns_expect 1 1
grep -qx "libcare-ctl: no process carries patch 'three'" "$T/ns-1.err" || fail "run 1: wrong message"
ns_expect 2 0
grep -q "^$nspid: patched three level 1 " "$T/ns-2.out" || fail "run 2 did not patch"
ns_expect 3 1
grep -qx "libcare-ctl: no process carries patch 'typo'" "$T/ns-3.err" || fail "run 3: wrong message"
ns_expect 4 0
grep -q "^$nspid: unpatched three level 1 " "$T/ns-4.out" || fail "run 4 did not unpatch"
ns_expect 5 1
grep -qx "libcare-ctl: no process carries a patch" "$T/ns-5.err" || fail "run 5: wrong message"
echo "ok"
