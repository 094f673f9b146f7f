#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `libcare-ctl patch -p all` honours kcarectl's blacklist: the packaged file
# (/var/lib/libcare/blacklist), replaced as a whole by the admin's
# (/var/cache/kcare/userspace/blacklist), both under $KCARE_ROOT. A
# blacklisted process that maps a target is skipped with a line naming the
# rule; --no-blacklist ignores the lists; a list that does not parse fails
# the run (one line, exit 1) before any process is touched; a PID given by
# hand is patched whatever the list says. Everything runs in a PID
# namespace of its own, so "all" means the two targets started here.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
src="$KC_SRC/race"
cc_prog "$T/target" "$KC_SRC/common/workers.c"
cp "$T/target" "$T/target-bl"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/race.kpatch" --id race
R="$T/root"
mkdir -p "$R/var/lib/libcare" "$R/var/cache/kcare/userspace"

pkg="$R/var/lib/libcare/blacklist"
adm="$R/var/cache/kcare/userspace/blacklist"
# N|SETUP (a shell command, or -)|ARGS, in a PID namespace (lib.sh's pidns_run)
printf '# packaged\nfilename: target-bl\n' >"$T/bl-pkg"
printf 'path:%s\n' "$T/target" >"$T/bl-adm"
printf 'paht:/x\n' >"$T/bl-bad"
cat >"$T/ns-cmds" <<EOF2
1|cp $T/bl-pkg $pkg|patch -p all $T/race.kpatch
2|-|info -p all --json
3|-|unpatch -p all
4|cp $T/bl-adm $adm|patch -p all $T/race.kpatch
5|-|info -p all --json
6|-|unpatch -p all
7|-|patch -p all --no-blacklist $T/race.kpatch
8|-|info -p all --json
9|-|unpatch -p all
10|cp $T/bl-bad $adm|patch -p all $T/race.kpatch
11|-|info -p all --json
EOF2
export KCARE_ROOT="$R"
pidns_run "$T/ns-cmds" "$T/target" "$T/target-bl"
p1=$(awk '$1 == "target" { print $2 }' "$T/ns-pids")
p2=$(awk '$1 == "target-bl" { print $2 }' "$T/ns-pids")

# patched N "PIDS": the info of run N lists a patch in exactly PIDS (sorted)
patched() {
	got=$("$KC_PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(" ".join(str(p["pid"]) for p in sorted(j, key=lambda p: p["pid"])
               if any(o["patches"] for o in p["objects"])))' "$T/ns-$1.out")
	[ "$got" = "$2" ] || fail "run $1: patched processes '$got', expected '$2'"
}

step "the packaged list names target-bl: only target is patched"
ns_expect 1 0
grep -q "^$p1: patched race level 1 " "$T/ns-1.out" || fail "target was not patched"
grep -qx "$p2: skipped $(re_quote "$T/target-bl"): blacklisted by filename:target-bl" "$T/ns-1.out" ||
	fail "no skip line for target-bl"
[ "$(grep -c ': skipped ' "$T/ns-1.out")" = 1 ] || fail "run 1: more than one skip line"
patched 2 "$p1"
ns_expect 3 0

step "the admin's list replaces the packaged one: only target-bl is patched"
ns_expect 4 0
grep -q "^$p2: patched race level 1 " "$T/ns-4.out" || fail "target-bl was not patched"
grep -qx "$p1: skipped $(re_quote "$T/target"): blacklisted by path:$(re_quote "$T/target")" "$T/ns-4.out" ||
	fail "no skip line for target"
patched 5 "$p2"
ns_expect 6 0

step "--no-blacklist: both"
ns_expect 7 0
patched 8 "$p1 $p2"
ns_expect 9 0

step "a list that does not parse: one line, exit 1, nothing patched"
ns_expect 10 1
[ "$(lines "$T/ns-10.err")" = 1 ] || fail "expected one line on stderr"
grep -q "^libcare-ctl: blacklist '.*': line 1: unknown rule type 'paht' (--no-blacklist ignores it)$" "$T/ns-10.err" ||
	fail "unexpected message"
patched 11 ""

step "a PID given by hand is patched whatever the list says"
printf 'filename:target\n' >"$adm"
start_target host "$T/target"
lcctl_ok patch -p "$TPID" "$T/race.kpatch"
out_has "^$TPID: patched race level 1 "
echo "ok"
