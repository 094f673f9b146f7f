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
command -v unshare >/dev/null || skip "no unshare"
unshare --fork --pid --mount-proc true 2>/dev/null ||
	skip "unshare --fork --pid --mount-proc is not permitted here"

src="$KC_SRC/race"
cc_prog "$T/target" "$KC_SRC/common/workers.c"
cp "$T/target" "$T/target-bl"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/race.kpatch" --id race
R="$T/root"
mkdir -p "$R/var/lib/libcare" "$R/var/cache/kcare/userspace"

# The namespace's init starts both targets and runs each command line of
# $T/cmds (N ARGS...), output in $T/ns-N.{out,err,rc}; pids in $T/ns-pids.
cat >"$T/ns.sh" <<'NS'
T=$1 CTL=$2
for t in target target-bl; do
	"$T/$t" >"$T/ns-$t.log" 2>&1 &
	echo "$t $!" >>"$T/ns-pids"
done
for t in target target-bl; do
	i=0
	until grep -q '^ready' "$T/ns-$t.log"; do
		i=$((i + 1))
		[ $i -lt 100 ] || exit 3
		sleep 0.1
	done
done
while IFS='|' read -r n setup args; do
	[ "$setup" = - ] || sh -c "$setup"
	eval "set -- $args"
	KCARE_ROOT="$T/root" timeout 30 "$CTL" "$@" >"$T/ns-$n.out" 2>"$T/ns-$n.err"
	echo $? >"$T/ns-$n.rc"
done <"$T/cmds"
NS
pkg="$R/var/lib/libcare/blacklist"
adm="$R/var/cache/kcare/userspace/blacklist"
# N|SETUP (a shell command, or -)|ARGS
printf '# packaged\nfilename: target-bl\n' >"$T/bl-pkg"
printf 'path:%s\n' "$T/target" >"$T/bl-adm"
printf 'paht:/x\n' >"$T/bl-bad"
cat >"$T/cmds" <<EOF2
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
timeout 300 unshare --fork --pid --mount-proc --kill-child sh "$T/ns.sh" "$T" "$KC_CTL_BIN" ||
	fail "the namespace's script failed ($?)"
p1=$(awk '$1 == "target" { print $2 }' "$T/ns-pids")
p2=$(awk '$1 == "target-bl" { print $2 }' "$T/ns-pids")

# ns_expect N RC: run N exited RC (its output echoed to the log)
ns_expect() {
	echo "\$ (in the namespace) run $1 -> $(cat "$T/ns-$1.rc")"
	sed 's/^/  out: /' "$T/ns-$1.out" | grep -v '^  out:  '
	sed 's/^/  err: /' "$T/ns-$1.err"
	[ "$(cat "$T/ns-$1.rc")" = "$2" ] || fail "run $1 exited $(cat "$T/ns-$1.rc"), expected $2"
}
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
export KCARE_ROOT="$R"
lcctl_ok patch -p "$TPID" "$T/race.kpatch"
out_has "^$TPID: patched race level 1 "
echo "ok"
