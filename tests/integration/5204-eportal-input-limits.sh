#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal refuses request values it would otherwise bend (issue 14, item 14):
# a listing limit of 0 or past the cap, a feed name longer than a name may be
# (refused, not cut and created), and a basic-auth password holding a NUL byte
# (refused, not cut at the NUL and accepted).
KC_EP_LIB=1 . "$(dirname "$0")/5100-eportal-basic.sh"
ep_need

ep_start
epc user -a admin -p 'pw' >/dev/null || fail "user -a"
TOKEN=$(epc api-key -a) || fail "api-key -a"
KEY=$(epc key -a) || fail "key -a"
for h in a b c; do
	req POST /api/v1/register "{\"key\":\"$KEY\",\"hostname\":\"$h\"}"
	expect_status 201 "register $h"
done

step "listing limits: 0, past the cap and malformed are 400; in range works"
for q in 'limit=0' 'limit=10001' 'limit=99999999999999999999' 'limit=-1' 'offset=-1' \
	'offset=99999999999999999999' 'limit=1x'; do
	req GET "/admin/api/v1/servers?$q" '' -H "X-Api-Key: $TOKEN"
	expect_error 400 invalid-request "servers?$q"
done
req GET '/admin/api/v1/servers?limit=1' '' -H "X-Api-Key: $TOKEN"
expect_status 200 "limit=1"
[ "$(jget '.servers | length')" = 1 ] && [ "$(jget .total)" = 3 ] || fail "limit=1: $(cat "$T/body")"
req GET '/admin/api/v1/servers?limit=10000&offset=2' '' -H "X-Api-Key: $TOKEN"
expect_status 200 "limit=10000"
[ "$(jget '.servers | length')" = 1 ] || fail "offset=2: $(cat "$T/body")"

step "a feed name over 64 characters is 400 and nothing is created"
LONG=$("$KC_PY" -c 'print("f" * 300)')
N65=$("$KC_PY" -c 'print("g" * 65)')
N64=$("$KC_PY" -c 'print("h" * 64)')
for n in "$LONG" "$N65"; do
	req POST /admin/api/v1/feeds "{\"name\":\"$n\"}" -H "X-Api-Key: $TOKEN"
	expect_error 400 invalid-request "feed name of ${#n} characters"
done
req POST /admin/api/v1/feeds "{\"name\":\"$N64\"}" -H "X-Api-Key: $TOKEN"
expect_status 201 "feed name of 64 characters"
epc feed list >"$T/feeds" || fail "feed list"
grep -q "$N64" "$T/feeds" || fail "64-character feed missing: $(cat "$T/feeds")"
grep -q "ffffffffffffffffffffffffffffffff" "$T/feeds" && fail "a cut feed was created: $(cat "$T/feeds")"
grep -q "$("$KC_PY" -c 'print("g" * 64)')" "$T/feeds" && fail "a cut 65-character feed was created"
# the same in a key's feed and a user's name
req POST /admin/api/v1/keys "{\"feed\":\"$LONG\"}" -H "X-Api-Key: $TOKEN"
expect_error 400 invalid-request "key on a feed name of 300 characters"
req POST /admin/api/v1/users "{\"name\":\"$LONG\",\"password\":\"x\"}" -H "X-Api-Key: $TOKEN"
expect_error 400 invalid-request "user name of 300 characters"

step "a basic-auth password with a NUL byte is refused, not cut"
req GET /admin/api/v1/feeds '' -u admin:pw
expect_status 200 "right password"
# base64 of "admin:pw\0junk"
AUTH=$(printf 'admin:pw\000junk' | base64 | tr -d '\n')
req GET /admin/api/v1/feeds '' -H "Authorization: Basic $AUTH"
expect_error 400 bad-input "password with a NUL byte"
AUTH=$(printf 'adm\000in:pw' | base64 | tr -d '\n')
req GET /admin/api/v1/feeds '' -H "Authorization: Basic $AUTH"
expect_error 400 bad-input "user name with a NUL byte"
req GET /admin/api/v1/feeds '' -H "Authorization: Basic !!!notbase64"
[ "$ST" = 400 ] || [ "$ST" = 401 ] || fail "malformed basic auth answered $ST"
req GET /admin/api/v1/feeds '' -H "Authorization: Basic $(printf 'nocolon' | base64)"
[ "$ST" = 400 ] || [ "$ST" = 401 ] || fail "basic auth without a colon answered $ST"
req GET /admin/api/v1/feeds '' -u admin:pw
expect_status 200 "right password after the refusals"
ep_stop
echo "PASS"
