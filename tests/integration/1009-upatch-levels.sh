#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Cumulative levels of one patch id: level 2 replaces level 1 (info then
# lists level 2 only); re-applying level 2 is a no-op ("already applied");
# level 1 after level 2 never downgrades: exit 0 (no-op) or 1 (refused) are
# both accepted, but the process must stay at level 2. A patch for another
# build-id is skipped and writes nothing. A directory argument applies every
# patch file in it.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/levels"
cc_prog "$T/target" "$src/target.c"
cc_prog "$T/target-other" "$src/target.c" -DKCT_OTHER
for f in l1 l2 a b other; do
	cc_fix "$T/fix-$f.o" "$src/fix-$f.c"
done
pack --target "$T/target" --object "$T/fix-l1.o" -o "$T/l1.kpatch" --id lvl --level 1
pack --target "$T/target" --object "$T/fix-l2.o" -o "$T/l2.kpatch" --id lvl --level 2
mkdir "$T/dir"
pack --target "$T/target" --object "$T/fix-a.o" -o "$T/dir/a.kpatch" --id dira
pack --target "$T/target" --object "$T/fix-b.o" -o "$T/dir/b.kpatch" --id dirb
pack --target "$T/target-other" --object "$T/fix-other.o" -o "$T/other.kpatch" --id other
cp "$T/other.kpatch" "$T/dir/other.kpatch"
other_id=$(buildid "$T/target-other")
[ "$other_id" != "$(buildid "$T/target")" ] || fail "both builds have the same build-id"

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^level 0 a 10 b 20$' 5
path=$(re_quote "$T/target")

step "a patch for another build-id is skipped"
exec_maps $pid >"$T/maps.before"
lcctl_ok patch -p $pid "$T/other.kpatch"
out_has "^$pid: skipped $(re_quote "$T/other.kpatch"): no object with build-id $other_id \(target-other\)$"
[ "$(lines "$T/ctl.out")" = 1 ] || fail "expected one line of output"
untouched $pid "$T/target" level_fn fn_a fn_b
exec_maps $pid >"$T/maps.after"
cmp -s "$T/maps.before" "$T/maps.after" || fail "a skipped patch changed the executable mappings"

step "level 1, then level 2 replaces it"
lcctl_ok patch -p $pid "$T/l1.kpatch"
out_has "^$pid: patched lvl level 1 in $path \(1 functions?\)$"
expect_value "$T/target.log" '^level 1 a 10 b 20$'
lcctl_ok patch -p $pid "$T/l2.kpatch"
out_has "^$pid: patched lvl level 2 in $path \(1 functions?, replaced level 1\)$"
expect_value "$T/target.log" '^level 2 a 10 b 20$'
expect_patches $pid "lvl:2:target"

step "level 2 again is a no-op"
lcctl_ok patch -p $pid "$T/l2.kpatch"
out_has "^$pid: lvl level 2 already applied in $path$"
expect_patches $pid "lvl:2:target"

step "level 1 after level 2 does not downgrade"
lcctl patch -p $pid "$T/l1.kpatch"
[ $KC_RC = 0 ] || [ $KC_RC = 1 ] || fail "exit $KC_RC"
grep -q "patched lvl level 1" "$T/ctl.out" && fail "level 1 was applied over level 2"
expect_patches $pid "lvl:2:target"
expect_value "$T/target.log" '^level 2 a 10 b 20$'

step "a directory of patches"
lcctl_ok patch -p $pid "$T/dir"
out_has "^$pid: patched dira level 1 in $path \(1 functions?\)$"
out_has "^$pid: patched dirb level 1 in $path \(1 functions?\)$"
out_has "^$pid: skipped .*other\.kpatch: no object with build-id $other_id \(target-other\)$"
[ "$(lines "$T/ctl.out")" = 3 ] || fail "expected three lines of output"
expect_value "$T/target.log" '^level 2 a 11 b 21$'
expect_patches $pid "dira:1:target dirb:1:target lvl:2:target"

step "unpatch by id, then the rest by build-id"
lcctl_ok unpatch -p $pid --id lvl
out_has "^$pid: unpatched lvl level 2 from $path$"
expect_value "$T/target.log" '^level 0 a 11 b 21$'
lcctl_ok unpatch -p $pid --build-id "$(buildid "$T/target")"
out_has "^$pid: unpatched dira level 1 from $path$"
out_has "^$pid: unpatched dirb level 1 from $path$"
expect_value "$T/target.log" '^level 0 a 10 b 20$'
untouched $pid "$T/target" level_fn fn_a fn_b
echo "ok"
