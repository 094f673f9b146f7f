#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A hot function (issue 13 item 1): 4 threads call a short library function
# (which calls one helper) in a tight loop, on however few cores, so some
# thread is inside it at nearly every stop. `patch` drives the busy threads
# out while the others stay held and succeeds on the first or second stop
# (the attempt count of --stats, not a time); every thread then runs the
# new code and no call ever returned a result of neither version. (Unpatch
# under the same load is not driven yet: the patch code carries no unwind
# tables. The workers are paused for it.)
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/hot"
cc_lib "$T/libhot.so" "$src/lib.c"
cc_prog "$T/target" "$src/target.c" -L"$T" -lhot -Wl,-rpath,"$T"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/libhot.so" --object "$T/fix.o" -o "$T/hot.kpatch" --id hot-fix

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^calls [1-9][0-9]* [1-9][0-9]* [1-9][0-9]* [1-9][0-9]* new 0 bad 0$' 5

# attempts=N of the last --stats line
attempts() {
	sed -n "s/^$pid: stats .*attempts=\([0-9]*\) .*/\1/p" "$T/ctl.out" | tail -1
}

for round in 1 2 3; do
	step "round $round: patch while every thread is in the loop"
	lcctl_ok patch -p $pid --stats "$T/hot.kpatch"
	out_has "^$pid: patched hot-fix level 1 in $(re_quote "$T/libhot.so") \(1 functions?\)$"
	a=$(attempts)
	echo "# patched on attempt $a"
	[ -n "$a" ] && [ "$a" -le 2 ] || fail "patch took $a stops, expected 1 or 2"
	m=$(lines "$T/target.log")
	expect_line "$T/target.log" '^calls .* new 4 bad 0$' 5 $m
	mem_patched $pid "$T/libhot.so" hot_fn

	step "round $round: unpatch, the workers paused"
	kill -USR1 $pid
	sleep 0.1
	lcctl_ok unpatch -p $pid --id hot-fix
	kill -USR1 $pid
	m=$(lines "$T/target.log")
	expect_line "$T/target.log" '^calls .* new 0 bad 0$' 5 $m
	mem_equal $pid "$T/libhot.so" hot_fn hot_mix
done
alive $pid || fail "target died"
no_line "$T/target.log" 'bad [1-9]'
expect_patches $pid ""
echo "ok"
