#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Real library, real fix: `kcare-build deb` makes a patch for the zlib
# installed on this machine from tests/deb-fixes/zlib-adler32-kcare.patch
# (adler32 of the 5 bytes "kcare" becomes 0x6b636172); the patch is keyed by
# the build-id of /lib/x86_64-linux-gnu/libz.so.1. Debian's own python3, which
# maps the system zlib, prints zlib.adler32() in a loop; the patch is applied
# with libcare-ctl, the value changes, it is removed, the value is back.
# The checked zlib rebuild is cached in /var/cache/kcare-build (KC_DEB_CACHE)
# so only the first run pays for it. KC_DEB_FRESH=1 (4102, make check-slow)
# uses an empty cache: apt source, rebuild, identity check, then a second run
# that must reuse that cache. Skips (77) only when apt cannot reach the archive.
. "$(dirname "$0")/lib.sh"
need_pack
need_ctl
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *deb ' || skip "kcare-build has no deb command yet"
[ "$(id -u)" = 0 ] || skip "kcare-build deb needs root (apt, mount namespace)"
dpkg-query -W -f='${db:Status-Status}' zlib1g 2>/dev/null | grep -q '^installed' ||
	skip "zlib1g is not installed"
PY=/usr/bin/python3
[ -x "$PY" ] && dpkg -S "$(readlink -f "$PY")" >/dev/null 2>&1 || skip "Debian's python3 is not installed"
LIBZ=/lib/x86_64-linux-gnu/libz.so.1
FIX="$KC_TOP/tests/deb-fixes/zlib-adler32-kcare.patch"
cache=${KC_DEB_CACHE:-/var/cache/kcare-build}
[ -n "${KC_DEB_FRESH:-}" ] && cache="$T/cache"
mkdir -p "$T/out"

# deb NAME ARGS...: kcare-build deb, output in $T/NAME.{out,err}, status in KC_RC
deb() {
	_kc_name=$1
	shift
	t0=$(now_ms)
	timeout "${KC_DEB_TIMEOUT:-1500}" nice -n 10 "$KC_PACK_BIN" deb "$@" \
		>"$T/$_kc_name.out" 2>"$T/$_kc_name.err"
	KC_RC=$?
	echo "\$ kcare-build deb $* -> $KC_RC in $(($(now_ms) - t0)) ms"
	sed 's/^/  out: /' "$T/$_kc_name.out"
	sed 's/^/  err: /' "$T/$_kc_name.err"
	if [ $KC_RC != 0 ] && grep -q 'cannot reach the archive' "$T/$_kc_name.err"; then
		skip "apt cannot reach the Debian archive: $(tail -1 "$T/$_kc_name.err")"
	fi
}

step "usage errors and refusals"
deb usage --package zlib1g -o "$T/out"
[ $KC_RC = 2 ] || fail "deb without --diff exited $KC_RC, expected 2"
deb nopkg --package kc-no-such-package --diff "$FIX" -o "$T/out"
[ $KC_RC = 1 ] || fail "deb of a package that is not installed exited $KC_RC, expected 1"
grep -q "^kcare-build: package 'kc-no-such-package' is not installed$" "$T/nopkg.err" ||
	fail "unexpected refusal: $(tail -1 "$T/nopkg.err")"
[ -z "$(ls "$T/out")" ] || fail "a refusal left files in the output directory"

step "the patch for the installed zlib (cache $cache)"
srcfile=/etc/apt/sources.list.d/kcare-build-src.sources
[ -e "$srcfile" ] && had_src=yes || had_src=no
deb zlib --package zlib1g --diff "$FIX" --cache "$cache" -o "$T/out/zlib" --id zlib-adler32-kcare \
	--cve CVE-2099-0001 --description "demo: adler32 of kcare"
[ $KC_RC = 0 ] || fail "kcare-build deb --package zlib1g exited $KC_RC: $(tail -1 "$T/zlib.err")"
if [ -n "${KC_DEB_FRESH:-}" ]; then
	grep -q '^rebuild of zlib .*: new, ' "$T/zlib.out" || fail "a fresh cache did not rebuild"
	grep -q 'identical: .*libz\.so' "$T/zlib.err" || fail "no identity line for libz"
fi
# -o names a directory that did not exist: made
patch="$T/out/zlib/$(basename "$(readlink -f "$LIBZ")").kpatch"
[ -f "$patch" ] || fail "no patch $patch"
[ "$(ls "$T/out/zlib" | wc -l)" = 1 ] || fail "more than one patch written: $(ls "$T/out/zlib")"
[ -e "$srcfile" ] && has_src=yes || has_src=no
[ $had_src = $has_src ] || fail "$srcfile: there before the build: $had_src, after: $has_src"
want=$(buildid "$LIBZ")
"$KC_PY" "$KC_TOOL" meta "$patch" >"$T/meta"
grep -qx "build_id=$want" "$T/meta" || fail "patch is not for build-id $want: $(grep build_id "$T/meta")"
grep -q "(build-id $want)" "$T/zlib.out" || fail "report names another build-id"

if [ -n "${KC_DEB_FRESH:-}" ]; then
	step "a second run reuses the checked rebuild"
	rm -rf "$T/out/"*
	deb again --package zlib1g --diff "$FIX" --cache "$cache" -o "$T/out" --id zlib-adler32-kcare
	[ $KC_RC = 0 ] || fail "second run exited $KC_RC"
	grep -q '^rebuild of zlib .*: cached, ' "$T/again.out" || fail "second run did not use the cache"
fi

step "Debian's python3 calling the system zlib"
cat >"$T/adler.py" <<'PY'
import time, zlib
print("ready", flush=True)
for i in range(6000):
    print("kcare=%#x hello=%#x" % (zlib.adler32(b"kcare"), zlib.adler32(b"hello")), flush=True)
    time.sleep(0.02)
PY
start_target adler "$PY" -I -S -u "$T/adler.py"
grep -q "libz\.so" "/proc/$TPID/maps" || fail "python3 does not map the system zlib"
expect_line "$T/adler.log" '^kcare=0x6140207 hello=0x62c0215$' 10

step "patch: adler32(kcare) changes, other input does not"
lcctl_ok patch -p "$TPID" "$patch"
expect_value "$T/adler.log" '^kcare=0x6b636172 hello=0x62c0215$'
step "unpatch: back to the original"
lcctl_ok unpatch -p "$TPID"
expect_value "$T/adler.log" '^kcare=0x6140207 hello=0x62c0215$'
alive "$TPID" || fail "python3 died"
echo "PASS"
