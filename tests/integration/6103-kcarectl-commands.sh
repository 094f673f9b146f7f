#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The rest of kcarectl's command line against a real eportal: usage errors,
# --version, --register-autoretry waiting for a server that starts later,
# --tag and --set-monitoring-key (saved, and the tag reaches the server at the
# check-in), STICKY_PATCH=KEY taking the key's sticky date from the server,
# --set-patch-type, --disable-libcare / --enable-libcare, AUTO_UPDATE=False
# for --auto-update, and --doctor uploading its report (and keeping it when
# the server is down).
. "$(dirname "$0")/kcarectl-lib.sh"

step "usage, --version, --help"
kc_rc 2
kc_rc 2 --lib-update --lib-info
kc_err "one action at a time"
kc_rc 2 --no-such-option
kc_rc 2 --timeout abc --lib-info
kc_ok --version
kc_out "^kcarectl [0-9]"
kc_ok --help
kc_out "--lib-update"
kc_rc 1 --update
kc_err "this kernel cannot load live patches"
kc_err_one_line
kc_rc 1 --lib-update
kc_err "no patch server is configured"
kc_err_one_line

step "a library and two patchsets, ten and two days old"
src="$KC_SRC/lib"
cc_lib "$T/libkct.so" "$src/lib.c"
cc_prog "$T/target" "$src/target.c" -L"$T" -lkct -Wl,-rpath,"$T"
cc_fix "$T/fix1.o" "$src/fix.c"
pack --target "$T/libkct.so" --object "$T/fix1.o" -o "$T/l1.kpatch" --id lib-fix --level 1
pack --target "$T/libkct.so" --object "$T/fix1.o" -o "$T/l2.kpatch" --id lib-fix --level 2
"$KC_PACK_BIN" patchset --product libs --name U20260101_01 --released "$(date -u -d '10 days ago' +%Y-%m-%dT%H:%M:%SZ)" \
	-o "$T/ps1.tar.bz2" "$T/l1.kpatch" >"$T/ps.out" 2>&1 || fail "patchset 1: $(cat "$T/ps.out")"
"$KC_PACK_BIN" patchset --product libs --name U20260102_01 --released "$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%SZ)" \
	-o "$T/ps2.tar.bz2" "$T/l2.kpatch" >"$T/ps.out" 2>&1 || fail "patchset 2: $(cat "$T/ps.out")"

step "--register-autoretry waits for a server that is not up yet"
# the data directory and a key exist before the server listens
epc feed list >/dev/null 2>&1
STICKY_DAY=$(date -u -d '5 days ago' +%Y-%m-%d)
KEY=$(epc key -a --server-limit 5 --product libs --sticky "$STICKY_DAY") || fail "key add: $KEY"
PORT=$(ep_free_port)
printf 'PATCH_SERVER=http://127.0.0.1:%s/repo/\n' "$PORT" >"$ROOT/etc/sysconfig/kcare/kcare.conf"
kc_rc 1 --register "$KEY"
kc_err "127\.0\.0\.1:$PORT"
timeout 60 "$KCCTL_BIN" --register "$KEY" --register-autoretry >"$T/retry.out" 2>"$T/retry.err" &
rpid=$!
track $rpid
wait_for_line "$T/retry.err" 'retrying in' 10 || fail "no retry: $(cat "$T/retry.err")"
"$EP_BIN" --listen "127.0.0.1:$PORT" --data "$EP_DATA" >"$T/eportal.log" 2>&1 &
EP_PID=$!
EP_URL="http://127.0.0.1:$PORT"
track $EP_PID
wait "$rpid" || fail "--register-autoretry failed: $(cat "$T/retry.err")"
grep -q "^registered: server id .*sticky to $STICKY_DAY" "$T/retry.out" || fail "register: $(cat "$T/retry.out")"
epc libcare deploy "$T/ps1.tar.bz2" >/dev/null || fail "deploy ps1"
epc libcare deploy "$T/ps2.tar.bz2" >/dev/null || fail "deploy ps2"
kc_ok --import-key "$(epc root-key)"

