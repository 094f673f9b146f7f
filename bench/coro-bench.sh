#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What the scan for suspended stacks (coroutines, issue 13 item 2) costs:
# the target of test 1205 with 0 and 200 MiB of filled heap, patched,
# upgraded from level 1 to 2 while a coroutine is suspended in level 1's
# code, and unpatched. The scan runs before the stop; in the stop, apply
# rereads only where it found words (and, with soft-dirty bits, what was
# written since); retiring code is exact: with soft-dirty bits the stop
# reads what was written since, without them the whole scan again, unless
# that is over KC_SCAN_BUDGET_MIB (64): then the code stays mapped.
# Cases: HEAP (MiB of heap), HEAP:exact (budget 1024 MiB: the whole scan in
# the stop, as before the budget), HEAP:dd (plus 1 GiB, touched, marked
# MADV_DONTDUMP like qemu's guest RAM: never read).
# Prints medians of the tool's --stats figures; never fails on a figure.
# usage: sh bench/coro-bench.sh [BUILDDIR]
# Environment: BENCH_RUNS (runs per case, default 5), BENCH_CORO_CASES
# (default "0 200 200:exact 0:dd").
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$TOP/build}
CTL=$BUILD/src/agent/libcare-ctl
PACK=$BUILD/src/agent/kcare-build
SRC=$TOP/tests/integration/src
RUNS=${BENCH_RUNS:-5}
CASES=${BENCH_CORO_CASES:-0 200 200:exact 0:dd}
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
		cat "$T/out" >>"$T/out.all"
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
for c in $CASES; do
	heap=${c%%:*}
	for o in patch upgrade unpatch; do
		: >"$T/$o-$c.rows"
	done
	"$T/target" "$T/cmd" "$heap" >"$T/target.log" 2>&1 &
	tpid=$!
	for _i in $(seq 3000); do
		grep -q '^ready' "$T/target.log" && break
		sleep 0.02
	done
	case $c in
	*:exact) export KC_SCAN_BUDGET_MIB=1024 ;;
	*) unset KC_SCAN_BUDGET_MIB ;;
	esac
	case $c in
	*:dd) co "ghost dd 1024" '^ghost ' ;;
	esac
	r=0
	while [ $r -lt "$RUNS" ]; do
		r=$((r + 1))
		op patch-$c patch -p $tpid "$T/l1.kpatch"
		co "start 0 1" '^suspended 0' || break
		op upgrade-$c patch -p $tpid "$T/l2.kpatch"
		op unpatch-$c unpatch -p $tpid --id coro
		co "resume 0" '^ended 0' || break
		# the level 1 code kept for the coroutine goes now (over budget: stays)
		"$CTL" recover -p $tpid >/dev/null 2>&1
	done
	kept=$(grep -c "scanning for suspended stacks would read more" "$T/out.all" 2>/dev/null)
	[ "${kept:-0}" = 0 ] || echo "# $c: $kept times code kept over the stop's budget"
	rm -f "$T/out.all"
	kill -9 $tpid 2>/dev/null
	wait $tpid 2>/dev/null
	tpid=""
done
unset KC_SCAN_BUDGET_MIB

echo "## suspended stacks: scanning the target's private writable memory for return addresses into"
echo "## replaced code (patch, upgrade with a coroutine suspended in level 1's code, which stays mapped,"
echo "## unpatch); heap MiB, :exact = budget 1024 MiB, :dd = plus 1 GiB MADV_DONTDUMP;"
echo "## median of $RUNS runs, ms and MiB from --stats (soft-dirty bits: $(
	[ "${KC_SOFT_DIRTY:-}" = 0 ] && echo off || echo "used where the kernel has them"))"
printf '%-9s %10s %9s %9s %10s %14s %9s\n' op case stop scan "read MiB" "in stop MiB" total
for o in patch upgrade unpatch; do
	for c in $CASES; do
		f="$T/$o-$c.rows"
		printf '%-9s %10s %9s %9s %10s %14s %9s\n' "$o" "$c" \
			"$(ms "$(cut -d' ' -f1 "$f" | median)")" "$(ms "$(cut -d' ' -f2 "$f" | median)")" \
			"$(cut -d' ' -f3 "$f" | median | mib)" "$(cut -d' ' -f5 "$f" | median | mib)" \
			"$(ms "$(cut -d' ' -f4 "$f" | median)")"
	done
done
[ $fails = 0 ] || echo "# $fails commands failed"
exit 0
