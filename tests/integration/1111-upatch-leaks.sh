#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# No leaks in the target: 10000 patch/unpatch cycles (50000 with KC_SLOW=1,
# or KC_LEAK_CYCLES) of a patch with code, data and bss on an idle process
# leave its mappings (count and VmSize: exactly where they started), its
# open file descriptors (the same) and VmRSS (within 256 kB) as they were;
# while patched, every cycle maps the same number of mappings. Samples
# every tenth of the run show a trend.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

if [ -n "${KC_SLOW:-}" ]; then
	cycles=${KC_LEAK_CYCLES:-50000}
else
	cycles=${KC_LEAK_CYCLES:-10000}
fi
src="$KC_SRC/leaks"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/leaks.kpatch" --id leaks

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 1 2$' 5

# usage: "maps=N size=KB rss=KB fds=N" of the target
usage() {
	echo "maps=$(wc -l <"/proc/$pid/maps" | tr -d ' ')" \
		"size=$(sed -n 's/^VmSize:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")" \
		"rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")" \
		"fds=$(ls "/proc/$pid/fd" | wc -l | tr -d ' ')"
}

field() { # field NAME USAGE
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

ctl() {
	timeout "$KC_CMD_TIMEOUT" "$KC_CTL_BIN" "$@" >"$T/ctl.out" 2>"$T/ctl.err" ||
		fail "cycle $i: $1 exited $?: $(cat "$T/ctl.err")"
}

# batch N: N cycles in one shell under one timeout (two processes fewer
# per cycle than a timeout around each run: on a loaded machine that is
# half the time)
batch() {
	timeout 120 sh -c 'i=0
		while [ $i -lt "$1" ]; do
			"$2" patch -p "$3" "$4" >/dev/null 2>"$5" || { echo "patch"; exit 1; }
			"$2" unpatch -p "$3" >/dev/null 2>"$5" || { echo "unpatch"; exit 1; }
			i=$((i + 1))
		done' sh "$1" "$KC_CTL_BIN" $pid "$T/leaks.kpatch" "$T/ctl.err" >"$T/batch.out" ||
		fail "cycles $i..$((i + $1)): $(cat "$T/batch.out") failed: $(cat "$T/ctl.err")"
}

start=$(usage)
echo "# start:       $start"
every=$((cycles / 10))
[ $every -gt 0 ] || every=1
t0=$(now_ms)
patched_maps=""
i=0
while [ $i -lt "$cycles" ]; do
	# the first cycle of every tenth: mappings while patched
	ctl patch -p $pid "$T/leaks.kpatch"
	m=$(field maps "$(usage)")
	[ -z "$patched_maps" ] && patched_maps=$m
	[ "$m" = "$patched_maps" ] || fail "cycle $i: $m mappings while patched, $patched_maps at first"
	ctl unpatch -p $pid
	i=$((i + 1))
	n=$((every - 1))
	[ $n -le $((cycles - i)) ] || n=$((cycles - i))
	while [ $n -gt 0 ]; do
		b=$n
		[ $b -le 100 ] || b=100
		batch $b
		i=$((i + b))
		n=$((n - b))
	done
	echo "# after $i: $(usage)"
done
echo "# $cycles cycles in $(($(now_ms) - t0)) ms; $patched_maps mappings while patched"
expect_value "$T/target.log" '^value 1 2$' 5
end=$(usage)
echo "# end:         $end"
for f in maps size fds; do
	[ "$(field $f "$end")" = "$(field $f "$start")" ] || fail "$f went from $(field $f "$start") to $(field $f "$end")"
done
rss0=$(field rss "$start")
rss1=$(field rss "$end")
[ "$rss1" -le $((rss0 + 256)) ] || fail "VmRSS grew from $rss0 kB to $rss1 kB"
mem_equal $pid "$T/target" value_fn other_fn
expect_patches $pid ""
alive $pid || fail "the target died"
echo "ok"
