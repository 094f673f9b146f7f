#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Replace a function of a shared library (linked with -Wl,-rpath) in a running
# program: calls from the program and from inside the library both see it;
# unpatch brings back the old behaviour and the library's original bytes.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/lib"
cc_lib "$T/libkct.so" "$src/lib.c"
cc_prog "$T/target" "$src/target.c" -L"$T" -lkct -Wl,-rpath,"$T"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/libkct.so" --object "$T/fix.o" -o "$T/lib.kpatch" --id lib-fix

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 42 wrapped 1042$' 5

step "patch"
lcctl_ok patch -p $pid "$T/lib.kpatch"
out_has "^$pid: patched lib-fix level 1 in $(re_quote "$T/libkct.so") \(1 functions?\)$"
expect_value "$T/target.log" '^value 64 wrapped 1064$'
mem_patched $pid "$T/libkct.so" lib_compute
mem_equal $pid "$T/target" main
expect_patches $pid "lib-fix:1:libkct.so"

step "unpatch"
lcctl_ok unpatch -p $pid --id lib-fix
out_has "^$pid: unpatched lib-fix level 1 from $(re_quote "$T/libkct.so")$"
expect_value "$T/target.log" '^value 42 wrapped 1042$'
mem_equal $pid "$T/libkct.so" lib_compute lib_wrapper
expect_patches $pid ""
echo "ok"
