#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcare-build kernel on the command line, without a real kernel tree: a
# tiny fake one, "already prepared" (it has include/config/auto.conf, so
# it is used in place) with kbuild's own Makefile.lib from the installed
# headers, deciding what is built from a fake config. Checked: usage
# errors (exit 2); an unknown kernel, an unknown package version, another
# compiler than the kernel's (or none), a diff
# that does not apply, a diff to a file no object is built from, to a
# non-C file, a new file (exit 1, one line, no -o directory left); and a
# good run: the objects mapped to vmlinux or their module (composite
# modules by their name), a header change rebuilding the objects that
# include it, both sides built with -ffunction-sections, objects.tsv, and
# the tree itself left untouched (the working trees are copies on write).
. "$(dirname "$0")/lib.sh"
need_pack
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *kernel ' || skip "kcare-build has no kernel command yet"
common=$(ls -d /usr/src/linux-headers-*-common 2>/dev/null | head -1)
[ -n "$common" ] && [ -f "$common/scripts/Makefile.lib" ] || skip "no kernel headers (scripts/Makefile.lib)"
command -v patch >/dev/null || skip "no patch(1)"

KB="$KC_PACK_BIN"
ccline=$(gcc --version | head -1)

# fake headers: a release and the compiler it was "built" with
H="$T/headers"
mkdir -p "$H/include/generated"
echo '#define UTS_RELEASE "6.1.0-0-kctest"' >"$H/include/generated/utsrelease.h"
printf 'CONFIG_CC_VERSION_TEXT="%s"\n' "$ccline" >"$H/.config"

# fake prepared tree
S="$T/src"
mkdir -p "$S/include/config" "$S/scripts" "$S/kernel" "$S/drivers/foo" "$S/fs/bar" "$S/Documentation"
for f in Kbuild.include Makefile.compiler Makefile.lib; do
	cp "$common/scripts/$f" "$S/scripts/$f"
done
printf 'CONFIG_A=y\nCONFIG_BAR=m\n' >"$S/include/config/auto.conf"
# the single-object build: like kbuild, records the dependencies in .NAME.o.cmd
cat >"$S/Makefile" <<'EOF'
%.o: %.c
	$(CC) $(KCFLAGS) -MD -MF $(@D)/.$(@F).d -c -o $@ $<
	cp $(@D)/.$(@F).d $(@D)/.$(@F).cmd
EOF
cat >"$S/kernel/Makefile" <<'EOF'
obj-y += core.o
obj-$(CONFIG_A) += opt.o
obj-$(CONFIG_NOPE) += off.o
lib-y += util.o
EOF
cat >"$S/fs/Makefile" <<'EOF'
obj-$(CONFIG_BAR) += bar/
EOF
cat >"$S/fs/bar/Makefile" <<'EOF'
obj-$(CONFIG_BAR) += bar-fs.o
bar-fs-y := super.o inode.o
EOF
: >"$S/drivers/Makefile"
echo 'obj-y += foo.o' >"$S/drivers/foo/Makefile"
echo 'static inline int core_limit(void) { return 10; }' >"$S/kernel/core.h"
printf '#include "core.h"\nint core_get(void) { return core_limit(); }\n' >"$S/kernel/core.c"
printf 'int opt_get(int x) { return x + 1; }\n' >"$S/kernel/opt.c"
printf 'int off_get(void) { return 0; }\n' >"$S/kernel/off.c"
printf 'int util_get(void) { return 6; }\n' >"$S/kernel/util.c"
printf 'int super_get(void) { return 2; }\n' >"$S/fs/bar/super.c"
printf '#include "../../kernel/core.h"\nint inode_get(void) { return core_limit(); }\n' >"$S/fs/bar/inode.c"
printf 'int foo_get(void) { return 3; }\n' >"$S/drivers/foo/foo.c"
echo "text" >"$S/Documentation/notes.txt"
# kbuild's output is what is newer than the top Makefile: here nothing
touch "$S/Makefile"
(cd "$S" && find . -type f -exec sha1sum {} + | sort) >"$T/tree.sum"
C="$T/cache"

