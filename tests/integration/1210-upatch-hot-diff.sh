#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A hot function patched from a source diff (issue 13 item 1): 1201's
# library and target, but the patches come from `kcare-build user` (the
# object differ) instead of a hand-written fix object. The differ's fix
# object carries the .eh_frame entries of the code it copies, so the patch
# has an unwind table (format version 2) and an upgrade and an unpatch
# under load drive the threads out of patch code on the first or second
# stop, as 1201 does for `pack`. Level 2 adds a new function called between
# hot_fn and its helper, so a thread can be two frames deep in patch code.
# Without the table the engine can only scan those threads' stacks
# conservatively, counts them as busy and retries.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *user ' || skip "kcare-build has no user command yet"

hot="$KC_SRC/hot"
mkdir "$T/src"
cp "$hot/lib.c" "$KC_SRC/common/kct.h" "$T/src/"
printf 'libhot.so: lib.c kct.h\n\t$(CC) -O2 -Wall -fPIC -shared -pthread -Wl,-soname,libhot.so -o $@ lib.c\n' \
	>"$T/src/Makefile"
cp -a "$T/src" "$T/build"
make -s -C "$T/build" >/dev/null 2>&1 || fail "cannot build the library"
lib="$T/build/libhot.so"
cc_prog "$T/target" "$hot/target.c" -L"$T/build" -lhot -Wl,-rpath,"$T/build"

# the two fixes as diffs of lib.c: +2 (level 1), and +2 through a new function (level 2)
cp -a "$T/src" "$T/a"
cp -a "$T/src" "$T/b1"
cp -a "$T/src" "$T/b2"
sed -i 's/return hot_mix(x) + 1;/return hot_mix(x) + 2;/' "$T/b1/lib.c"
sed -i 's/^KCT_PATCHABLE unsigned hot_fn(unsigned x)$/__attribute__((noinline)) static unsigned hot_add2(unsigned x)\n{\n\t__asm__ volatile("");\n\treturn x + 2;\n}\n\n&/; s/return hot_mix(x) + 1;/return hot_add2(hot_mix(x));/' \
	"$T/b2/lib.c"
for n in 1 2; do
	(cd "$T" && diff -u a/lib.c "b$n/lib.c" | sed "s#^+++ b$n/#+++ b/#") >"$T/fix$n.patch"
	grep -q '^+' "$T/fix$n.patch" || fail "fix$n.patch is empty"
done

step "kcare-build user: the patches carry unwind tables (format version 2)"
for n in 1 2; do
	timeout 120 "$KC_PACK_BIN" user --target "$lib" --src "$T/src" --diff "$T/fix$n.patch" \
		--id hot-diff --level $n -o "$T/hot$n.kpatch" -v --keep-work "$T/work$n" \
		>"$T/user$n.out" 2>"$T/user$n.err" || fail "kcare-build user (level $n): $(cat "$T/user$n.err")"
	sed 's/^/  /' "$T/user$n.out"
	"$KC_PY" "$KC_TOOL" meta "$T/hot$n.kpatch" >"$T/meta$n"
	grep -qx 'version=2' "$T/meta$n" || fail "hot$n.kpatch is $(grep '^version=' "$T/meta$n"), expected version=2 (an unwind table)"
done
grep -q '^  new hot_add2 ' "$T/user2.out" || fail "level 2 does not carry hot_add2 as new code"
# the fix object: .eh_frame with one FDE per function it carries, each relocated against its code
readelf -wf "$T/work2/fix.o" >"$T/eh2" 2>&1
[ "$(grep -c ' FDE cie=' "$T/eh2")" = 2 ] || fail "fix.o of level 2 has not 2 FDEs: $(cat "$T/eh2")"
readelf -r "$T/work2/fix.o" | sed -n '/\.rela\.eh_frame/,/^$/p' >"$T/rela2"
[ "$(grep -c 'R_X86_64_PC32' "$T/rela2")" = 2 ] ||
	fail "fix.o's .eh_frame has not 2 PC32 relocations: $(cat "$T/rela2")"

start_target target "$T/target"
pid=$TPID
expect_line "$T/target.log" '^calls [1-9][0-9]* [1-9][0-9]* [1-9][0-9]* [1-9][0-9]* new 0 bad 0$' 5

# hot_op WHAT NEW OUT-REGEX LIBCARE-CTL-ARGS...: one operation (with --stats)
# while the threads run, on the first or second stop, after which NEW of the 4
# threads get the fix's result
hot_op() {
	what=$1 new=$2 re=$3
	shift 3
	lcctl_ok "$@" --stats
	out_has "$re"
	stops_at_most $pid 2 "$what"
	m=$(lines "$T/target.log")
	expect_line "$T/target.log" "^calls .* new $new bad 0\$" 5 $m
}

for round in 1 2; do
	step "round $round: patch level 1 while every thread is in the loop"
	hot_op patch 4 "^$pid: patched hot-diff level 1 in $(re_quote "$lib") \(1 functions?\)$" \
		patch -p $pid "$T/hot1.kpatch"
	step "round $round: upgrade to level 2 while the threads run in level 1's code"
	hot_op upgrade 4 "^$pid: patched hot-diff level 2 in $(re_quote "$lib") \(1 functions?, replaced level 1\)$" \
		patch -p $pid "$T/hot2.kpatch"
	step "round $round: unpatch while the threads run in level 2's code"
	hot_op unpatch 0 "^$pid: unpatched hot-diff level 2 from " unpatch -p $pid --id hot-diff
	mem_equal $pid "$lib" hot_fn hot_mix
	expect_patches $pid ""
done

alive $pid || fail "target died"
no_line "$T/target.log" 'bad [1-9]'
echo "ok"
