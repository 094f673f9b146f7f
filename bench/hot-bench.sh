#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The stop for a hot function next to an idle target's (issue 13 item 1):
# the target of test 1201 (4 threads calling a 20-byte library function and
# its helper in a tight loop), patched, upgraded from level 1 to level 2 and
# unpatched while its threads run ("hot": busy threads are driven out in the
# stop; for the upgrade and unpatch they are inside the patch code, walked
# through the patch's unwind table) and while they are paused outside the
# function ("idle"). Prints medians of the tool's --stats figures; never
# fails on a figure. usage: sh bench/hot-bench.sh [BUILDDIR]
# Environment: BENCH_RUNS (runs per case, default 9).
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$TOP/build}
CTL=$BUILD/src/agent/libcare-ctl
PACK=$BUILD/src/agent/kcare-build
SRC=$TOP/tests/integration/src
RUNS=${BENCH_RUNS:-9}
[ -x "$CTL" ] && [ -x "$PACK" ] || {
	echo "# hot-function benchmark: libcare-ctl or kcare-build not built in $BUILD"
	exit 1
}
T=$(mktemp -d "${TMPDIR:-/tmp}/kcb-hot.XXXXXX") || exit 1
tpid=""
trap '[ -n "$tpid" ] && kill -9 $tpid 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"' EXIT

FIX="gcc -O2 -fPIC -ffunction-sections -fdata-sections -c"
gcc -O2 -fPIC -shared -pthread -I"$SRC/common" -Wl,-soname,libhot.so -o "$T/libhot.so" "$SRC/hot/lib.c" &&
	gcc -O2 -pthread -I"$SRC/common" -o "$T/target" "$SRC/hot/target.c" -L"$T" -lhot -Wl,-rpath,"$T" &&
	$FIX -o "$T/fix.o" "$SRC/hot/fix.c" && $FIX -o "$T/fix2.o" "$SRC/hot/fix2.c" &&
	"$PACK" pack --target "$T/libhot.so" --object "$T/fix.o" -o "$T/hot.kpatch" --id hot-fix >/dev/null &&
	"$PACK" pack --target "$T/libhot.so" --object "$T/fix2.o" -o "$T/hot2.kpatch" --id hot-fix \
		--level 2 >/dev/null ||
	{
		echo "# hot-function benchmark: cannot build its target"
		exit 1
	}
"$T/target" >"$T/target.log" 2>&1 &
tpid=$!
sleep 0.5

# kv KEY FILE: the value of KEY= in the stats line of FILE
kv() {
	sed -n "s/.*: stats .*[ ]$1=\([0-9]*\).*/\1/p" "$2" | tail -1
}
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}
# op CASE ARGS...: one libcare-ctl command with --stats, its figures appended to $T/CASE.rows
op() {
	_case=$1
	shift
	if "$CTL" "$@" --stats >"$T/out" 2>"$T/err"; then
		echo "$(kv stop_us "$T/out") $(kv attempts "$T/out") $(kv driven "$T/out")" >>"$T/$_case.rows"
	else
		fails=$((fails + 1))
		echo "# $_case: $(cat "$T/err")"
	fi
}
pause() {
	kill -USR1 $tpid && sleep 0.05
}

fails=0
r=0
for mode in hot idle; do
	for o in patch upgrade unpatch; do
		: >"$T/$o-$mode.rows"
	done
done
while [ $r -lt "$RUNS" ]; do
	r=$((r + 1))
	for mode in hot idle; do
		[ $mode = idle ] && pause
		op patch-$mode patch -p $tpid "$T/hot.kpatch"
		op upgrade-$mode patch -p $tpid "$T/hot2.kpatch"
		op unpatch-$mode unpatch -p $tpid --id hot-fix
		# whatever failed above: back to unpatched for the next round
		"$CTL" unpatch -p $tpid --id hot-fix >/dev/null 2>&1
		[ $mode = idle ] && pause
	done
done

echo "## hot function: patch, upgrade (level 1 -> 2) and unpatch while 4 threads call it in a tight"
echo "## loop (hot) and while they are paused outside it (idle); median of $RUNS runs; stop in ms from"
echo "## --stats; driven: busy threads run out of the code being replaced"
printf '%-13s %9s %9s %9s %9s\n' case stop "max stop" attempts driven
for o in patch upgrade unpatch; do
	for mode in hot idle; do
		f="$T/$o-$mode.rows"
		stop=$(cut -d' ' -f1 "$f" | median)
		mstop=$(cut -d' ' -f1 "$f" | sort -n | tail -1)
		att=$(cut -d' ' -f2 "$f" | median)
		drv=$(cut -d' ' -f3 "$f" | median)
		printf '%-13s %9s %9s %9s %9s\n' "$o $mode" \
			"$(awk -v v="$stop" 'BEGIN { if (v == "-") print v; else printf "%.2f", v / 1000 }')" \
			"$(awk -v v="${mstop:--}" 'BEGIN { if (v == "-") print v; else printf "%.2f", v / 1000 }')" \
			"$att" "$drv"
	done
done
[ $fails = 0 ] || echo "# $fails commands failed"
exit 0
