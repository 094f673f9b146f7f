#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Where one `libcare-ctl patch -p PID` / `unpatch -p PID` on an idle 1-thread
# target spends its time (issue 14 item 5): the floor of starting any
# program on this machine (/bin/true), starting libcare-ctl itself
# (--version: exec, the dynamic loader, libraries), the whole command, and
# what the engine reports of it (--stats: total from opening the process to
# the end, and the stop). "before the engine" = whole - engine total: exec,
# loading, reading and checking the patch file. Every wall figure includes
# the same cost of reading the clock afterwards (one date(1) run), which the
# /bin/true row shows: compare the rows with it. Medians of BENCH_RUNS runs
# (default 15); never fails on a figure. usage: sh bench/cmd-cost.sh [BUILDDIR]
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$TOP/build}
CTL=$BUILD/src/agent/libcare-ctl
PACK=$BUILD/src/agent/kcare-build
RUNS=${BENCH_RUNS:-15}
[ -x "$CTL" ] && [ -x "$PACK" ] || {
	echo "# command cost benchmark: libcare-ctl or kcare-build not built in $BUILD"
	exit 1
}
T=$(mktemp -d "${TMPDIR:-/tmp}/kcb-cost.XXXXXX") || exit 1
tpid=""
trap '[ -n "$tpid" ] && kill -9 $tpid 2>/dev/null; rm -rf "$T"' EXIT

cat >"$T/t.c" <<'EOC'
#include <unistd.h>
__attribute__((noinline)) int f(int x) { return x * 3 + 1; }
int main(void) { for (volatile int v = 0;; v = f(v)) pause(); }
EOC
echo 'int f(int x) { return x * 3 + 2; }' >"$T/fix.c"
gcc -O2 -o "$T/t" "$T/t.c" && gcc -O2 -fPIC -ffunction-sections -c -o "$T/fix.o" "$T/fix.c" &&
	"$PACK" pack --target "$T/t" --object "$T/fix.o" -o "$T/f.kpatch" --id cost >/dev/null || {
	echo "# command cost benchmark: cannot build its target"
	exit 1
}
"$T/t" &
tpid=$!
sleep 0.2

now_us() { echo $(($(date +%s%N) / 1000)); }
# wall CMD...: microseconds the command took (its output in $T/out)
wall() {
	_t0=$(now_us)
	"$@" >"$T/out" 2>&1
	echo $(($(now_us) - _t0))
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR ? v[int((NR + 1) / 2)] : "-")}'; }
stat_of() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$T/out"; }

: >"$T/true" && : >"$T/version"
for v in patch unpatch; do : >"$T/$v.wall" && : >"$T/$v.total" && : >"$T/$v.stop"; done
i=0
while [ $i -lt "$RUNS" ]; do
	wall /bin/true >>"$T/true"
	wall "$CTL" --version >>"$T/version"
	wall "$CTL" patch --stats -p $tpid "$T/f.kpatch" >>"$T/patch.wall"
	stat_of total_us >>"$T/patch.total"
	stat_of stop_us >>"$T/patch.stop"
	wall "$CTL" unpatch --stats -p $tpid >>"$T/unpatch.wall"
	stat_of total_us >>"$T/unpatch.total"
	stat_of stop_us >>"$T/unpatch.stop"
	i=$((i + 1))
done

ms() { awk -v u="$1" 'BEGIN { if (u == "-") print "-"; else printf "%.1f", u / 1000 }'; }
echo "## one command on an idle 1-thread target (median of $RUNS, ms; load $(cut -d' ' -f1 /proc/loadavg))"
echo "| | ms |"
echo "|---|---|"
echo "| /bin/true (any program's start here) | $(ms "$(median <"$T/true")") |"
echo "| libcare-ctl --version (its start) | $(ms "$(median <"$T/version")") |"
for v in patch unpatch; do
	w=$(median <"$T/$v.wall")
	tot=$(median <"$T/$v.total")
	echo "| $v: whole command | $(ms "$w") |"
	echo "| $v: engine (open to end) | $(ms "$tot") |"
	echo "| $v: stop | $(ms "$(median <"$T/$v.stop")") |"
	[ "$w" != - ] && [ "$tot" != - ] && echo "| $v: before the engine | $(ms $((w - tot))) |"
done
