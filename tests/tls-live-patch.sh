#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# OpenSSL live-patched under load, zero failed requests:
#   1. `kcare-build deb --package libssl3` makes patches for the installed
#      libssl.so.3/libcrypto.so.3 from tests/deb-fixes/openssl-session-print-
#      hide-key.patch (SSL_SESSION_print stops printing the session secret);
#      the first run rebuilds OpenSSL's libraries (minutes), later runs reuse
#      the cache in /var/cache/kcare-build (KC_DEB_CACHE);
#   2. Debian's `openssl s_server -www` serves https://127.0.0.1:PORT/, whose
#      page shows SSL_SESSION_print() of each connection;
#   3. a client loop (curl) sends requests one after another the whole time
#      while the patch is applied with libcare-ctl, then removed;
#   4. the page shows the secret, then "(48 bytes, hidden)", then the secret
#      again, and not one request failed.
# Run as root from the top of the tree after building:
#   KC_BUILD=$PWD/build sh tests/tls-live-patch.sh
# Exit 0 pass, 1 fail, 77 skip (not root, no openssl/curl, archive unreachable).
KC_TOP=${KC_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
. "$KC_TOP/tests/integration/lib.sh"
need_pack
need_ctl
[ "$(id -u)" = 0 ] || skip "needs root (apt, mount namespace, ptrace)"
for b in /usr/bin/openssl /usr/bin/curl; do
	[ -x $b ] || skip "$b is not installed"
done
FIX="$KC_TOP/tests/deb-fixes/openssl-session-print-hide-key.patch"
cache=${KC_DEB_CACHE:-/var/cache/kcare-build}
PORT=${KC_TLS_PORT:-$((20000 + $$ % 20000))}
ROUNDS=${KC_TLS_ROUNDS:-3}
mkdir -p "$T/out"

step "kcare-build deb --package libssl3 (cache $cache)"
t0=$(now_ms)
timeout "${KC_DEB_TIMEOUT:-3600}" nice -n 10 "$KC_PACK_BIN" deb --package libssl3 --diff "$FIX" \
	--cache "$cache" -o "$T/out" --id openssl-hide-session-key >"$T/deb.out" 2>"$T/deb.err"
rc=$?
cat "$T/deb.err" "$T/deb.out"
if [ $rc != 0 ]; then
	grep -q 'cannot reach the archive' "$T/deb.err" && skip "apt cannot reach the Debian archive"
	fail "kcare-build deb --package libssl3 exited $rc: $(tail -1 "$T/deb.err")"
fi
echo "# kcare-build deb took $(($(now_ms) - t0)) ms"
ssl=$(readlink -f /usr/lib/x86_64-linux-gnu/libssl.so.3)
[ -f "$T/out/$(basename "$ssl").kpatch" ] || fail "no patch for $ssl"
"$KC_PY" "$KC_TOOL" meta "$T/out/$(basename "$ssl").kpatch" | grep -qx "build_id=$(buildid "$ssl")" ||
	fail "the libssl patch is not keyed by the installed build-id"

step "openssl s_server -www on 127.0.0.1:$PORT"
/usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=localhost -keyout "$T/key.pem" -out "$T/cert.pem" >"$T/req.log" 2>&1 ||
	fail "cannot make a certificate: $(tail -1 "$T/req.log")"
/usr/bin/openssl s_server -accept "127.0.0.1:$PORT" -cert "$T/cert.pem" -key "$T/key.pem" \
	-www -quiet >"$T/server.log" 2>&1 &
SPID=$!
track $SPID
n=0
until curl -sk --max-time 2 "https://127.0.0.1:$PORT/" -o /dev/null; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "s_server does not answer: $(tail -3 "$T/server.log")"
	alive $SPID || fail "s_server died: $(tail -3 "$T/server.log")"
	sleep 0.1
done

# the client: requests back to back until told to stop (or 600 s), one line each:
# "ok secret", "ok hidden" or "FAIL rc"
(
	end=$(($(date +%s) + 600))
	while [ ! -e "$T/stop" ] && [ "$(date +%s)" -lt $end ]; do
		if curl -sk --max-time 5 "https://127.0.0.1:$PORT/" -o "$T/page"; then
			if grep -Eq '(Master-Key|Resumption PSK): \([0-9]+ bytes, hidden\)' "$T/page"; then
				echo "ok hidden"
			elif grep -Eq '(Master-Key|Resumption PSK): [0-9A-F]{32,}' "$T/page"; then
				echo "ok secret"
			else
				echo "FAIL page"
			fi
		else
			echo "FAIL $?"
		fi
	done
) >"$T/client.log" 2>&1 &
CPID=$!
track $CPID
expect_line "$T/client.log" '^ok secret$' 20

r=1
while [ $r -le "$ROUNDS" ]; do
	step "round $r: patch s_server ($SPID) under load"
	lcctl_ok patch -p "$SPID" "$T/out"
	expect_value "$T/client.log" '^ok hidden$' 20
	m=$(lines "$T/client.log")
	wait_count "$T/client.log" '^ok hidden$' 20 20 "$m" || fail "too few requests while patched"
	step "round $r: unpatch"
	lcctl_ok unpatch -p "$SPID"
	expect_value "$T/client.log" '^ok secret$' 20
	m=$(lines "$T/client.log")
	wait_count "$T/client.log" '^ok secret$' 20 20 "$m" || fail "too few requests after unpatch"
	r=$((r + 1))
done
touch "$T/stop"
wait $CPID
alive $SPID || fail "s_server died"
total=$(lines "$T/client.log")
failed=$(grep -c '^FAIL' "$T/client.log")
echo "# $total requests, $(grep -c '^ok hidden$' "$T/client.log") while patched, $failed failed"
[ "$failed" = 0 ] || fail "$failed requests failed: $(grep '^FAIL' "$T/client.log" | sort | uniq -c)"
echo "PASS: $total requests over $ROUNDS patch/unpatch rounds, 0 failed"
