#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcarectl end to end against a real eportal on 127.0.0.1: register with a key,
# --lib-update patches running processes from the signed feed (a blacklisted
# one is left alone and says why), --lib-info / --lib-patch-info / the CVE list
# show it, --check and --status exit codes, the delayed prefix and a sticky
# date choose the older patchset, a tampered blob and rolled-back metadata are
# refused with nothing applied, the server being down is a clear error while
# UPDATE_POLICY=LOCAL_FIRST still applies the cached patches, a proxy from the
# config carries the requests, and --lib-unload restores every process.
. "$(dirname "$0")/kcarectl-lib.sh"

step "a library, two programs using it, two levels of a fix, two patchsets"
src="$KC_SRC/lib"
cc_lib "$T/libkct.so" "$src/lib.c"
cc_prog "$T/target" "$src/target.c" -L"$T" -lkct -Wl,-rpath,"$T"
cp "$T/target" "$T/blk-target"
cc_fix "$T/fix1.o" "$src/fix.c"
cat >"$T/fix2.c" <<'EOT'
/* level 2: 4x + 1 (85 for 21) */
extern volatile int lib_bias;
int lib_compute(int x)
{
	return x * 4 + 1 + lib_bias;
}
EOT
cc_fix "$T/fix2.o" "$T/fix2.c"
pack --target "$T/libkct.so" --object "$T/fix1.o" -o "$T/l1.kpatch" --id lib-fix --level 1 \
	--cve CVE-2026-1001 --description "first fix"
pack --target "$T/libkct.so" --object "$T/fix2.o" -o "$T/l2.kpatch" --id lib-fix --level 2 \
	--cve CVE-2026-1001 --cve CVE-2026-1002 --description "second fix"
OLD=$(date -u -d '10 days ago' +%Y-%m-%dT%H:%M:%SZ)
NEW=$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)
"$KC_PACK_BIN" patchset --product libs --name U20260101_01 --released "$OLD" \
	-o "$T/ps1.tar.bz2" "$T/l1.kpatch" >"$T/ps.out" 2>&1 || fail "patchset 1: $(cat "$T/ps.out")"
"$KC_PACK_BIN" patchset --product libs --name U20260102_01 --released "$NEW" \
	-o "$T/ps2.tar.bz2" "$T/l2.kpatch" >"$T/ps.out" 2>&1 || fail "patchset 2: $(cat "$T/ps.out")"

step "eportal with patchset 1; agent config, key import, registration"
ep_start
epc libcare deploy "$T/ps1.tar.bz2" >/dev/null || fail "deploy ps1"
KEY=$(epc key -a --server-limit 10 --product libs) || fail "key add"
cat >"$ROOT/etc/sysconfig/kcare/kcare.conf" <<EOT
# written by the test
AUTO_UPDATE=True
PATCH_SERVER=$EP_URL/repo/
NOT_A_KEY=1
EOT
kc_rc 1 --lib-update
kc_err "no trusted key.*--import-key"
kc_ok --import-key "$(epc root-key)"
kc_rc 1 --register nosuchkey
kc_err "registration failed: .*key"
kc_err_one_line
kc_ok --register "$KEY"
kc_out "^registered: server id [0-9a-f]+, feed 'main'"
grep -q '^server_id=' "$ROOT/etc/sysconfig/kcare/systemid" || fail "no systemid"
[ "$(stat -c %a "$ROOT/etc/sysconfig/kcare/systemid")" = 600 ] || fail "systemid is not 0600"
# the server learns the kernel's id and that no kernel patch level is live
epc list-servers --json >"$T/servers.json" || fail "list-servers"
jq -e --arg kid "$(sha1sum </proc/version | cut -d' ' -f1)" --arg eff "$(uname -r)" \
	'.[0].kernel_id == $kid and .[0].patch_level == -1 and .[0].effective_version == $eff' \
	"$T/servers.json" >/dev/null || fail "register without the kernel's identity: $(cat "$T/servers.json")"
kc_ok --license-info
kc_out "^valid license: 1 server registered with the key \(limit 10\)"

step "nothing applied yet: --status 1, --check 0"
start_target t1 "$T/target"
p1=$TPID
start_target t2 "$T/target"
p2=$TPID
start_target blk "$T/blk-target"
pb=$TPID
mkdir -p "$ROOT/var/cache/kcare/userspace"
printf '# the test blacklists one program\n filename : blk-target\n' >"$ROOT/var/cache/kcare/userspace/blacklist"
kc_rc 1 --status
kc_rc 0 --check
grep -q "unknown" "$T/kc.err" || fail "an unknown config key was not warned about: $(cat "$T/kc.err")"

