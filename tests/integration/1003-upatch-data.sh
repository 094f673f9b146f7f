#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Patch code that calls a new helper and the target's unchanged functions
# (static ones included), reads and writes the target's globals and static
# variables in place (the target prints them and sees the patch's writes),
# and uses string literals, a constant table and new data of its own.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/data"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/data.kpatch" --id data-fix

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 1030 counter 0 gvalue 0 sbase 2000 message original$' 5

lcctl_ok patch -p $pid "$T/data.kpatch"
out_has "^$pid: patched data-fix level 1 in $(re_quote "$T/target") \(1 functions?\)$"
expect_value "$T/target.log" '^value 303047 counter [0-9]+ gvalue 4242 sbase 2000 message patched$'

# counter is the target's static, incremented by every patched call: it grows
c1=$(sed -n 's/^value 303047 counter \([0-9]*\) .*/\1/p' "$T/target.log" | tail -1)
m=$(lines "$T/target.log")
expect_line "$T/target.log" '^value 303047 ' 5 $((m + 2))
c2=$(sed -n 's/^value 303047 counter \([0-9]*\) .*/\1/p' "$T/target.log" | tail -1)
[ "$c2" -gt "$c1" ] || fail "the patch's writes to the static counter are not seen ($c1 then $c2)"
# only the old or the new result, never one computed from copies of the data
grep -Ev '^(ready|value (1030|303047) )' "$T/target.log" | grep -q . &&
	fail "unexpected output: $(grep -Ev '^(ready|value (1030|303047) )' "$T/target.log" | head -1)"
alive $pid || fail "target died"
expect_patches $pid "data-fix:1:target"
echo "ok"
