#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal: diagnostic reports of kcarectl --doctor. Upload without
# credentials (a gzip body is stored atomically under DATA/doctor with a
# sidecar; anything else is refused and nothing is stored), the size limit
# (--max-report) and the per-address daily limit (--reports-per-day), then
# list, download and delete through the admin API and kc.eportal doctor.
KC_EP_LIB=1
. "$(dirname "$0")/5100-eportal-basic.sh"
ep_need

# up FILE [QUERY]: POST FILE to /api/v1/doctor; status in ST, body in $T/body
up() {
	ST=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: application/gzip' \
		--data-binary @"$1" "$EP_URL/api/v1/doctor${2:-}")
}

reports() {
	ls "$EP_DATA/doctor" 2>/dev/null | grep -c '\.tar\.gz$'
}

step "a report as kcarectl --doctor makes it"
mkdir -p "$T/rep"
echo "kcare doctor report" >"$T/rep/report.txt"
echo "PATCH_SERVER=http://x/repo/" >"$T/rep/kcare.conf"
tar -C "$T/rep" -czf "$T/report.tar.gz" report.txt kcare.conf || fail "tar"
printf 'this is not gzip' >"$T/plain.txt"
: >"$T/empty"
head -c 300000 /dev/urandom | gzip -1 >"$T/big.gz"
# over the JSON body limit (64 KiB), under --max-report: the report limit applies
head -c 100000 /dev/urandom | gzip -1 >"$T/medium.gz"
[ "$(wc -c <"$T/big.gz")" -gt 200000 ] || fail "big.gz is too small"

ep_start --max-report 200000 --reports-per-day 4
TOKEN=$(epc api-key -a --note doctor) || fail "api-key -a"
RO_TOKEN=$(epc api-key -a --readonly) || fail "api-key -a --readonly"

step "upload: stored with a sidecar, id returned"
up "$T/report.tar.gz"
expect_status 201 "upload"
ID1=$(jget .id)
echo "$ID1" | grep -Eq '^[0-9a-f]{32}$' || fail "id '$ID1'"
cmp "$T/report.tar.gz" "$EP_DATA/doctor/$ID1.tar.gz" || fail "stored report differs"
[ "$(stat -c %a "$EP_DATA/doctor/$ID1.tar.gz")" = 600 ] || fail "report is not 0600"
[ "$(stat -c %a "$EP_DATA/doctor")" = 700 ] || fail "doctor dir is not 0700"
S="$EP_DATA/doctor/$ID1.json"
[ "$(jq -r .id "$S")" = "$ID1" ] && [ "$(jq -r .ip "$S")" = 127.0.0.1 ] &&
	[ "$(jq -r .size "$S")" = "$(wc -c <"$T/report.tar.gz")" ] && [ "$(jq -r .server_id "$S")" = "" ] ||
	fail "sidecar: $(cat "$S")"
up "$T/medium.gz" "?server_id=0123456789abcdef0123456789abcdef"
expect_status 201 "upload of 100 kB with a server id"
ID2=$(jget .id)
[ "$ID2" != "$ID1" ] || fail "same id twice"
cmp "$T/medium.gz" "$EP_DATA/doctor/$ID2.tar.gz" || fail "stored report 2 differs"
[ "$(jq -r .server_id "$EP_DATA/doctor/$ID2.json")" = 0123456789abcdef0123456789abcdef ] ||
	fail "server id not recorded: $(cat "$EP_DATA/doctor/$ID2.json")"

step "refused uploads store nothing"
up "$T/plain.txt"
expect_error 400 bad-input "not gzip"
up "$T/empty"
expect_error 400 bad-input "empty body"
up "$T/report.tar.gz" "?server_id=a/../b"
expect_error 400 invalid-request "bad server id"
up "$T/big.gz"
expect_error 413 too-large "over --max-report"
# the same without a declared length: the connection is dropped at the limit
ST=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' \
	--data-binary @"$T/big.gz" "$EP_URL/api/v1/doctor")
case "$ST" in 000 | 413) ;; *) fail "chunked oversize report answered $ST" ;; esac
req GET /api/v1/doctor
expect_error 405 method-not-allowed "GET of the upload endpoint"
[ "$(reports)" = 2 ] || fail "$(reports) reports stored after refusals"
[ -z "$(ls -A "$EP_DATA/doctor" | grep -v -E '^[0-9a-f]{32}\.(tar\.gz|json)$')" ] ||
	fail "litter in doctor/: $(ls -A "$EP_DATA/doctor")"