mkdiff() { # mkdiff NAME FILE SED-EXPR: a -p1 diff of FILE changed by sed
	mkdir -p "$T/d/a/$(dirname "$2")" "$T/d/b/$(dirname "$2")"
	cp "$S/$2" "$T/d/a/$2"
	sed "$3" "$S/$2" >"$T/d/b/$2"
	(cd "$T/d" && diff -u "a/$2" "b/$2") >"$T/$1.patch"
	rm -rf "$T/d"
}
mkdiff opt kernel/opt.c 's/x + 1/x + 2/'
mkdiff core-h kernel/core.h 's/10/11/'
mkdiff super fs/bar/super.c 's/2/4/'
mkdiff foo drivers/foo/foo.c 's/3/5/'
mkdiff off kernel/off.c 's/0/1/'
mkdiff util kernel/util.c 's/6/7/'
mkdiff make kernel/Makefile 's/core.o/core.o more.o/'
mkdiff doc Documentation/notes.txt 's/text/more text/'
sed 's/x + 1/x - 7/' "$T/opt.patch" >"$T/stale.patch"
printf -- '--- /dev/null\n+++ b/kernel/new.c\n@@ -0,0 +1 @@\n+int n;\n' >"$T/new.patch"

# run EXPECTED-STATUS ARGS...: output in $T/out.txt, errors in $T/err.txt
run() {
	want=$1
	shift
	timeout "$KC_CMD_TIMEOUT" "$KB" kernel "$@" >"$T/out.txt" 2>"$T/err.txt"
	st=$?
	[ "$st" = "$want" ] || {
		cat "$T/out.txt" "$T/err.txt"
		fail "kcare-build kernel $*: exit $st, want $want"
	}
}
# refused WHAT ARGS...: exit 1, one 'kcare-build:' error line saying WHAT, no -o left
refused() {
	what=$1
	shift
	run 1 "$@"
	# progress lines, then the error as the last line; nothing else
	grep -v '^kcare-build: ' "$T/err.txt" && fail "stderr has lines of other tools"
	tail -n 1 "$T/err.txt" >"$T/err1.txt"
	[ -s "$T/out.txt" ] && fail "a refusal printed a result: $(cat "$T/out.txt")"
	grep -q "$what" "$T/err1.txt" || {
		cat "$T/err1.txt"
		fail "the error does not say '$what'"
	}
	[ ! -e "$T/o" ] || fail "-o directory left after a refusal"
}

step "usage"
run 0 --help
grep -q -- '--objects-only' "$T/out.txt" || fail "--help does not list --objects-only"
run 2 --prepare-only
run 2 --kernel x
run 2 --kernel x --prepare-only --objects-only
run 2 --kernel x --objects-only -o "$T/o"
run 2 --kernel x --objects-only --diff "$T/opt.patch"
run 2 --kernel x --prepare-only --diff "$T/opt.patch"
run 2 --kernel x --prepare-only --bogus

step "unknown kernel, unknown package"
refused "unknown kernel '9.9.9-nope'" --kernel 9.9.9-nope --prepare-only --cache "$C"
refused "no kernel headers in" --kernel "$T/nothere" --prepare-only --cache "$C"
mkdir -p "$T/clean"
cp "$S/Makefile" "$T/clean/"
refused "no Debian package of kernel 6.1.0-0-kctest" --kernel "$H" --source "$T/clean" \
	--prepare-only --cache "$C"

step "another compiler"
mkdir -p "$T/h2/include/generated" "$T/h3/include/generated"
cp "$H/include/generated/utsrelease.h" "$T/h2/include/generated/"
cp "$H/include/generated/utsrelease.h" "$T/h3/include/generated/"
echo 'CONFIG_CC_VERSION_TEXT="gcc (Debian 1.0-1) 1.0"' >"$T/h2/.config"
echo 'CONFIG_CC_VERSION_TEXT="kc-no-such-cc (x) 1.0"' >"$T/h3/.config"
refused "was built with 'gcc (Debian 1.0-1) 1.0', but gcc here is '$ccline'" \
	--kernel "$T/h2" --source "$S" --cache "$C" --prepare-only
