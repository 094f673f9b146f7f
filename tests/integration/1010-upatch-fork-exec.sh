#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Process life events around patching. fork after patching: the child stays
# patched (new behaviour, and `info -p CHILD` lists the patch). exec after
# patching: the new image is clean (old behaviour, no patch listed). Targets
# exiting in the middle of `patch` (also with -p all): libcare-ctl ends in
# bounded time with 0 or 1, never hangs or crashes. Threads created and
# joined all the time during `patch`: it applies and every thread runs the
# new code afterwards.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/fork"
cc_prog "$T/target" "$src/target.c"
cc_prog "$T/short" "$src/short.c"
cc_prog "$T/spawner" "$src/spawner.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/target.kpatch" --id fork-fix
pack --target "$T/short" --object "$T/fix.o" -o "$T/short.kpatch" --id short-fix
pack --target "$T/spawner" --object "$T/fix.o" -o "$T/spawner.kpatch" --id spawn-fix

step "fork after patching: the child is patched too"
start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" "^parent $pid value 1$" 5
lcctl_ok patch -p $pid "$T/target.kpatch"
expect_value "$T/target.log" "^parent $pid value 2$"
m=$(lines "$T/target.log")
kill -USR1 $pid
expect_line "$T/target.log" '^forked [0-9]+$' 5 $m
child=$(tail -n +$((m + 1)) "$T/target.log" | sed -n 's/^forked \([0-9]*\)$/\1/p' | head -1)
track $child
expect_line "$T/target.log" "^child $child value 2$" 5 $m
no_line "$T/target.log" "^child $child value 1$"
expect_patches $child "fork-fix:1:target"
mem_patched $child "$T/target" value_fn
kill -9 $child

step "exec after patching: the new image is clean"
m=$(lines "$T/target.log")
kill -USR2 $pid
expect_line "$T/target.log" "^ready exec $pid$" 5 $m
expect_value "$T/target.log" "^exec $pid value 1$"
expect_patches $pid ""
mem_equal $pid "$T/target" value_fn
kill -9 $pid

step "targets exiting in the middle of patch"
# 40 lifetimes spread over 0..60 ms, so that exits land in every phase
i=0
while [ $i -lt 40 ]; do
	ms=$((i * 37 % 61))
	i=$((i + 1))
	"$T/short" $ms &
	spid=$!
	track $spid
	lcctl patch -p $spid "$T/short.kpatch"
	case $KC_RC in
	0) ;;
	1) grep -q '^libcare-ctl: ' "$T/ctl.err" || fail "exit 1 without an error line: $(cat "$T/ctl.err")" ;;
	*) fail "patch of a process exiting after $ms ms: exit $KC_RC" ;;
	esac
	echo "# exit after $ms ms: libcare-ctl $KC_RC"
	wait $spid
done
for ms in 5 10 20 40 80 120; do
	"$T/short" $ms &
	track $!
done
lcctl patch -p all "$T/short.kpatch" >"$T/all.log"
grep -v ' skipped ' "$T/all.log"
[ $KC_RC = 0 ] || [ $KC_RC = 1 ] || fail "patch -p all with processes exiting: exit $KC_RC"
wait

step "threads created during patch"
start_target spawner "$T/spawner"
pid=$TPID
expect_line "$T/spawner.log" '^batch olds 80 news 0$' 5
lcctl_ok patch -p $pid "$T/spawner.kpatch"
expect_value "$T/spawner.log" '^long value 2$'
# a batch that straddled the patch may mix old and new; the next ones are all new
m=$(lines "$T/spawner.log")
wait_count "$T/spawner.log" '^batch ' 3 5 $m || fail "the spawner stopped making batches"
tail -n +$((m + 1)) "$T/spawner.log" | grep '^batch ' | sed -n '2,3p' >"$T/batches"
[ "$(grep -c '^batch olds 0 news 80$' "$T/batches")" = 2 ] ||
	fail "threads created after the patch ran old code: $(cat "$T/batches")"
alive $pid || fail "spawner died"
echo "ok"