step "admin API: list, download, delete"
req GET /admin/api/v1/doctor
expect_error 401 unauthorized "list without credentials"
req GET /admin/api/v1/doctor '' -H "X-Api-Key: $RO_TOKEN"
expect_status 200 "list"
[ "$(jget '.reports | length')" = 2 ] || fail "list: $(cat "$T/body")"
[ "$(jget ".reports[] | select(.id == \"$ID2\") | .server_id")" = 0123456789abcdef0123456789abcdef ] ||
	fail "list: $(cat "$T/body")"
ST=$(curl -s -m 30 -o "$T/dl.tar.gz" -w '%{http_code}' -H "X-Api-Key: $RO_TOKEN" \
	"$EP_URL/admin/api/v1/doctor/$ID1")
[ "$ST" = 200 ] || fail "download: status $ST"
cmp "$T/report.tar.gz" "$T/dl.tar.gz" || fail "downloaded report differs"
tar -tzf "$T/dl.tar.gz" | grep -qx report.txt || fail "downloaded report is not a tarball"
req GET /admin/api/v1/doctor/ffffffffffffffffffffffffffffffff '' -H "X-Api-Key: $TOKEN"
expect_error 404 not-found "unknown report"
req GET /admin/api/v1/doctor/..%2Feportal.db '' -H "X-Api-Key: $TOKEN"
[ "$ST" = 404 ] || fail "path traversal answered $ST"
req DELETE "/admin/api/v1/doctor/$ID1" '' -H "X-Api-Key: $RO_TOKEN"
expect_error 403 forbidden "delete with a read-only key"
req DELETE "/admin/api/v1/doctor/$ID1" '' -H "X-Api-Key: $TOKEN"
expect_status 200 "delete"
[ "$(jget .deleted)" = "$ID1" ] || fail "delete: $(cat "$T/body")"
[ ! -e "$EP_DATA/doctor/$ID1.tar.gz" ] && [ ! -e "$EP_DATA/doctor/$ID1.json" ] || fail "report still on disk"
req DELETE "/admin/api/v1/doctor/$ID1" '' -H "X-Api-Key: $TOKEN"
expect_error 404 not-found "delete twice"

step "per-address daily limit (of reports stored: the deleted one does not count)"
up "$T/report.tar.gz"
expect_status 201 "upload 3"
ID3=$(jget .id)
ST=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: application/gzip' \
	-H 'X-Server-Id: feedfeedfeedfeedfeedfeedfeedfeed' --data-binary @"$T/report.tar.gz" \
	"$EP_URL/api/v1/doctor")
expect_status 201 "upload 4, server id in a header"
[ "$(jq -r .server_id "$EP_DATA/doctor/$(jget .id).json")" = feedfeedfeedfeedfeedfeedfeedfeed ] ||
	fail "X-Server-Id not recorded"
up "$T/report.tar.gz"
expect_status 201 "upload 5"
up "$T/report.tar.gz"
expect_error 429 too-many-requests "a fifth report stored in a day"
[ "$(reports)" = 4 ] || fail "$(reports) reports stored after the limit"

step "kc.eportal doctor"
epc doctor -l >"$T/list.txt" || fail "doctor -l"
grep -q "^$ID2 .*127\.0\.0\.1" "$T/list.txt" || fail "doctor -l: $(cat "$T/list.txt")"
[ "$(epc doctor -l --json | jq length)" = 4 ] || fail "doctor -l --json: $(epc doctor -l --json)"
[ "$(epc doctor --list --json | jq -r ".[] | select(.id == \"$ID3\") | .ip")" = 127.0.0.1 ] ||
	fail "doctor --list --json"
epc doctor --get "$ID2" -o "$T/cli.tar.gz" || fail "doctor --get"
cmp "$T/medium.gz" "$T/cli.tar.gz" || fail "doctor --get: copy differs"
[ "$(stat -c %a "$T/cli.tar.gz")" = 600 ] || fail "doctor --get: copy is not 0600"
epc doctor --get "$ID2" -o - | cmp - "$T/medium.gz" || fail "doctor --get -o -"
epc doctor -d "$ID2" || fail "doctor -d"
[ ! -e "$EP_DATA/doctor/$ID2.tar.gz" ] || fail "doctor -d left the file"
epc doctor -d "$ID2" 2>"$T/err"
[ $? = 1 ] && grep -q "^kc.eportal: no report" "$T/err" || fail "doctor -d twice: $(cat "$T/err")"
epc doctor --get "$ID2" -o "$T/x" 2>/dev/null
[ $? = 1 ] || fail "doctor --get of a deleted report does not exit 1"
epc doctor --get "$ID3" 2>/dev/null
[ $? = 2 ] || fail "doctor --get without -o does not exit 2"
epc doctor 2>/dev/null
[ $? = 2 ] || fail "doctor without a verb does not exit 2"
epc doctor -l -d "$ID3" 2>/dev/null
[ $? = 2 ] || fail "doctor -l -d does not exit 2"
epc doctor --help | grep -q -- '--get' || fail "doctor --help"
"$EP_BIN" --help | grep -q -- '--max-report' || fail "eportal --help lacks --max-report"

step "reports survive a restart"
ep_stop
[ "$EP_RC" = 0 ] || fail "eportal exited $EP_RC"
ep_start
req GET /admin/api/v1/doctor '' -H "X-Api-Key: $TOKEN"
[ "$(jget '.reports | length')" = 3 ] || fail "after restart: $(cat "$T/body")"
ep_stop
echo "PASS"
