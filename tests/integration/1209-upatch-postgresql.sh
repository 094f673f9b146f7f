#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 13 item 3 on Debian's own PostgreSQL under connection churn: a
# temporary cluster (initdb as user postgres, Unix socket in the test's temp
# dir, no TCP), `pgbench -c 8` plus a reconnecting `pgbench -C -c 4` (a new
# backend forked for every transaction), and meanwhile rounds of
# `libcare-ctl patch -p all` / `unpatch -p all` with a hand-written fix of
# libc's lseek() (which every backend calls for every relation it plans),
# then rounds of `kcarectl --lib-update` / `--lib-unload` with the same fix
# from a local eportal. Each command exits 0 (a backend exiting at any step
# is gone, not a failure), and afterwards every live postgres process
# (postmaster, auxiliary processes, every backend, new ones included) is
# patched or clean. At the end every pgbench run reports 0 failed
# transactions and no aborted client. The whole test runs in a PID
# namespace of its own (kcarectl-lib.sh), so "all" is the test's processes.
# Rounds of each kind: 8, 25 with KC_SLOW=1 (about 4 minutes on 2 loaded
# CPUs), or KC_PG_ROUNDS.
. "$(dirname "$0")/kcarectl-lib.sh"
need_ctl

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pgbench" ] || skip "no PostgreSQL server binaries or pgbench"
id postgres >/dev/null 2>&1 || skip "no postgres user"
[ "$(id -u)" = 0 ] || skip "needs root to run the cluster as postgres"
if [ -n "${KC_SLOW:-}" ]; then
	ROUNDS=${KC_PG_ROUNDS:-25}
else
	ROUNDS=${KC_PG_ROUNDS:-8}
fi
# pgbench runs in chunks of this many seconds until the rounds are over
CHUNK=${KC_PG_CHUNK:-10}
ID=pg-lseek

