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
cat >"$T/ns-cmds" <<EOF
1|-|unpatch -p all --id three
2|-|patch -p all $T/three.kpatch
3|-|unpatch -p all --id typo
4|-|unpatch -p all --id three
5|-|unpatch -p all
EOF
pidns_run "$T/ns-cmds" "$T/target"
nspid=$(awk '$1 == "target" { print $2 }' "$T/ns-pids")
ns_one_line() {
	[ "$(lines "$T/ns-$1.err")" = 1 ] || fail "run $1: expected one line on stderr"
}
ns_expect 1 1
ns_one_line 1
grep -qx "libcare-ctl: no process carries patch 'three'" "$T/ns-1.err" || fail "run 1: wrong message"
ns_expect 2 0
grep -q "^$nspid: patched three level 1 " "$T/ns-2.out" || fail "run 2 did not patch"
ns_expect 3 1
ns_one_line 3
grep -qx "libcare-ctl: no process carries patch 'typo'" "$T/ns-3.err" || fail "run 3: wrong message"
ns_expect 4 0
grep -q "^$nspid: unpatched three level 1 " "$T/ns-4.out" || fail "run 4 did not unpatch"
ns_expect 5 1
ns_one_line 5
grep -qx "libcare-ctl: no process carries a patch" "$T/ns-5.err" || fail "run 5: wrong message"
echo "ok"
