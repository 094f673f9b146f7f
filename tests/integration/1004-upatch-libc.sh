#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Patch code calling libc (snprintf, printf, fprintf, close; strlen and
# memcpy, which are IFUNCs) and using libc data (stderr, errno).
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/libc"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix.o" "$src/fix.c"
pack --target "$T/target" --object "$T/fix.o" -o "$T/libc.kpatch" --id libc-fix

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^value 0 out old-7$' 5

lcctl_ok patch -p $pid "$T/libc.kpatch"
out_has "^$pid: patched libc-fix level 1 in $(re_quote "$T/target") \(1 functions?\)$"
expect_value "$T/target.log" '^value 9 out hello-new-7$'
expect_line "$T/target.log" '^fix printf hello-new-7$' 5
expect_line "$T/target.err" '^fix stderr 6 5$' 5
alive $pid || fail "target died"

lcctl_ok unpatch -p $pid --id libc-fix
expect_value "$T/target.log" '^value 0 out old-7$'
mem_equal $pid "$T/target" report
echo "ok"