step "--lib-update patches both programs, skips the blacklisted one"
kc_ok --lib-update
kc_out "^$p1 target: patched \(1 patch\)$"
kc_out "^$p2 target: patched \(1 patch\)$"
kc_out "^$pb blk-target: skipped, blacklisted by filename ?: ?blk-target"
kc_out "^processes: 2 patched, 0 already up to date, 1 skipped, 0 failed$"
expect_value "$T/t1.log" '^value 64 wrapped 1064$'
expect_value "$T/t2.log" '^value 64 wrapped 1064$'
expect_value "$T/blk.log" '^value 42 wrapped 1042$'
grep -qx CVE-2026-1001 "$ROOT/var/cache/kcare/libcare_cvelist" || fail "cvelist: $(cat "$ROOT/var/cache/kcare/libcare_cvelist")"
kc_rc 0 --status
kc_rc 1 --check

step "--lib-info and --lib-patch-info"
kc_ok --lib-info
jq -e --argjson p $p1 'map(select(.pid == $p))[0].objects[0].patches[0] | .id == "lib-fix" and .level == 1' "$T/kc.out" >/dev/null ||
	fail "lib-info: $(cat "$T/kc.out")"
jq -e --argjson p $pb 'map(select(.pid == $p)) | length == 0' "$T/kc.out" >/dev/null || fail "lib-info lists the blacklisted process"
kc_ok --lib-patch-info
jq -e --argjson a $p1 --argjson b $p2 '.[0] | .id == "lib-fix" and .level == 1 and .cves == ["CVE-2026-1001"] and .patchset == "U20260101_01" and .product == "libs" and (.pids | index($a) != null and index($b) != null)' "$T/kc.out" >/dev/null ||
	fail "lib-patch-info: $(cat "$T/kc.out")"

step "again: already up to date; --json summary"
kc_ok --lib-update --json
jq -e '.patched == 0 and .up_to_date == 2 and .skipped == 1 and .failed == 0 and .patchsets.libs == "U20260101_01"' "$T/kc.out" >/dev/null ||
	fail "second update: $(cat "$T/kc.out")"

step "patchset 2 (released an hour ago): --prefix 12h and a sticky date hold it back"
epc libcare deploy "$T/ps2.tar.bz2" >/dev/null || fail "deploy ps2"
kc_rc 0 --check
kc_rc 1 --check --prefix 12h
kc_ok --lib-update --prefix 12h
kc_out "held back"
expect_value "$T/t1.log" '^value 64 wrapped 1064$'
kc_ok --set-sticky-patch "$(date -u -d '5 days ago' +%d%m%y)"
grep -q "^STICKY_PATCH=" "$ROOT/etc/sysconfig/kcare/kcare.conf" || fail "sticky not saved"
kc_ok --lib-update --json
jq -e '.patchsets.libs == "U20260101_01" and .patched == 0' "$T/kc.out" >/dev/null || fail "sticky update: $(cat "$T/kc.out")"
kc_rc 1 --set-sticky-patch 310299
kc_err "not a date"
kc_ok --set-sticky-patch ''
grep -q "^STICKY_PATCH=" "$ROOT/etc/sysconfig/kcare/kcare.conf" && fail "sticky not removed"

step "a process started since: --status 2; --userspace-update libs upgrades everyone to level 2"
start_target t3 "$T/target"
p3=$TPID
kc_rc 2 --status
kc_ok --userspace-update libs
kc_out "^$p1 target: patched \(1 patch\)$"
kc_out "^$p3 target: patched \(1 patch\)$"
expect_value "$T/t1.log" '^value 85 wrapped 1085$'
expect_value "$T/t2.log" '^value 85 wrapped 1085$'
expect_value "$T/blk.log" '^value 42 wrapped 1042$'
grep -qx CVE-2026-1002 "$ROOT/var/cache/kcare/libcare_cvelist" || fail "cvelist after level 2"
kc_rc 0 --status
kc_rc 1 --check

