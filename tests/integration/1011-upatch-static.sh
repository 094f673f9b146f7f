#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A statically linked target (gcc -static, ET_EXEC): replace functions whose
# fixes call libc, which is the program's own copy: snprintf (a plain
# function), and strlen/memcpy, which are IFUNCs there (their symbols are the
# resolvers; the implementation is in the IRELATIVE-filled GOT slot).
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

[ -f "$(gcc -print-file-name=libc.a)" ] || skip "no static libc (libc.a)"
src="$KC_SRC/static"
cc_prog "$T/target" -static "$src/target.c"
cc_fix "$T/fix-fmt.o" "$src/fix-fmt.c"
cc_fix "$T/fix-measure.o" "$src/fix-measure.c"
pack --target "$T/target" --object "$T/fix-fmt.o" -o "$T/fmt.kpatch" --id static-fmt
pack --target "$T/target" --object "$T/fix-measure.o" -o "$T/measure.kpatch" --id static-ifunc

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 5 buf old-7 measure -1 copy 6$' 5

step "a fix calling snprintf"
lcctl_ok patch -p $pid "$T/fmt.kpatch"
out_has "^$pid: patched static-fmt level 1 in $(re_quote "$T/target") \(1 functions?\)$"
expect_value "$T/target.log" '^value 12 buf new-7-static measure -1 copy 6$'

step "a fix calling strlen and memcpy (IFUNCs)"
lcctl_ok patch -p $pid "$T/measure.kpatch"
expect_value "$T/target.log" '^value 12 buf new-7-static measure 6 copy static$'
alive $pid || fail "target died"
expect_patches $pid "static-fmt:1:target static-ifunc:1:target"

lcctl_ok unpatch -p $pid
expect_value "$T/target.log" '^value 5 buf old-7 measure -1 copy static$'
mem_equal $pid "$T/target" fmt measure
echo "ok"