step "a fix of libc's lseek(), a patchset of it on a local eportal"
libc=$(sed -n 's/^.* \(\/.*\/libc\.so\.6\)$/\1/p' /proc/$$/maps | head -1)
[ -n "$libc" ] || fail "no libc.so.6 in the test shell's maps"
readelf -W --dyn-syms /usr/lib/postgresql/*/bin/postgres | grep -q ' UND lseek@GLIBC_' ||
	fail "postgres does not call lseek() from libc"
cc_fix "$T/fix.o" "$KC_SRC/pg/lseek-fix.c"
pack --target "$libc" --object "$T/fix.o" -o "$T/lseek.kpatch" --id $ID --level 1 \
	--cve CVE-2026-1309
kc_feed_libs U20261206_01 "$T/lseek.kpatch"

step "a temporary PostgreSQL cluster as user postgres"
# the cluster lives in the test's temp dir: postgres may pass through it
chmod 711 "$T"
PG=$T/pg
mkdir "$PG"
chown postgres "$PG"
chmod 700 "$PG"
as_pg() {
	runuser -u postgres -- "$@"
}
pg_cleanup() {
	touch "$T/stop"
	as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m immediate stop >/dev/null 2>&1
	kc_cleanup
}
trap pg_cleanup EXIT
as_pg "$PGBIN/initdb" -D "$PG/data" -A trust -U postgres >"$T/initdb.log" 2>&1 ||
	fail "initdb: $(tail -5 "$T/initdb.log")"
as_pg "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w -t 60 \
	-o "-c listen_addresses='' -k $PG -c max_connections=40 -c fsync=off -c synchronous_commit=off" \
	start >"$T/pgctl.log" 2>&1 ||
	fail "pg_ctl start: $(cat "$T/pgctl.log") $(tail -5 "$PG/log" 2>/dev/null)"
as_pg "$PGBIN/createdb" -h "$PG" -U postgres bench || fail "createdb"
"$PGBIN/pgbench" -h "$PG" -U postgres -i -q -s 2 bench >"$T/init.out" 2>&1 ||
	fail "pgbench -i: $(tail -5 "$T/init.out")"

# load NAME PGBENCH-ARGS...: pgbench runs of CHUNK s, one after another, until $T/stop exists
load() {
	_ld_name=$1
	shift
	_ld_i=0
	while [ ! -e "$T/stop" ]; do
		_ld_i=$((_ld_i + 1))
		"$PGBIN/pgbench" -h "$PG" -U postgres -T "$CHUNK" "$@" bench \
			>"$T/$_ld_name.$_ld_i.out" 2>&1
		echo $? >"$T/$_ld_name.$_ld_i.rc"
	done
}
load steady -c 8 -j 2 &
track $!
load_steady=$!
load churn -C -c 4 &
track $!
load_churn=$!

# check_pg applied|clean: every postgres process in that state
check_pg() {
	lcctl_ok info -p all --json
	"$KC_PY" "$KC_SRC/pg/pgstate.py" "$T/ctl.out" "$1" $ID 6 ||
		fail "postgres processes in the wrong state after $2 (the postmaster is $(head -1 "$PG/data/postmaster.pid"))"
}

# no_undefined FILE: what an exiting backend gave before it counted as gone
no_undefined() {
	! grep -q 'undefined symbol' "$1" || fail "$2: $(grep 'undefined symbol' "$1" | head -1)"
}

# wait until both loads have their backends
n=0
while [ "$(pgrep -c -x postgres)" -lt 14 ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done

r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	step "libcare-ctl round $r/$ROUNDS: patch -p all under pgbench ($(pgrep -c -x postgres) postgres processes)"
	lcctl_ok patch -p all "$T/lseek.kpatch"
	no_undefined "$T/ctl.err" "patch -p all"
	# a backend forked from the changed postmaster, found by a later pass
	grep -c 'already applied' "$T/ctl.out" >>"$T/later"
	check_pg applied "patch -p all"
	step "libcare-ctl round $r/$ROUNDS: unpatch -p all"
	lcctl_ok unpatch -p all --id $ID
	no_undefined "$T/ctl.err" "unpatch -p all"
	check_pg clean "unpatch -p all"
done

r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	step "kcarectl round $r/$ROUNDS: --lib-update under pgbench ($(pgrep -c -x postgres) postgres processes)"
	kc_ok --lib-update
	no_undefined "$T/kc.err" "--lib-update"
	check_pg applied "--lib-update"
	step "kcarectl round $r/$ROUNDS: --lib-unload"
	kc_ok --lib-unload
	no_undefined "$T/kc.err" "--lib-unload"
	check_pg clean "--lib-unload"
done

echo "# processes forked during patch -p all and found by a later pass: $(awk '{ n += $1 } END { print n + 0 }' "$T/later")"

step "pgbench: every run ends, 0 failed transactions, no aborted client"
touch "$T/stop"
wait $load_steady $load_churn
runs=0
for f in "$T"/steady.*.out "$T"/churn.*.out; do
	[ -s "$f" ] || fail "no output from pgbench ($(basename "$f"))"
	runs=$((runs + 1))
	rc=$(cat "${f%.out}.rc")
	echo "$(basename "$f"): exit $rc, $(sed -n 's/^number of \(transactions actually processed\|failed transactions\): //p' "$f" | tr '\n' ' ')"
	[ "$rc" = 0 ] || fail "pgbench $(basename "$f") exited $rc: $(grep -iE 'error|abort|fatal' "$f" | head -3)"
	grep -q '^number of failed transactions: 0 ' "$f" || fail "pgbench $(basename "$f"): failed transactions: $(grep -E '^number of (failed|transactions)' "$f")"
	grep -q '^number of transactions actually processed: [1-9]' "$f" || fail "pgbench $(basename "$f") processed nothing"
	! grep -Eiq 'aborted|error|fatal' "$f" || fail "pgbench $(basename "$f"): $(grep -Eim1 'aborted|error|fatal' "$f")"
done
[ $runs -ge 2 ] || fail "pgbench did not run"
! grep -E 'PANIC|server process .* was terminated' "$PG/log" || fail "the server crashed: see above"
echo "ok"
