#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The first command of the README (`make demo`) on a fresh Debian 12 only
# has what scripts/install-deps.sh installs for "build" when it runs
# `meson setup`. Every pkg-config dependency that a meson.build asks for
# must come from a package on that list (the .pc file's owner, by dpkg -S),
# and without cmocka (the unit tests' framework) meson setup still works.
# The full proof on a fresh chroot is 2003 (make check-slow).
. "$(dirname "$0")/lib.sh"
command -v dpkg >/dev/null && command -v pkg-config >/dev/null || skip "no dpkg or pkg-config"

sh "$KC_TOP/scripts/install-deps.sh" --list build >"$T/build-pkgs" || fail "install-deps.sh --list failed"
[ -s "$T/build-pkgs" ] || fail "install-deps.sh --list build printed nothing"
# dependency('NAME' ...) of every meson.build, threads (no .pc) aside
(cd "$KC_TOP" && git ls-files '*meson.build' 2>/dev/null || find . -name meson.build) |
	while read -r f; do
		sed -n "s/.*[^_]dependency('\([^']*\)'.*/\1/p" "$KC_TOP/$f"
	done | sort -u | grep -vx threads >"$T/deps"
[ -s "$T/deps" ] || fail "found no dependency() in the meson files"
n=0
while read -r dep; do
	pc=$(pkg-config --path "$dep" 2>/dev/null) || fail "pkg-config knows no '$dep' here (make deps-check)"
	pkg=$(dpkg -S "$(readlink -f "$pc")" 2>/dev/null | head -1 | cut -d: -f1)
	[ -n "$pkg" ] || pkg=$(dpkg -S "$pc" 2>/dev/null | head -1 | cut -d: -f1)
	[ -n "$pkg" ] || fail "no package owns $pc ($dep)"
	echo "# $dep: $pc from $pkg"
	grep -qx "$pkg" "$T/build-pkgs" ||
		fail "meson needs '$dep' ($pkg), which install-deps.sh does not install for build"
	n=$((n + 1))
done <"$T/deps"
echo "# $n pkg-config dependencies, each from a package of the build list"

step "meson setup where cmocka is not installed: configures, unit tests left out"
command -v meson >/dev/null || skip "no meson"
# every .pc file but cmocka's, and no cmake to find it either
mkdir "$T/pc"
for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
	for f in "$d"/*.pc; do
		[ -e "$f" ] && [ "$(basename "$f")" != cmocka.pc ] && ln -sf "$f" "$T/pc/"
	done
done
printf "[binaries]\ncmake = '/bin/false'\n" >"$T/native.ini"
PKG_CONFIG_LIBDIR="$T/pc" meson setup --native-file "$T/native.ini" "$T/build" "$KC_TOP" \
	>"$T/setup.log" 2>&1 || {
	tail -5 "$T/setup.log"
	fail "meson setup fails without cmocka"
}
grep -q "cmocka not found: unit tests are not built" "$T/setup.log" || fail "no warning about cmocka"
echo "ok"