step "a tampered blob is refused and nothing is applied"
kc_ok --lib-unload
kc_out "^processes: 3 unpatched, 0 failed$"
expect_value "$T/t1.log" '^value 42 wrapped 1042$'
[ -s "$ROOT/var/cache/kcare/libcare_cvelist" ] && fail "cvelist not emptied by --lib-unload"
rm -rf "$ROOT/var/cache/kcare/userspace/patches"
for b in "$EP_DATA"/repo/blobs/*; do
	cp "$b" "$T/$(basename "$b").save"
	printf 'X' | dd of="$b" bs=1 seek=100 conv=notrunc 2>/dev/null
done
kc_rc 1 --lib-update
kc_err "sha256|length"
kc_err_one_line
expect_value "$T/t1.log" '^value 42 wrapped 1042$'
ls "$ROOT/var/cache/kcare/userspace/patches" 2>/dev/null | grep -q . && fail "a tampered blob was cached"
for b in "$EP_DATA"/repo/blobs/*; do cp "$T/$(basename "$b").save" "$b"; done

step "rolled-back metadata is refused and nothing is applied"
kc_ok --lib-update --quiet
expect_value "$T/t1.log" '^value 85 wrapped 1085$'
kc_ok --lib-unload --quiet
cp "$EP_DATA/repo/timestamp.json" "$T/ts.old"
epc feed add other >/dev/null || fail "feed add (publishes anew)"
kc --check
[ $KC_RC = 0 ] || [ $KC_RC = 1 ] || fail "--check after a publish exited $KC_RC: $(cat "$T/kc.err")"
cp "$T/ts.old" "$EP_DATA/repo/timestamp.json.new" && mv "$EP_DATA/repo/timestamp.json.new" "$EP_DATA/repo/timestamp.json"
kc_rc 1 --lib-update
kc_err "refused"
kc_err_one_line
expect_value "$T/t1.log" '^value 42 wrapped 1042$'
epc feed add other2 >/dev/null || fail "feed add (publishes anew)"

step "server down: a clear error; LOCAL_FIRST and LOCAL apply the cached patches"
ep_stop
kc_rc 1 --lib-update
kc_err "cannot reach the patch server http://127\.0\.0\.1"
sed 's/connection refused//g' "$T/kc.err" | grep -q refused && fail "a server that is down is not one that refused: $(cat "$T/kc.err")"
kc_err_one_line
expect_value "$T/t1.log" '^value 42 wrapped 1042$'
setconf UPDATE_POLICY LOCAL_FIRST
kc_ok --lib-update
kc_err "warning: .*cached patches"
expect_value "$T/t1.log" '^value 85 wrapped 1085$'
kc_ok --lib-unload --quiet
setconf UPDATE_POLICY LOCAL
kc_ok --lib-update
expect_value "$T/t2.log" '^value 85 wrapped 1085$'
kc_ok --lib-unload --quiet
setconf UPDATE_POLICY REMOTE

step "a proxy set in the config carries the requests"
ep_start
setconf PATCH_SERVER "$EP_URL/repo/"
unset no_proxy NO_PROXY http_proxy HTTP_PROXY https_proxy HTTPS_PROXY
"$KC_PY" "$KC_TOP/tests/integration/kc-test-proxy.py" --port 0 --log "$T/proxy.log" >"$T/proxy.out" 2>&1 &
track $!
wait_for_line "$T/proxy.out" '^listening [0-9]+' 10 || fail "proxy did not start: $(cat "$T/proxy.out")"
PROXY_PORT=$(sed -n 's/^listening //p' "$T/proxy.out" | head -1)
setconf HTTP_PROXY "http://127.0.0.1:$PROXY_PORT"
kc_ok --lib-update
expect_value "$T/t1.log" '^value 85 wrapped 1085$'
grep -q "GET $EP_URL/repo/timestamp.json" "$T/proxy.log" || fail "the proxy saw no metadata request: $(cat "$T/proxy.log")"
grep -q "POST $EP_URL/api/v1/checkin" "$T/proxy.log" || fail "the proxy saw no check-in: $(cat "$T/proxy.log")"
setconf HTTP_PROXY ""

step "--lib-unload restores every process"
kc_ok --lib-unload
expect_value "$T/t1.log" '^value 42 wrapped 1042$'
expect_value "$T/t2.log" '^value 42 wrapped 1042$'
kc_ok --lib-info
[ "$(jq length "$T/kc.out")" = 0 ] || fail "lib-info after unload: $(cat "$T/kc.out")"
kc_rc 1 --status

step "--unregister"
kc_ok --unregister
[ -e "$ROOT/etc/sysconfig/kcare/systemid" ] && fail "systemid left after unregister"
kc_rc 1 --license-info
kc_err "not registered"
echo "ok"
