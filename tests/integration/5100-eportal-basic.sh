#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal end to end, part 1: first start (schema, keys, signed repository),
# the kc.eportal CLI for feeds/keys/users/api keys, agent registration and
# check-ins over HTTP, and the admin API's authentication.
# The other 51xx tests source this file with KC_EP_LIB=1 for its helpers:
#   ep_start [ARGS]   start eportal on a free port (EP_URL, EP_PID), data in EP_DATA
#   ep_stop / ep_kill stop it (SIGTERM) / kill it (SIGKILL)
#   epc ARGS          run kc.eportal on the same data (and EP_DB)
#   req METHOD PATH [BODY] [CURL ARGS]   HTTP request: status in ST, body in $T/body
#   jget EXPR         jq EXPR over $T/body
. "$(dirname "$0")/lib.sh"

EP_BIN="$KC_BUILD/src/eportal/eportal"
EPC_BIN="$KC_BUILD/src/eportal/kc.eportal"
EP_DATA="${EP_DATA:-$T/data}"
EP_DB="${EP_DB:-}"

ep_need() {
	[ -x "$EP_BIN" ] && [ -x "$EPC_BIN" ] || skip "eportal is not built in $KC_BUILD"
	command -v curl >/dev/null 2>&1 || skip "curl is not installed"
	command -v jq >/dev/null 2>&1 || skip "jq is not installed"
}

