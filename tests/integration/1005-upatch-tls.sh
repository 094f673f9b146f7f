#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Thread-local variables of the program and of a shared library, read from
# patch code in every TLS model: general-dynamic (-fPIC default, through
# __tls_get_addr), initial-exec, and local-exec (fix compiled -fPIE, the
# program's own variable). Each thread must see its own values, including a
# thread created after patching. Also a patch of the library reading its own
# variables. Four patch ids stay applied together on two objects.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl

src="$KC_SRC/tls"
cc_lib "$T/libtls.so" "$src/lib.c"
cc_prog "$T/target" "$src/target.c" -L"$T" -ltls -Wl,-rpath,"$T"
cc_fix "$T/fix-gd.o" "$src/fix-gd.c"
cc_fix "$T/fix-ie.o" "$src/fix-ie.c"
cc_fix "$T/fix-le.o" "$src/fix-le.c" -fPIE
cc_fix "$T/fix-lib.o" "$src/fix-lib.c"
pack --target "$T/target" --object "$T/fix-gd.o" -o "$T/gd.kpatch" --id tls-gd
pack --target "$T/target" --object "$T/fix-ie.o" -o "$T/ie.kpatch" --id tls-ie
pack --target "$T/target" --object "$T/fix-le.o" -o "$T/le.kpatch" --id tls-le
pack --target "$T/libtls.so" --object "$T/fix-lib.o" -o "$T/lib.kpatch" --id tls-lib

start_target target "$T/target"
pid=$TPID
for i in 1 2 3 4; do
	expect_line "$T/target.log" "^t$i gd -1 ie -2 le -3 lib -$((1000 * i + 4))$" 5
done

# expect_threads GD IE LE LIB THREADS: every listed thread i prints the
# values times i (a value "-" keeps the original constant of that column)
expect_threads() {
	m=$(lines "$T/target.log")
	for i in $5; do
		g=$1; e=$2; l=$3; b=$4
		[ "$g" = - ] && g=-1 || g=$((g * i))
		[ "$e" = - ] && e=-2 || e=$((e * i))
		[ "$l" = - ] && l=-3 || l=$((l * i))
		[ "$b" = - ] && b=-$((1000 * i + 4)) || b=$((b * i))
		# each thread prints every 20 ms: skip lines that may predate the patch
		expect_line "$T/target.log" "^t$i gd $g ie $e le $l lib $b$" 5 $((m + 8))
	done
}

step "general-dynamic"
lcctl_ok patch -p $pid "$T/gd.kpatch"
out_has "^$pid: patched tls-gd level 1 in $(re_quote "$T/target")"
expect_threads 1100 - - - "1 2 3 4"

step "initial-exec"
lcctl_ok patch -p $pid "$T/ie.kpatch"
expect_threads 1100 20200 - - "1 2 3 4"

step "local-exec"
lcctl_ok patch -p $pid "$T/le.kpatch"
expect_threads 1100 20200 300 - "1 2 3 4"

step "the library's own variables"
lcctl_ok patch -p $pid "$T/lib.kpatch"
out_has "^$pid: patched tls-lib level 1 in $(re_quote "$T/libtls.so")"
expect_threads 1100 20200 300 11000 "1 2 3 4"

step "a thread created after patching"
kill -USR1 $pid
expect_threads 1100 20200 300 11000 "5"
expect_patches $pid "tls-gd:1:target tls-ie:1:target tls-le:1:target tls-lib:1:libtls.so"

step "unpatch all"
lcctl_ok unpatch -p $pid
expect_threads - - - - "1 2 3 4 5"
mem_equal $pid "$T/target" get_gd get_ie get_le
mem_equal $pid "$T/libtls.so" lib_get
expect_patches $pid ""
echo "ok"
