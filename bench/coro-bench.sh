#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What the scan for suspended stacks (coroutines, issue 13 item 2) costs:
# the target of test 1205 with 0 and 200 MiB of filled heap, patched,
# upgraded from level 1 to 2 while a coroutine is suspended in level 1's
# code, and unpatched. The decision is made in the stop: where the kernel
# keeps soft-dirty bits, the scan runs before it and the stop reads only
# what was written since; elsewhere the whole scan is part of "stop".
# Prints medians of the tool's --stats figures; never fails on a figure.
# usage: sh bench/coro-bench.sh [BUILDDIR]
# Environment: BENCH_RUNS (runs per case, default 5), BENCH_CORO_HEAP (MiB
# of heap, default "0 200").
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$TOP/build}
CTL=$BUILD/src/agent/libcare-ctl
PACK=$BUILD/src/agent/kcare-build
SRC=$TOP/tests/integration/src
RUNS=${BENCH_RUNS:-5}
HEAPS=${BENCH_CORO_HEAP:-0 200}
[ -x "$CTL" ] && [ -x "$PACK" ] || {
	echo "# coroutine benchmark: libcare-ctl or kcare-build not built in $BUILD"
	exit 1
}
T=$(mktemp -d "${TMPDIR:-/tmp}/kcb-coro.XXXXXX") || exit 1
tpid=""
trap '[ -n "$tpid" ] && kill -9 $tpid 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"' EXIT

FIX="gcc -O2 -fPIC -ffunction-sections -fdata-sections -c"
gcc -O2 -I"$SRC/common" -o "$T/target" "$SRC/coro/target.c" &&
	$FIX -o "$T/l1.o" "$SRC/coro/fix-l1.c" && $FIX -o "$T/l2.o" "$SRC/coro/fix-l2.c" &&
	"$PACK" pack --target "$T/target" --object "$T/l1.o" -o "$T/l1.kpatch" --id coro >/dev/null &&
	"$PACK" pack --target "$T/target" --object "$T/l2.o" -o "$T/l2.kpatch" --id coro \
		--level 2 >/dev/null && mkfifo "$T/cmd" ||
	{
		echo "# coroutine benchmark: cannot build its target"
		exit 1
	}

# kv KEY FILE: the value of KEY= in the stats line of FILE
kv() {
	sed -n "s/.*: stats .*[ ]$1=\([0-9]*\).*/\1/p" "$2" | tail -1
}
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}
mib() {
	awk '{ if ($1 == "-" || $1 == "") print "-"; else printf "%.1f", $1 / 1024 }'
}
ms() {
	awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.2f", v / 1000 }'
}
# op CASE ARGS...: one libcare-ctl command with --stats, its figures appended to $T/CASE.rows
op() {
	_case=$1
	shift
	if "$CTL" "$@" --stats >"$T/out" 2>"$T/err"; then
		echo "$(kv stop_us "$T/out") $(kv scan_us "$T/out") $(kv scan_kib "$T/out") $(kv total_us "$T/out") $(kv scan_stop_kib "$T/out")" >>"$T/$_case.rows"
	else
		fails=$((fails + 1))
		echo "# $_case: $(cat "$T/err")"
	fi
}
# co CMD REGEX: a command to the target, then wait (at most 10 s) for its answer
co() {
	_n=$(wc -l <"$T/target.log")
	echo "$1" >"$T/cmd"
	for _i in $(seq 500); do
		tail -n +$((_n + 1)) "$T/target.log" | grep -Eq "$2" && return 0
		sleep 0.02
	done
	echo "# the target did not answer '$1'"
	return 1
}

fails=0
for heap in $HEAPS; do
	for o in patch upgrade unpatch; do
		: >"$T/$o-$heap.rows"
	done
	"$T/target" "$T/cmd" "$heap" >"$T/target.log" 2>&1 &
	tpid=$!
	for _i in $(seq 3000); do
		grep -q '^ready' "$T/target.log" && break
		sleep 0.02
	done
	r=0
	while [ $r -lt "$RUNS" ]; do
		r=$((r + 1))
		op patch-$heap patch -p $tpid "$T/l1.kpatch"
		co "start 0 1" '^suspended 0' || break
		op upgrade-$heap patch -p $tpid "$T/l2.kpatch"
		op unpatch-$heap unpatch -p $tpid --id coro
		co "resume 0" '^ended 0' || break
		# the level 1 code kept for the coroutine goes now
		"$CTL" recover -p $tpid >/dev/null 2>&1
	done
	kill -9 $tpid 2>/dev/null
	wait $tpid 2>/dev/null
	tpid=""
done

echo "## suspended stacks: scanning the target's private writable memory for return addresses into"
echo "## replaced code (patch, upgrade with a coroutine suspended in level 1's code, which stays mapped,"
echo "## unpatch); without soft-dirty bits the whole scan is in the stop, with them only what was written"
echo "## since the scan began; median of $RUNS runs, ms and MiB from --stats"
printf '%-9s %9s %9s %9s %10s %14s %9s\n' case "heap MiB" stop scan "read MiB" "in stop MiB" total
for o in patch upgrade unpatch; do
	for heap in $HEAPS; do
		f="$T/$o-$heap.rows"
		printf '%-9s %9s %9s %9s %10s %14s %9s\n' "$o" "$heap" \
			"$(ms "$(cut -d' ' -f1 "$f" | median)")" "$(ms "$(cut -d' ' -f2 "$f" | median)")" \
			"$(cut -d' ' -f3 "$f" | median | mib)" "$(cut -d' ' -f5 "$f" | median | mib)" \
			"$(ms "$(cut -d' ' -f4 "$f" | median)")"
	done
done
[ $fails = 0 ] || echo "# $fails commands failed"
exit 0