ep_free_port() {
	"$KC_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

epc() {
	if [ -n "$EP_DB" ]; then
		timeout "$KC_CMD_TIMEOUT" "$EPC_BIN" --data "$EP_DATA" --db "$EP_DB" "$@"
	else
		timeout "$KC_CMD_TIMEOUT" "$EPC_BIN" --data "$EP_DATA" "$@"
	fi
}

ep_start() {
	EP_PORT=$(ep_free_port)
	EP_URL="http://127.0.0.1:$EP_PORT"
	: >"$T/eportal.log"
	if [ -n "$EP_DB" ]; then
		"$EP_BIN" --listen "127.0.0.1:$EP_PORT" --data "$EP_DATA" --db "$EP_DB" "$@" \
			>>"$T/eportal.log" 2>&1 &
	else
		"$EP_BIN" --listen "127.0.0.1:$EP_PORT" --data "$EP_DATA" "$@" >>"$T/eportal.log" 2>&1 &
	fi
	EP_PID=$!
	track $EP_PID
	_n=0
	while ! grep -q '^eportal: listening' "$T/eportal.log"; do
		alive $EP_PID || fail "eportal did not start: $(cat "$T/eportal.log")"
		_n=$((_n + 1))
		[ $_n -lt 300 ] || fail "eportal did not start in 30 s"
		sleep 0.1
	done
}

ep_stop() {
	kill -TERM "$EP_PID" 2>/dev/null
	wait "$EP_PID" 2>/dev/null
	EP_RC=$?
}

ep_kill() {
	kill -9 "$EP_PID" 2>/dev/null
	wait "$EP_PID" 2>/dev/null
}

req() {
	_m=$1
	_p=$2
	shift 2
	_b=""
	if [ $# -gt 0 ]; then
		_b=$1
		shift
	fi
	if [ -n "$_b" ]; then
		ST=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' -X "$_m" --data-binary "$_b" \
			-H 'Content-Type: application/json' "$@" "$EP_URL$_p")
	else
		ST=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' -X "$_m" "$@" "$EP_URL$_p")
	fi
}

jget() {
	jq -r "$1" "$T/body"
}

expect_status() { # WANT WHAT
	[ "$ST" = "$1" ] || fail "$2: status $ST, expected $1: $(head -c 400 "$T/body")"
}

expect_error() { # STATUS CODE WHAT
	expect_status "$1" "$3"
	[ "$(jget .error)" = "$2" ] || fail "$3: error '$(jget .error)', expected '$2'"
	[ -n "$(jget .message)" ] || fail "$3: no message"
}

[ -n "${KC_EP_LIB:-}" ] && return 0

ep_need

step "usage errors"
"$EP_BIN" --bogus >/dev/null 2>&1
[ $? = 2 ] || fail "eportal --bogus does not exit 2"
"$EP_BIN" --listen nonsense --data "$T/x" >"$T/out" 2>&1
[ $? = 1 ] && [ "$(wc -l <"$T/out")" = 1 ] || fail "bad --listen: $(cat "$T/out")"
"$EP_BIN" --help | grep -q -- '--listen' || fail "eportal --help"
"$EPC_BIN" --help | grep -q 'root-key' || fail "kc.eportal --help"

step "first start creates data, schema, keys and a signed repository"
ep_start --timeout 3
[ -n "$EP_DB" ] || [ -f "$EP_DATA/eportal.db" ] || fail "no database"
[ "$(stat -c %a "$EP_DATA/keys/root.key")" = 600 ] || fail "root key is not 0600"
[ "$(epc root-key)" = "$EP_DATA/keys/root.pub" ] || fail "root-key prints $(epc root-key)"
req GET /repo/timestamp.json
expect_status 200 "timestamp.json"
[ "$(jq -r '.payload | @base64d | fromjson | ._type' "$T/body")" = timestamp ] || fail "timestamp.json: $(cat "$T/body")"
req GET /repo/root.json
expect_status 200 "root.json"
req GET /repo/feeds/main/kernel.json
expect_status 200 "feed main/kernel"
req GET /repo/../eportal.db
[ "$ST" = 404 ] || [ "$ST" = 400 ] || fail "path traversal answered $ST"
req GET /repo/.lock
expect_status 404 "dot file"
req GET /install-kernelcare
expect_status 200 "install script"
grep -q "PATCH_SERVER \"\$BASE/repo/\"" "$T/body" || fail "install script does not set PATCH_SERVER"
grep -q "$EP_URL" "$T/body" || fail "install script does not name this server"
sh -n "$T/body" || fail "install script is not valid sh"

step "CLI: feeds, keys, users, api keys"
epc feed add test --channel test --auto-update yes --deploy-after 12 || fail "feed add"
epc feed add test 2>"$T/err" && fail "feed added twice"
grep -q "already exists" "$T/err" || fail "duplicate feed: $(cat "$T/err")"
epc feed delete main 2>/dev/null && fail "main deleted"
KEY=$(epc key -a --server-limit 2 --feed test --note "two hosts") || fail "key -a"
[ ${#KEY} = 32 ] || fail "key '$KEY'"
KEY2=$(epc key add --product kernel --product libs) || fail "key add"
epc key -a --feed nosuch 2>/dev/null && fail "key on a missing feed"
epc key change "$KEY2" --sticky 2026-01-15 || fail "key change"
epc key list --json >"$T/keys.json"
[ "$(jq -r ".[] | select(.key == \"$KEY2\") | .sticky" "$T/keys.json")" = 2026-01-15 ] || fail "sticky not stored"
epc feed delete test 2>/dev/null && fail "feed with keys deleted"
epc user -a admin -p 'pw one' || fail "user -a"
epc user -a viewer -p pw2 -r readonly || fail "user -a readonly"
TOKEN=$(epc api-key -a --note ci) || fail "api-key -a"
RO_TOKEN=$(epc api-key -a --readonly) || fail "api-key -a --readonly"
epc bogus 2>/dev/null
[ $? = 2 ] || fail "unknown command does not exit 2"
epc key -a --server-limit x 2>/dev/null
[ $? = 2 ] || fail "bad option value does not exit 2"

step "registration, limits, check-ins"
req POST /api/v1/register "{\"key\":\"$KEY\",\"hostname\":\"web1\",\"kernel_id\":\"k1\",\"patch_level\":1,\"distro\":\"debian 12\",\"agent_version\":\"0.1\",\"tags\":[\"web\",\"prod\"]}"
expect_status 201 "register"
SID1=$(jget .server_id)
[ "$(jget .feed)" = test ] || fail "register: feed $(jget .feed)"
[ "$(jget .repo)" = "$EP_URL/repo/" ] || fail "register: repo $(jget .repo)"
req POST /api/v1/register "{\"key\":\"$KEY\",\"hostname\":\"web2\"}"
expect_status 201 "register 2"
SID2=$(jget .server_id)
req POST /api/v1/register "{\"key\":\"$KEY\",\"hostname\":\"web3\"}"
expect_error 403 key-limit-reached "third server on a key of 2"
req POST /api/v1/register '{"key":"0000000000000000","hostname":"x"}'
expect_error 403 unknown-key "unknown key"
req POST /api/v1/register '{"hostname":"x"}'
expect_error 403 forbidden "no key, no address range"
req POST /api/v1/register '{"key": "abc", "hostname": '
expect_error 400 bad-input "malformed JSON"
req POST /api/v1/register '[1,2]'
expect_error 400 bad-input "JSON array"
req POST /api/v1/register "{\"key\":\"$KEY2\",\"hostname\":7}"
expect_error 400 invalid-request "hostname of the wrong type"
req POST /api/v1/register "{\"key\":\"$KEY2\",\"tags\":[\"a,b\"]}"
expect_error 400 invalid-request "tag with a comma"
"$KC_PY" -c 'print("{\"key\":\"" + "a" * 100000 + "\"}")' >"$T/big.json"
ST=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' -X POST --data-binary @"$T/big.json" "$EP_URL/api/v1/register")
expect_error 413 too-large "oversize body"
# the same without a declared length: the connection is dropped at the limit
ST=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' \
	--data-binary @"$T/big.json" "$EP_URL/api/v1/register")
case "$ST" in 000 | 413) ;; *) fail "chunked oversize body answered $ST" ;; esac
[ "$(epc list-servers --json | jq length)" = 2 ] || fail "refused registrations stored something"
req POST /api/v1/checkin "{\"server_id\":\"$SID2\",\"kernel_id\":\"k2\",\"patch_level\":3,\"uptime\":99,\"tags\":[\"db\"]}"
expect_status 200 "check-in"
req POST /api/v1/checkin '{"server_id":"ffffffffffffffffffffffffffffffff"}'
expect_error 404 not-found "check-in of an unknown server"
req GET "/api/v1/license?server_id=$SID1"
expect_status 200 "license"
[ "$(jget .server_limit)" = 2 ] && [ "$(jget .servers)" = 2 ] || fail "license: $(cat "$T/body")"
req POST /api/v1/unregister "{\"server_id\":\"$SID2\"}"
expect_status 200 "unregister"
req POST /api/v1/register "{\"key\":\"$KEY\",\"hostname\":\"web3\"}"
expect_status 201 "register after unregister"

step "admin API: authentication and roles"
req GET /admin/api/v1/servers
expect_error 401 unauthorized "no credentials"
req GET /admin/api/v1/servers '' -H "X-Api-Key: 0123"
expect_error 401 unauthorized "wrong api key"
req GET /admin/api/v1/servers '' -u 'admin:wrong'
expect_error 401 unauthorized "wrong password"
req GET '/admin/api/v1/servers?tag=web' '' -u 'admin:pw one'
expect_status 200 "servers by basic auth"
[ "$(jget .total)" = 1 ] && [ "$(jget '.servers[0].hostname')" = web1 ] || fail "tag filter: $(cat "$T/body")"
req GET '/admin/api/v1/servers?hostname=web*&limit=1' '' -H "X-Api-Key: $RO_TOKEN"
expect_status 200 "servers by read-only api key"
[ "$(jget .total)" = 2 ] && [ "$(jget '.servers | length')" = 1 ] || fail "limit: $(cat "$T/body")"
req POST /admin/api/v1/feeds '{"name":"x"}' -H "X-Api-Key: $RO_TOKEN"
expect_error 403 forbidden "write with a read-only key"
req POST /admin/api/v1/feeds '{"name":"x"}' -u viewer:pw2
expect_error 403 forbidden "write as a read-only user"
# a login is remembered for a while; a change of the user's password voids it at once
req GET /admin/api/v1/users '' -u viewer:pw2
expect_status 200 "read as a read-only user"
req PUT /admin/api/v1/users/viewer '{"password":"pw3"}' -u 'admin:pw one'
expect_status 200 "password change"
req GET /admin/api/v1/users '' -u viewer:pw2
expect_error 401 unauthorized "the old password after a change"
req GET /admin/api/v1/users '' -u viewer:pw3
expect_status 200 "the new password"
req POST /admin/api/v1/feeds '{"name":"stage","auto_update":true,"deploy_after_hours":24}' -H "X-Api-Key: $TOKEN"
expect_status 201 "feed by api"
req POST /admin/api/v1/keys '{"feed":"stage","server_limit":5,"products":["qemu"],"ip_range":"127.0.0.0/8"}' -H "X-Api-Key: $TOKEN"
expect_status 201 "key by api"
IPKEY=$(jget .key)
req POST /api/v1/register '{"hostname":"by-address"}'
expect_status 201 "IP-based registration"
[ "$(jget .feed)" = stage ] || fail "IP-based registration on feed $(jget .feed)"
req GET "/admin/api/v1/keys/$IPKEY/status" '' -H "X-Api-Key: $TOKEN"
expect_status 200 "status"
grep -q '^OK - key' "$T/body" || fail "status: $(cat "$T/body")"
req GET "/admin/api/v1/keys/$KEY/status?format=json" '' -H "X-Api-Key: $TOKEN"
[ "$(jget .status)" = CRITICAL ] || fail "full key status: $(cat "$T/body")"
req PATCH "/admin/api/v1/keys/$IPKEY" '{"server_limit":"x"}' -H "X-Api-Key: $TOKEN"
expect_error 400 invalid-request "bad key change"
req GET /admin/api/v1/tags '' -H "X-Api-Key: $TOKEN"
[ "$(jget '.tags | length')" = 2 ] || fail "tags: $(cat "$T/body")"
sleep 1 # check-in times are whole seconds: every server is now older than 0 s
req DELETE "/admin/api/v1/servers?inactive_for=0" '' -H "X-Api-Key: $TOKEN"
expect_status 200 "delete by check-in age"
[ "$(jget .deleted)" = 3 ] || fail "deleted $(jget .deleted) servers"
req GET /admin/api/v1/nothing '' -H "X-Api-Key: $TOKEN"
expect_error 404 not-found "unknown endpoint"
req GET /metrics
expect_status 200 "metrics"
grep -q '^eportal_registrations_total 4$' "$T/body" || fail "metrics: $(grep registrations "$T/body")"

step "slow clients are dropped, others keep being served"
"$KC_PY" - "$EP_PORT" >"$T/slow.out" 2>&1 <<'EOF' &
import socket, sys, time
socks = []
for i in range(20):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.send(b"POST /api/v1/register HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
time.sleep(1)
print("open")
closed = 0
t0 = time.time()
for s in socks:
    s.settimeout(30)
    try:
        if s.recv(100) == b"":
            closed += 1
    except OSError:
        closed += 1
print("closed", closed, round(time.time() - t0))
EOF
SLOW=$!
sleep 1.5
req GET /repo/timestamp.json
expect_status 200 "metadata while slow clients hang"
wait $SLOW
grep -q '^closed 20 ' "$T/slow.out" || fail "slow clients: $(cat "$T/slow.out")"

step "restart keeps everything"
ep_stop
[ "$EP_RC" = 0 ] || fail "eportal exited $EP_RC on SIGTERM"
ep_start
req GET "/admin/api/v1/keys" '' -H "X-Api-Key: $TOKEN"
[ "$(jget '.keys | length')" = 3 ] || fail "keys after restart: $(cat "$T/body")"
ep_stop
echo "PASS"
