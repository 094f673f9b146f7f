#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcare-build deb leaves the host's apt as it found it: the deb-src file it
# adds for the build (/etc/apt/sources.list.d/kcare-build-src.sources) is
# removed again, and the run says so; an output directory it made for a
# build that failed is removed too. Confined: a mount namespace sees a copy
# of /etc/apt and empty apt lists and caches, and a network namespace of its
# own keeps the archive out of reach, so the build fails right after adding
# the file (at apt-get update) and nothing of the host is touched.
. "$(dirname "$0")/lib.sh"
need_pack
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *deb ' || skip "kcare-build has no deb command yet"
[ "$(id -u)" = 0 ] || skip "kcare-build deb needs root (apt, mount namespace)"
command -v unshare >/dev/null || skip "no unshare"
dpkg-query -W -f='${db:Status-Status}' zlib1g 2>/dev/null | grep -q '^installed' ||
	skip "zlib1g is not installed"
FIX="$KC_TOP/tests/deb-fixes/zlib-adler32-kcare.patch"
SRC=/etc/apt/sources.list.d/kcare-build-src.sources

cp -a /etc/apt "$T/etc-apt"
rm -f "$T/etc-apt/sources.list.d/kcare-build-src.sources"
mkdir -p "$T/lists/partial" "$T/cache-apt/archives/partial"
unshare --mount --net sh -c 'mount --bind "$1/etc-apt" /etc/apt &&
	mount --bind "$1/lists" /var/lib/apt/lists &&
	mount --bind "$1/cache-apt" /var/cache/apt &&
	[ ! -e "$4" ] || exit 3
	exec timeout 300 "$2" deb --package zlib1g --diff "$3" --cache "$1/cache" -o "$1/out/new"' \
	sh "$T" "$KC_PACK_BIN" "$FIX" "$SRC" >"$T/deb.out" 2>"$T/deb.err"
rc=$?
echo "\$ (confined) kcare-build deb --package zlib1g -o $T/out/new -> $rc"
sed 's/^/  out: /' "$T/deb.out"
sed 's/^/  err: /' "$T/deb.err"
[ $rc = 3 ] && fail "the namespace still sees $SRC"
grep -q "checking deb-src entries" "$T/deb.err" || skip "the build did not get as far as apt"
if [ ! -e "$T/etc-apt/sources.list.d/kcare-build-src.sources" ] &&
	! grep -q "removed $SRC" "$T/deb.err"; then
	skip "this host's apt has deb-src entries already: kcare-build added nothing"
fi
[ $rc = 1 ] || fail "kcare-build deb without a network exited $rc, expected 1"
grep -q "^kcare-build: apt cannot reach the archive" "$T/deb.err" ||
	fail "unexpected failure: $(tail -1 "$T/deb.err")"
[ ! -e "$T/etc-apt/sources.list.d/kcare-build-src.sources" ] ||
	fail "kcare-build left $SRC behind: $(cat "$T/etc-apt/sources.list.d/kcare-build-src.sources")"
grep -q "removed $(re_quote "$SRC") (added for this build)" "$T/deb.err" ||
	fail "kcare-build did not say that it removed $SRC"
[ ! -e "$T/out" ] || fail "the failed build left its output directory $T/out behind"
echo "ok"