step "--tag and --set-monitoring-key: saved, and the tag reaches the server"
kc_ok --tag web-prod
grep -q '^TAG=web-prod$' "$ROOT/etc/sysconfig/kcare/kcare.conf" || fail "tag not saved"
epc list-servers --json >"$T/servers.json" || fail "list-servers"
jq -e '.[0].tags | tostring | test("web-prod")' "$T/servers.json" >/dev/null || fail "server has no tag: $(cat "$T/servers.json")"
kc_rc 1 --tag 'a,b'
kc_rc 1 --set-monitoring-key short
kc_err "16 to 32"
kc_ok --set-monitoring-key 0123456789abcdefABCDEF
grep -q '^MONITORING_KEY=0123456789abcdefABCDEF$' "$ROOT/etc/sysconfig/kcare/kcare.conf" || fail "monitoring key not saved"

step "STICKY_PATCH=KEY: the key's date at the server holds patchset 2 back"
start_target t1 "$T/target"
kc_ok --set-sticky-patch KEY
kc_ok --lib-update --json
jq -e '.patchsets.libs == "U20260101_01" and .patched == 1' "$T/kc.out" >/dev/null || fail "sticky KEY: $(cat "$T/kc.out")"
kc_ok --lib-info
jq -e '.[0].objects[0].patches[0].level == 1' "$T/kc.out" >/dev/null || fail "level: $(cat "$T/kc.out")"
kc_ok --set-sticky-patch ''
kc_ok --lib-update --json
jq -e '.patchsets.libs == "U20260102_01" and .patched == 1' "$T/kc.out" >/dev/null || fail "unstuck: $(cat "$T/kc.out")"

step "--set-patch-type"
kc_ok --set-patch-type extra
grep -q '^PATCH_TYPE=extra$' "$ROOT/etc/sysconfig/kcare/kcare.conf" || fail "patch type not saved"
kc_rc 1 --set-patch-type weird
kc_ok --set-patch-type default
grep -q '^PATCH_TYPE=' "$ROOT/etc/sysconfig/kcare/kcare.conf" && fail "default did not remove PATCH_TYPE"

step "--disable-libcare, AUTO_UPDATE=False, --enable-libcare"
kc_ok --lib-unload --quiet
kc_ok --disable-libcare
kc_rc 1 --lib-update
kc_err "disabled"
kc_ok --auto-update
kc_out "disabled"
expect_value "$T/t1.log" '^value 42 wrapped 1042$'
kc_ok --enable-libcare
setconf AUTO_UPDATE False
kc_ok --auto-update
kc_out "auto-update is off"
expect_value "$T/t1.log" '^value 42 wrapped 1042$'
setconf AUTO_UPDATE True
kc_ok --auto-update --quiet
[ -s "$T/kc.out" ] && fail "--quiet printed: $(cat "$T/kc.out")"
expect_value "$T/t1.log" '^value 64 wrapped 1064$'

step "--doctor uploads a report; with the server down it says where the file is"
kc_ok --doctor
kc_out "^Key: [0-9a-f]+"
id=$(sed -n 's/^Key: //p' "$T/kc.out")
epc doctor -l --json >"$T/reports.json" || fail "doctor -l"
grep -q "$id" "$T/reports.json" || fail "the server has no report $id: $(cat "$T/reports.json")"
kill "$EP_PID"
wait "$EP_PID" 2>/dev/null
kc_rc 1 --doctor
kc_out "not uploaded; it is in $ROOT/var/cache/kcare/doctor/kcare-report-"
f=$(sed -n 's/.*it is in \([^:]*\):.*/\1/p' "$T/kc.out")
[ -s "$f" ] || fail "no report file '$f'"
tar -tzf "$f" | grep -q '^report.txt$' || fail "report has no report.txt: $(tar -tzf "$f")"
tar -xzOf "$f" kernel.txt | grep -q "^release: $(uname -r)$" || fail "report has no kernel state: $(tar -xzOf "$f" kernel.txt)"
tar -xzOf "$f" kernel.txt | grep -q "^live patching: " || fail "kernel.txt does not say whether live patching works"
if tar -xzOf "$f" kcare.conf | grep -q 0123456789abcdefABCDEF; then
	fail "the monitoring key is in the report"
fi
echo "ok"
