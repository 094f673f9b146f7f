#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A hot function (issue 13 item 1): 4 threads call a short library function
# (which calls one helper) in a tight loop, on however few cores, so some
# thread is inside it at nearly every stop. `patch`, the upgrade from level
# 1 to level 2 and `unpatch` all run while every thread keeps running, so
# that for the last two some thread is inside the patch code itself: the
# engine drives the busy threads out while the others stay held (through
# the patch's own unwind table inside patch code) and each operation
# succeeds on the first or second stop (the attempt count of --stats, not a
# time); every thread then runs the new code and no call ever returned a
# result of neither version. A patch packed without unwind tables (the fix
# compiled with -fno-asynchronous-unwind-tables) is format version 1 and
# still applies and unpatches, with the workers paused.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/hot"
cc_lib "$T/libhot.so" "$src/lib.c"
cc_prog "$T/target" "$src/target.c" -L"$T" -lhot -Wl,-rpath,"$T"
cc_fix "$T/fix.o" "$src/fix.c"
cc_fix "$T/fix2.o" "$src/fix2.c"
cc_fix "$T/fix-bare.o" "$src/fix.c" -fno-asynchronous-unwind-tables -fno-unwind-tables
pack --target "$T/libhot.so" --object "$T/fix.o" -o "$T/hot1.kpatch" --id hot-fix
pack --target "$T/libhot.so" --object "$T/fix2.o" -o "$T/hot2.kpatch" --id hot-fix --level 2
pack --target "$T/libhot.so" --object "$T/fix-bare.o" -o "$T/bare.kpatch" --id hot-bare

step "the patch carries an unwind table (format version 2); one packed without is version 1"
for f in hot1 hot2; do
	"$KC_PY" "$KC_TOOL" meta "$T/$f.kpatch" | grep -qx 'version=2' || fail "$f.kpatch is not version 2"
done
"$KC_PY" "$KC_TOOL" meta "$T/bare.kpatch" | grep -qx 'version=1' || fail "bare.kpatch is not version 1"

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^calls [1-9][0-9]* [1-9][0-9]* [1-9][0-9]* [1-9][0-9]* new 0 bad 0$' 5

# first_stops WHAT: the last command took 1 or 2 stops
first_stops() {
	stops_at_most $pid 2 "$1"
}

for round in 1 2 3; do
	step "round $round: patch level 1 while every thread is in the loop"
	lcctl_ok patch -p $pid --stats "$T/hot1.kpatch"
	out_has "^$pid: patched hot-fix level 1 in $(re_quote "$T/libhot.so") \(1 functions?\)$"
	first_stops patch
	m=$(lines "$T/target.log")
	expect_line "$T/target.log" '^calls .* new 4 bad 0$' 5 $m

	step "round $round: upgrade to level 2 while the threads run in level 1's code"
	lcctl_ok patch -p $pid --stats "$T/hot2.kpatch"
	out_has "^$pid: patched hot-fix level 2 in $(re_quote "$T/libhot.so") \(1 functions?, replaced level 1\)$"
	first_stops upgrade
	expect_patches $pid "hot-fix:2:libhot.so"
	m=$(lines "$T/target.log")
	expect_line "$T/target.log" '^calls .* new 4 bad 0$' 5 $m

	step "round $round: unpatch while the threads run in level 2's code"
	lcctl_ok unpatch -p $pid --id hot-fix --stats
	out_has "^$pid: unpatched hot-fix level 2 from "
	first_stops unpatch
	m=$(lines "$T/target.log")
	expect_line "$T/target.log" '^calls .* new 0 bad 0$' 5 $m
	mem_equal $pid "$T/libhot.so" hot_fn hot_mix
	expect_patches $pid ""
done

step "a version 1 patch (no unwind table) still applies and unpatches, the workers paused"
lcctl_ok patch -p $pid "$T/bare.kpatch"
m=$(lines "$T/target.log")
expect_line "$T/target.log" '^calls .* new 4 bad 0$' 5 $m
kill -USR1 $pid
sleep 0.1
lcctl_ok unpatch -p $pid --id hot-bare
kill -USR1 $pid
m=$(lines "$T/target.log")
expect_line "$T/target.log" '^calls .* new 0 bad 0$' 5 $m
mem_equal $pid "$T/libhot.so" hot_fn hot_mix

alive $pid || fail "target died"
no_line "$T/target.log" 'bad [1-9]'
echo "ok"
