#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcare-build kernel against Debian's real kernel (the installed headers'
# ABI, found at run time): the preparation (linux-source of that exact
# version downloaded, Debian's config, make prepare, the reproduction
# check against the vmlinux of the linux-image package) and its reuse
# from the cache; then --objects-only with real diffs: a function of
# vmlinux (fs/open.c), a part of a composite module (fs/fat/inode.c,
# module fat), a local header (lib/kstrtox.h: the objects that include
# it), built with function sections on both sides; refusals on the real
# tree (a diff that does not apply, a driver this config does not build),
# and a source tree whose code differs from the target's (kernel/sys.c's
# umask changed: a second, full preparation that must be refused).
# The cache is $KC_BUILD/kernel-cache, kept between runs (the first run
# downloads 140 MB and takes minutes): make check-slow only.
. "$(dirname "$0")/lib.sh"
[ -n "${KC_SLOW:-}" ] || skip "slow: runs in make check-slow (KC_SLOW=1)"
need_pack
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *kernel ' || skip "kcare-build has no kernel command yet"
hdr=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)
[ -n "$hdr" ] || skip "no linux-headers-*-amd64 installed"
ABI=${hdr#/usr/src/linux-headers-}
for t in patch make bison flex gcc; do
	command -v $t >/dev/null || skip "no $t (make deps-check installs it)"
done

C="$KC_BUILD/kernel-cache"
KB="$KC_PACK_BIN"

step "prepare kernel $ABI (cache $C)"
start=$(date +%s)
timeout 3600 "$KB" kernel --kernel "$ABI" --cache "$C" --prepare-only >"$T/out.txt" 2>"$T/err.txt" || {
	cat "$T/err.txt"
	grep -q 'cannot be downloaded' "$T/err.txt" && skip "Debian's archive is out of reach"
	fail "preparation failed"
}
cat "$T/out.txt"
cp "$T/out.txt" "$T/prep.txt"
echo "# $(($(date +%s) - start)) s"
grep -q "^prepared kernel $ABI (Debian .*) in .*: reproduces the target" "$T/out.txt" || fail "unexpected report"
tree=$(sed -n 's/^prepared kernel .* in \(.*\): reproduces.*/\1/p' "$T/out.txt")
[ -f "$tree/include/config/auto.conf" ] || fail "no prepared tree at '$tree'"
grep -q '^checked [1-9]' "$tree/../ready" || fail "the stamp does not record the check"

step "second run: from the cache"
"$KB" kernel --kernel "$ABI" --cache "$C" --prepare-only >"$T/out.txt" 2>"$T/err.txt" || fail "$(cat "$T/err.txt")"
grep -q "reproduces the target, from the cache" "$T/out.txt" || fail "not reused: $(cat "$T/out.txt")"

# diffs against the pristine tree
mkdiff() { # mkdiff NAME FILE SED-EXPR
	mkdir -p "$T/d/a/$(dirname "$2")" "$T/d/b/$(dirname "$2")"
	cp "$tree/$2" "$T/d/a/$2"
	sed "$3" "$tree/$2" >"$T/d/b/$2"
	cmp -s "$T/d/a/$2" "$T/d/b/$2" && fail "mkdiff $1: the sed expression changed nothing"
	(cd "$T/d" && diff -u "a/$2" "b/$2") >"$T/$1.patch"
	rm -rf "$T/d"
}
mkdiff open fs/open.c '/^long do_sys_open(/,/^}/s/struct open_how how = build_open_how(flags, mode);/&\n\tif (flags == -1) return -EPERM;/'
mkdiff fat fs/fat/inode.c '/^static int fat_statfs(/,/^}/s/buf->f_type = dentry->d_sb->s_magic;/&\n\tbuf->f_namelen = 255;/'
mkdiff kstrtox lib/kstrtox.h 's/KSTRTOX_OVERFLOW\t*(1U << 31)/KSTRTOX_OVERFLOW (1U << 30)/'
mkdiff greybus drivers/greybus/core.c '0,/^#include/s/^#include/\/* changed *\/\n#include/'
sed 's/^ \(.\)/ X\1/' "$T/open.patch" >"$T/stale.patch"

step "objects-only: vmlinux function, module part, header"
start=$(date +%s)
timeout 1800 "$KB" kernel --kernel "$ABI" --cache "$C" --objects-only -o "$T/o" \
	--diff "$T/open.patch" --diff "$T/fat.patch" --diff "$T/kstrtox.patch" \
	>"$T/out.txt" 2>"$T/err.txt" || fail "$(cat "$T/err.txt")"
cat "$T/out.txt"
echo "# $(($(date +%s) - start)) s"
tsv="$T/o/objects.tsv"
for want in "fs/open.o	vmlinux" "fs/fat/inode.o	fat" "lib/kstrtox.o	vmlinux" "lib/vsprintf.o	vmlinux"; do
	grep -q "^$want	orig/" "$tsv" || fail "objects.tsv lacks '$want': $(cat "$tsv")"
done
objdump -h "$T/o/orig/fs/open.o" | grep -q ' \.text\.do_sys_open ' || fail "open.o: no .text.do_sys_open section"
objdump -h "$T/o/patched/fs/fat/inode.o" | grep -q ' \.text\.fat_statfs ' || fail "inode.o: no .text.fat_statfs section"
cmp -s "$T/o/orig/fs/open.o" "$T/o/patched/fs/open.o" && fail "open.o: original and patched are the same"
# the module part was compiled as a part of module fat
strings "$T/o/orig/fs/fat/inode.o" | grep -q 'fat' || fail "inode.o does not look like fat's"

step "refusals on the real tree"
rm -rf "$T/o2"
"$KB" kernel --kernel "$ABI" --cache "$C" --objects-only -o "$T/o2" --diff "$T/stale.patch" \
	>"$T/out.txt" 2>"$T/err.txt" && fail "a stale diff was accepted"
tail -n 1 "$T/err.txt" | grep -q "does not apply to the source of $ABI" || fail "$(cat "$T/err.txt")"
[ ! -e "$T/o2" ] || fail "-o left after a refusal"
"$KB" kernel --kernel "$ABI" --cache "$C" --objects-only -o "$T/o2" --diff "$T/greybus.patch" \
	>"$T/out.txt" 2>"$T/err.txt" && fail "a diff to an unbuilt driver was accepted"
tail -n 1 "$T/err.txt" | grep -q "'drivers/greybus/core.c' is not built in this configuration" ||
	fail "$(cat "$T/err.txt")"
[ ! -e "$T/o2" ] || fail "-o left after a refusal"
ls "$tree/.." | grep -q '^work\.' && fail "a working tree was left in the cache"

step "a source that does not reproduce the target is refused (a full preparation)"
ver=$(sed -n 's/^prepared kernel .* (Debian \([^,]*\), .*/\1/p' "$T/prep.txt")
mm=$(echo "$ABI" | cut -d. -f1-2)
mkdir "$T/deb"
(cd "$T/deb" && apt-get download "linux-source-$mm=$ver" >"$T/dl.log" 2>&1) || fail "cannot download linux-source-$mm $ver"
(cd "$T/deb" && dpkg-deb --fsys-tarfile ./*.deb | tar -xO --wildcards '*/linux-source-*.tar.xz' | tar -xJ) ||
	fail "cannot unpack linux-source"
rm -f "$T"/deb/*.deb
src=$(ls -d "$T"/deb/linux-source-*)
sed -i '/^SYSCALL_DEFINE1(umask, int, mask)/,/^}/s/mask & S_IRWXUGO/mask \& 0700/' "$src/kernel/sys.c"
grep -q 'mask & 0700' "$src/kernel/sys.c" || fail "cannot change kernel/sys.c"
timeout 3600 "$KB" kernel --kernel "$ABI" --source "$src" --cache "$T/negcache" --prepare-only \
	>"$T/out.txt" 2>"$T/err.txt" && fail "a changed source was said to reproduce the target"
tail -n 1 "$T/err.txt"
tail -n 1 "$T/err.txt" | grep -q "does not reproduce kernel $ABI.*function '[a-z0-9_]*umask[a-z0-9_]*' differs from the target's vmlinux" ||
	fail "unexpected refusal: $(tail -n 3 "$T/err.txt")"
ls "$T"/negcache/kernel-src/*/ready 2>/dev/null && fail "a refused tree has a ready stamp"
echo "PASS"
