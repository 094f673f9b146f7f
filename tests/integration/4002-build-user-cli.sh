#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcare-build user on the command line: --help, usage errors (exit 2), and
# failures that exit 1 with one line "kcare-build: ..." and leave no patch:
# sources that do not rebuild the target, a diff that does not apply, a
# build that fails, a diff that changes nothing of the target, a work
# directory that is not empty. Then a good run with --keep-work (the
# directory holds the three builds and the fix object) and its metadata;
# the fix object has the changed function's .eh_frame entry, so the patch
# has an unwind table.
# Several --target of one tree: one build for all, a patch per target the
# diff changes, none at all when one target is refused. -o in a directory
# that does not exist: made with its parents (removed again when the build
# fails), or one line saying why it cannot be made.
. "$(dirname "$0")/lib.sh"
need_pack
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *user ' || skip "kcare-build has no user command yet"

case1="$KC_TOP/tests/build-cases/01-lib-func"
src1="$T/src1"
corpus_src 01-lib-func "$src1"
cp -a "$src1" "$T/build"
make -s -C "$T/build" >/dev/null 2>&1 || fail "cannot build case 01"
mkdir "$T/out"
tgt="$T/build/libcase.so"
ok="--target $tgt --src $src1 --diff $case1/FIX.patch"
o="-o $T/out/p.kpatch"

user_rc() {
	timeout 120 "$KC_PACK_BIN" user "$@" >"$T/user.out" 2>"$T/user.err"
	KC_RC=$?
	echo "\$ kcare-build user $* -> $KC_RC"
	sed 's/^/  out: /' "$T/user.out"
	sed 's/^/  err: /' "$T/user.err"
}

# fails STATUS REGEX ARGS...: exit STATUS, stderr matching REGEX, nothing in $T/out
fails() {
	want=$1
	re=$2
	shift 2
	user_rc "$@"
	[ "$KC_RC" = "$want" ] || fail "user $*: exit $KC_RC, expected $want"
	if [ "$want" = 1 ]; then
		[ "$(lines "$T/user.err")" = 1 ] && grep -q '^kcare-build: ' "$T/user.err" ||
			fail "user $*: expected one line 'kcare-build: ...' on stderr"
	fi
	grep -Eq -- "$re" "$T/user.err" || fail "user $*: stderr does not match '$re'"
	[ -z "$(ls -A "$T/out")" ] || fail "user $*: left $(ls -A "$T/out") behind"
}

step "help"
"$KC_PACK_BIN" user --help >"$T/help" || fail "user --help exited $?"
for opt in --target --src --diff --build-cmd --keep-work; do
	grep -q -- "$opt" "$T/help" || fail "user --help does not mention $opt"
done

step "usage errors"
fails 2 'is required' $o
fails 2 'is required' --target "$tgt" $o
fails 2 '--diff is required' --target "$tgt" --src "$src1" $o
fails 2 'is required' $ok
fails 2 'bad level' $ok $o --level 0
fails 2 'bad CVE' $ok $o --cve CVE-1
fails 2 'bad patch id' $ok $o --id 'a b'
fails 2 'unknown option' $ok $o --bogus

step "refusals and failures"
fails 1 "source directory .* does not exist" --target "$tgt" --src "$T/nope" --diff "$case1/FIX.patch" $o
fails 1 "cannot read diff" --target "$tgt" --src "$src1" --diff "$T/nope.patch" $o
# a target the sources do not rebuild
cp -a "$src1" "$T/other"
sed -i 's/x \* 2 + 2/x * 2 + 9/' "$T/other/lib.c"
make -s -C "$T/other" >/dev/null 2>&1 || fail "cannot build the other library"
fails 1 "do not rebuild target" --target "$T/other/libcase.so" --src "$src1" \
	--diff "$case1/FIX.patch" $o
# a diff for another file
printf -- '--- a/nofile.c\n+++ b/nofile.c\n@@ -1 +1 @@\n-a\n+b\n' >"$T/bad.patch"
fails 1 "does not apply" $ok --diff "$T/bad.patch" $o
fails 1 "build 'false' of the ref sources failed" $ok --build-cmd false $o
# a diff that only touches the driver program: nothing of the library
cp -a "$src1" "$T/prog-a" && cp -a "$src1" "$T/prog-b"
sed -i '1a /* a comment and a new line */' "$T/prog-b/prog.c"
(cd "$T" && diff -u prog-a/prog.c prog-b/prog.c | sed 's#^--- prog-a/#--- a/#; s#^+++ prog-b/#+++ b/#') \
	>"$T/prog.patch"
fails 1 "changes no (object file|function)" --target "$tgt" --src "$src1" --diff "$T/prog.patch" $o
mkdir "$T/work" && touch "$T/work/x"
fails 1 "is not empty" $ok $o --keep-work "$T/work"

step "a good run with --keep-work"
user_rc $ok $o --keep-work "$T/kept" --level 2 --cve CVE-2024-0001 --description "from a diff"
[ "$KC_RC" = 0 ] || fail "user exited $KC_RC"
grep -Eq "^built $(re_quote "$T/out/p.kpatch"): id FIX level 2 for libcase.so \(build-id $(buildid "$tgt")\), 1 replaced functions?, 0 new$" \
	"$T/user.out" || fail "unexpected report: $(cat "$T/user.out")"