refused "was built with 'kc-no-such-cc (x) 1.0', and kc-no-such-cc is not installed here" \
	--kernel "$T/h3" --source "$S" --cache "$C" --prepare-only

step "prepared tree used as it is"
run 0 --kernel "$H" --source "$S" --cache "$C" --prepare-only
grep -q "used as it is" "$T/out.txt" || fail "no 'used as it is' in: $(cat "$T/out.txt")"

step "refusals"
A="--kernel $H --source $S --cache $C --objects-only -o $T/o"
# shellcheck disable=SC2086
refused "does not apply to the source of 6.1.0-0-kctest" $A --diff "$T/stale.patch"
grep -q "FAILED" "$T/err1.txt" || fail "the error does not quote patch's reason"
# shellcheck disable=SC2086
refused "does not apply" $A --diff "$T/opt.patch" --diff "$T/opt.patch"
# shellcheck disable=SC2086
refused "'drivers/foo/foo.c' is not built in this configuration" $A --diff "$T/foo.patch"
# shellcheck disable=SC2086
refused "'kernel/off.c' is not built in this configuration" $A --diff "$T/off.patch"
# shellcheck disable=SC2086
refused "'kernel/Makefile' is not a C source or header" $A --diff "$T/make.patch"
# shellcheck disable=SC2086
refused "the diff removes a file\|new source file" $A --diff "$T/new.patch"
# shellcheck disable=SC2086
refused "the diffs change no code" $A --diff "$T/doc.patch"
# shellcheck disable=SC2086
refused "cannot open\|No such file\|diff '$T/none.patch'" $A --diff "$T/none.patch"

step "good: a .c in vmlinux, one in lib-y, a part of a composite module, a header"
# shellcheck disable=SC2086
run 0 $A --diff "$T/opt.patch" --diff "$T/super.patch" --diff "$T/core-h.patch" --diff "$T/util.patch"
cat "$T/out.txt"
grep -q "^kcare-build: apply $T/super.patch" "$T/err.txt" || fail "no progress lines"
tsv="$T/o/objects.tsv"
[ -f "$tsv" ] || fail "no objects.tsv"
for want in "kernel/opt.o	vmlinux" "fs/bar/super.o	bar_fs" "kernel/core.o	vmlinux" \
	"fs/bar/inode.o	bar_fs" "kernel/util.o	vmlinux"; do
	grep -q "^$want	orig/" "$tsv" || fail "objects.tsv lacks '$want': $(cat "$tsv")"
done
[ "$(wc -l <"$tsv")" = 5 ] || fail "objects.tsv has other objects: $(cat "$tsv")"
for o in kernel/opt.o fs/bar/super.o kernel/core.o fs/bar/inode.o kernel/util.o; do
	[ -s "$T/o/orig/$o" ] && [ -s "$T/o/patched/$o" ] || fail "no orig/patched $o"
	objdump -h "$T/o/orig/$o" | grep -q '\.text\.' || fail "$o: not built with -ffunction-sections"
	cmp -s "$T/o/orig/$o" "$T/o/patched/$o" && fail "$o: original and patched are the same"
done
objdump -d "$T/o/orig/kernel/opt.o" | grep -q '\$0x1\|lea *0x1(' || fail "orig opt.o is not the original"
objdump -d "$T/o/patched/kernel/opt.o" | grep -q '\$0x2\|lea *0x2(' || fail "patched opt.o is not patched"
(cd "$S" && find . -type f -exec sha1sum {} + | sort) >"$T/tree2.sum"
cmp -s "$T/tree.sum" "$T/tree2.sum" || {
	diff "$T/tree.sum" "$T/tree2.sum"
	fail "the prepared tree was changed"
}
ls "$C"/kernel-src/*/ 2>/dev/null | grep -q '^work\.' && fail "a working tree was left in the cache"
echo "PASS"
