#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# pgbench latency on Debian's PostgreSQL, without patching and while
# `libcare-ctl patch -p all` / `unpatch -p all` of a libc fix (test 1209's
# lseek() wrapper) run one after another over the postmaster and every
# backend: a temporary cluster (initdb as user postgres, Unix socket in the
# temp dir), `pgbench -c 8 -j 2` (measured, per-transaction log) plus a
# reconnecting `pgbench -C -c 4` (measured too), the same seconds each phase.
# Prints p50/p99/max latency, tps, the rounds done and their failures; never
# fails on a figure. Runs in a PID namespace of its own (as the tests do), so
# "-p all" means the benchmark's processes only.
# usage: sh bench/pg-bench.sh [BUILDDIR]
# Environment: BENCH_PG_SECONDS (per phase, default 30), BENCH_KEEP=1.
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$TOP/build}" 2>/dev/null && pwd) || {
	echo "# PostgreSQL benchmark: no build directory '${1:-$TOP/build}'"
	exit 1
}
if [ -z "${KC_IN_PIDNS:-}" ]; then
	command -v unshare >/dev/null && unshare --fork --pid --mount-proc true 2>/dev/null || {
		echo "# PostgreSQL benchmark: cannot make a PID namespace (unshare --pid --mount-proc)"
		exit 1
	}
	KC_IN_PIDNS=1 exec unshare --fork --pid --mount-proc --kill-child sh "$0" "$BUILD"
fi
CTL=$BUILD/src/agent/libcare-ctl
PACK=$BUILD/src/agent/kcare-build
SECS=${BENCH_PG_SECONDS:-30}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$CTL" ] && [ -x "$PACK" ] || {
	echo "# PostgreSQL benchmark: libcare-ctl or kcare-build not built in $BUILD"
	exit 1
}
[ -n "$PGBIN" ] && [ -x "$PGBIN/pgbench" ] && id postgres >/dev/null 2>&1 && [ "$(id -u)" = 0 ] || {
	echo "# PostgreSQL benchmark: needs root, Debian's postgresql and its postgres user"
	exit 1
}
T=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/kcb-pg.XXXXXX")" && pwd -P) || exit 1
PG=$T/pg
as_pg() {
	runuser -u postgres -- "$@"
}
cleanup() {
	as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m immediate stop >/dev/null 2>&1
	if [ -n "${BENCH_KEEP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
die() {
	echo "# PostgreSQL benchmark: $*"
	exit 1
}

libc=$(sed -n 's/^.* \(\/.*\/libc\.so\.6\)$/\1/p' /proc/$$/maps | head -1)
gcc -O2 -fPIC -ffunction-sections -fdata-sections -c -o "$T/fix.o" "$TOP/tests/integration/src/pg/lseek-fix.c" &&
	"$PACK" pack --target "$libc" --object "$T/fix.o" -o "$T/lseek.kpatch" --id pg-lseek >/dev/null ||
	die "cannot build the libc fix"
chmod 711 "$T"
mkdir "$PG" && chown postgres "$PG" && chmod 700 "$PG" || die "cannot make the cluster's directory"
as_pg "$PGBIN/initdb" -D "$PG/data" -A trust -U postgres >"$T/initdb.log" 2>&1 || die "initdb failed"
as_pg "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w -t 60 \
	-o "-c listen_addresses='' -k $PG -c max_connections=40 -c fsync=off -c synchronous_commit=off" \
	start >"$T/pgctl.log" 2>&1 || die "pg_ctl start failed: $(tail -3 "$PG/log")"
as_pg "$PGBIN/createdb" -h "$PG" -U postgres bench && "$PGBIN/pgbench" -h "$PG" -U postgres -i -q -s 2 bench \
	>"$T/init.out" 2>&1 || die "pgbench -i failed"

# phase NAME: both pgbench runs for SECS s; with NAME "rounds", patch/unpatch -p all meanwhile
phase() {
	"$PGBIN/pgbench" -h "$PG" -U postgres -T "$SECS" -c 8 -j 2 --log --log-prefix="$T/log-$1-steady" \
		bench >"$T/$1-steady.out" 2>&1 &
	_ph_steady=$!
	"$PGBIN/pgbench" -h "$PG" -U postgres -T "$SECS" -C -c 4 --log --log-prefix="$T/log-$1-churn" \
		bench >"$T/$1-churn.out" 2>&1 &
	_ph_churn=$!
	rounds=0
	fails=0
	if [ "$1" = rounds ]; then
		sleep 1
		while kill -0 $_ph_steady 2>/dev/null; do
			"$CTL" patch -p all "$T/lseek.kpatch" >"$T/ctl.out" 2>"$T/ctl.err" || {
				fails=$((fails + 1))
				head -1 "$T/ctl.err" >>"$T/notes"
			}
			"$CTL" unpatch -p all --id pg-lseek >"$T/ctl.out" 2>"$T/ctl.err" || {
				fails=$((fails + 1))
				head -1 "$T/ctl.err" >>"$T/notes"
			}
			rounds=$((rounds + 1))
		done
	fi
	wait $_ph_steady $_ph_churn
}

# row PHASE KIND: latency figures of one pgbench run from its per-transaction logs (column 3, µs)
row() {
	_r_tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$T/$1-$2.out" | head -1)
	_r_failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$T/$1-$2.out")
	cat "$T/log-$1-$2".* 2>/dev/null | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n | awk \
		-v ph="$1" -v k="$2" -v tps="${_r_tps:--}" -v f="${_r_failed:--}" -v r="$3" -v fig="$T/fig" '
		function at(p,  i) { i = int(NR * p + 0.5); if (i < 1) i = 1; return v[i] / 1000 }
		{ v[NR] = $1 }
		END {
			if (NR == 0) { printf "%-8s %-6s %8s %8s %9s %9s %9s %7s %s\n", ph, k, 0, tps, "-", "-", "-", f, r; exit }
			printf "%-8s %-6s %8d %8.0f %9.2f %9.2f %9.2f %7s %s\n", ph, k, NR, tps, at(0.50), at(0.99), v[NR] / 1000, f, r
			printf "%s %s %.2f %.2f\n", ph, k, at(0.50), at(0.99) >> fig
		}'
}

# diff KIND: p50 and p99 during the rounds minus without them
diff_row() {
	awk -v k="$1" '$2 == k { p50[$1] = $3; p99[$1] = $4 }
		END { if ("base" in p50 && "rounds" in p50)
			printf "# %s: p50 %+.2f ms, p99 %+.2f ms during the rounds\n", k, p50["rounds"] - p50["base"], p99["rounds"] - p99["base"] }' "$T/fig"
}

echo "# PostgreSQL $("$PGBIN/postgres" --version | sed -n 's/.*(PostgreSQL) \([^ ]*\).*/\1/p'): pgbench -c 8 -j 2 (steady) and -C -c 4 (churn), $SECS s per phase, $(nproc) CPUs"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
phase base
b_rounds=$rounds
phase rounds
echo "## pgbench latency in ms (per-transaction logs), without patching and during patch/unpatch -p all rounds"
printf '%-8s %-6s %8s %8s %9s %9s %9s %7s %s\n' phase kind xacts tps p50 p99 max failed "rounds (failed)"
row base steady "$b_rounds"
row base churn "$b_rounds"
row rounds steady "$rounds ($fails)"
row rounds churn "$rounds ($fails)"
diff_row steady
diff_row churn
echo "# churn: every transaction on a new connection (-C), so its latency includes the connection"
[ -s "$T/notes" ] && sort "$T/notes" | uniq -c | sed 's/^/# note: /'
exit 0