for f in tree orig ref-libcase.so fix.o ref.log orig.log patched.log; do
	[ -e "$T/kept/$f" ] || fail "--keep-work has no $f"
done
"$KC_PY" "$KC_TOOL" meta "$T/out/p.kpatch" >"$T/meta"
for kv in id=FIX level=2 description="from a diff" cves=CVE-2024-0001 target_name=libcase.so nfuncs=1; do
	grep -qxF "$kv" "$T/meta" || fail "metadata has no '$kv'"
done
# the fix object carries the changed function's call frame entry: an unwind table (format 2)
grep -qx 'version=2' "$T/meta" || fail "the patch has no unwind table: $(grep '^version=' "$T/meta")"
[ "$(readelf -wf "$T/kept/fix.o" | grep -c ' FDE cie=')" = 1 ] || fail "fix.o has not one FDE"

step "-o in a directory that does not exist yet: made with its parents"
rm -f "$T/out"/*
user_rc $ok -o "$T/out/new/sub/r.kpatch"
[ "$KC_RC" = 0 ] || fail "user -o in a new directory exited $KC_RC"
[ -f "$T/out/new/sub/r.kpatch" ] || fail "no patch in the new directory"
rm -r "$T/out/new"
# a failed build removes the directories it made
fails 1 "does not apply" $ok --diff "$T/bad.patch" -o "$T/out/new/sub/r.kpatch"
: >"$T/file"
fails 1 "cannot create output directory '$(re_quote "$T/file/sub")'" $ok -o "$T/file/sub/r.kpatch"

step "--build-dir: every build at one given path, removed afterwards"
user_rc $ok -o "$T/out/q.kpatch" --build-dir "$T/at/this/path"
[ "$KC_RC" = 0 ] || fail "user --build-dir exited $KC_RC"
[ ! -e "$T/at/this/path" ] || fail "--build-dir was left behind"
step "several targets: one build of the tree for all"
rm -f "$T/out"/*
mkdir -p "$T/multi"
printf 'all: liba.so libb.so libc.so\nlib%%.so: %%.c\n\t$(CC) -O2 -fPIC -shared -o $@ $<\n' \
	>"$T/multi/Makefile"
for l in a b c; do
	printf 'int %s_val(int x)\n{\n\treturn x * 3 + 1000000;\n}\n' $l >"$T/multi/$l.c"
done
cp -a "$T/multi" "$T/multi-a" && cp -a "$T/multi" "$T/multi-b"
sed -i 's/x \* 3/x * 4/' "$T/multi-b/a.c" "$T/multi-b/b.c"
(cd "$T" && diff -ruN multi-a multi-b | sed 's#^--- multi-a/#--- a/#; s#^+++ multi-b/#+++ b/#') \
	>"$T/multi.patch"
cp -a "$T/multi" "$T/multi-build" && make -s -C "$T/multi-build" >/dev/null 2>&1 ||
	fail "cannot build the multi-library tree"
m="--src $T/multi --diff $T/multi.patch --build-cmd 'echo run >>$T/builds; make'"
mt="--target $T/multi-build/liba.so --target $T/multi-build/libb.so --target $T/multi-build/libc.so"
fails 2 "two targets named 'liba.so'" --target "$T/multi-build/liba.so" --target "$T/multi-a/liba.so" \
	--src "$T/multi" --diff "$T/multi.patch" -o "$T/out"
fails 2 "reference goes with a single" $mt --reference "$tgt" --src "$T/multi" --diff "$T/multi.patch" \
	-o "$T/out"
# one target the tree does not build: refused, and no patch for the others either
fails 1 "do not rebuild target '$(re_quote "$T/other/libcase.so")'" $mt --target "$T/other/libcase.so" \
	--src "$T/multi" --diff "$T/multi.patch" -o "$T/out"
rm -f "$T/builds"
eval "user_rc $mt $m -o $T/out/multi/a/b -v"
[ "$KC_RC" = 0 ] || fail "several targets: exit $KC_RC"
[ "$(lines "$T/builds")" = 3 ] || fail "several targets: $(lines "$T/builds") builds, expected 3 (ref, orig, patched)"
for l in a b; do
	grep -q "^built $(re_quote "$T/out/multi/a/b/lib$l.so.kpatch"): .* 1 replaced function" "$T/user.out" ||
		fail "no patch for lib$l.so"
	grep -q "^  changed ${l}_val ($l.c)$" "$T/user.out" || fail "lib$l.so: ${l}_val not listed"
done
grep -q "^unchanged $(re_quote "$T/multi-build/libc.so"): " "$T/user.out" || fail "libc.so not reported unchanged"
[ "$(ls "$T/out/multi/a/b")" = "liba.so.kpatch
libb.so.kpatch" ] || fail "several targets wrote: $(ls "$T/out/multi/a/b")"
echo "ok"
