#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal maintenance: kc.eportal backup while the server runs, restore into a
# new data directory that then serves the same keys, servers and signed
# repository; key rotation (online keys, then root) publishes new root
# versions and re-signs the feeds with the new keys.
KC_EP_LIB=1 . "$(dirname "$0")/5100-eportal-basic.sh"
ep_need

payload() { # FILE JQ
	jq -r ".payload | @base64d | fromjson | $2" "$1"
}

ep_start
KEY=$(epc key -a --note backed-up) || fail "key -a"
req POST /api/v1/register "{\"key\":\"$KEY\",\"hostname\":\"h1\"}"
expect_status 201 "register"
SID=$(jget .server_id)

step "backup while serving, restore elsewhere"
epc backup "$T/backup.tar.gz" || fail "backup"
tar -tzf "$T/backup.tar.gz" >"$T/members" || fail "backup is not a tar.gz"
grep -qx eportal.db "$T/members" && grep -qx keys/root.key "$T/members" &&
	grep -qx repo/timestamp.json "$T/members" || fail "backup members: $(cat "$T/members")"
"$EPC_BIN" --data "$EP_DATA" restore "$T/backup.tar.gz" 2>"$T/err" && fail "restore over a live data directory"
grep -q "already has a database" "$T/err" || fail "restore refusal: $(cat "$T/err")"
ep_stop
ORIG=$EP_DATA
EP_DATA=$T/restored
epc restore "$T/backup.tar.gz" || fail "restore"
cmp -s "$ORIG/keys/root.pub" "$EP_DATA/keys/root.pub" || fail "restored root key differs"
ep_start
[ "$(epc list-servers --json | jq -r '.[0].server_id')" = "$SID" ] || fail "restored servers"
req POST /api/v1/checkin "{\"server_id\":\"$SID\"}"
expect_status 200 "check-in on the restored server"

step "keys rotate: online keys, then root"
cp "$EP_DATA/repo/root.json" "$T/root1.json"
OLD_TS_KEY=$(jq -r '.signatures[0].keyid' "$EP_DATA/repo/timestamp.json")
epc keys rotate >"$T/out" || fail "keys rotate: $(cat "$T/out")"
grep -q '^root version 2$' "$T/out" || fail "rotate said: $(cat "$T/out")"
[ -f "$EP_DATA/repo/2.root.json" ] || fail "no 2.root.json"
[ "$(jq -r '.signatures[0].keyid' "$EP_DATA/repo/timestamp.json")" != "$OLD_TS_KEY" ] ||
	fail "timestamp still signed by the old key"
req GET /repo/feeds/main/kernel.json
expect_status 200 "feed after rotation"
OLD_PUB=$(cat "$EP_DATA/keys/root.pub")
epc keys rotate --root >"$T/out" || fail "keys rotate --root"
grep -q '^root version 3$' "$T/out" || fail "rotate --root said: $(cat "$T/out")"
[ "$(cat "$EP_DATA/keys/root.pub")" != "$OLD_PUB" ] || fail "root.pub unchanged"
[ "$(jq '.signatures | length' "$EP_DATA/repo/3.root.json")" = 2 ] || fail "new root not signed by old and new keys"
step "a rotation killed between the new root and the key renames is finished at the next start"
ep_stop
mkdir "$T/old"
cp "$EP_DATA"/keys/*.key "$T/old/"
epc keys rotate >/dev/null || fail "keys rotate"
NEW_TS_KEY=$(jq -r '.signatures[0].keyid' "$EP_DATA/repo/timestamp.json")
for n in timestamp snapshot targets; do
	mv "$EP_DATA/keys/$n.key" "$EP_DATA/keys/$n.key.next"
	cp "$T/old/$n.key" "$EP_DATA/keys/$n.key"
done
ep_start
ls "$EP_DATA"/keys/*.next >/dev/null 2>&1 && fail "*.next key files left"
epc feed add after-crash >/dev/null || fail "publish after the interrupted rotation"
[ "$(jq -r '.signatures[0].keyid' "$EP_DATA/repo/timestamp.json")" = "$NEW_TS_KEY" ] ||
	fail "timestamp not signed by the rotated key"
# killed before the root was written: the *.next files are dropped
cp "$EP_DATA/keys/timestamp.key" "$T/ts.key"
"$KC_PY" -c 'print("kcare-ed25519-secret " + "A" * 86 + "==")' >"$EP_DATA/keys/snapshot.key.next"
ep_stop
ep_start
[ -f "$EP_DATA/keys/snapshot.key.next" ] && fail "unused *.next key file left"
cmp -s "$T/ts.key" "$EP_DATA/keys/timestamp.key" || fail "keys changed"
epc feed add after-crash-2 >/dev/null || fail "publish after a dropped rotation"
mv "$EP_DATA/keys/root.key" "$T/offline-root.key"
epc keys rotate 2>"$T/err" && fail "rotation without the root key"
grep -q "not present" "$T/err" || fail "rotation refusal: $(cat "$T/err")"
req GET /repo/timestamp.json
expect_status 200 "serving with the root key offline"
ep_stop
echo PASS
