#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal mirroring: a downstream eportal follows an upstream eportal through
# its signed metadata. New patchsets are downloaded (blobs verified against
# the signed sha256) without being served until feed policy says so:
# auto-update enables them in auto-update feeds only, update in the named
# feed. A tampered upstream file is refused and nothing is stored.
KC_EP_LIB=1 . "$(dirname "$0")/5100-eportal-basic.sh"
ep_need
need_pack
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *patchset ' || skip "kcare-build has no patchset command yet"

feed_count() { # URL FEED PRODUCT
	curl -s "$1/repo/feeds/$2/$3.json" | jq -r '.payload | @base64d | fromjson | .targets | length'
}

step "upstream with two qemu patchsets in main"
src="$KC_SRC/pack"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix-ok.o" "$src/fix-ok.c"
pack --target "$T/target" --object "$T/fix-ok.o" -o "$T/a.kpatch" --id qa >/dev/null
pack --target "$T/target" --object "$T/fix-ok.o" -o "$T/b.kpatch" --id qb >/dev/null
"$KC_PACK_BIN" patchset --product qemu --name U20210818_01-qemu --released 2021-08-18 \
	-o "$T/a.tar.bz2" "$T/a.kpatch" >/dev/null || fail "patchset a"
"$KC_PACK_BIN" patchset --product qemu --name U20210819_01-qemu --released 2021-08-19 \
	-o "$T/b.tar.bz2" "$T/b.kpatch" >/dev/null || fail "patchset b"
ep_start
UP_URL=$EP_URL
UP_PID=$EP_PID
UP_DATA=$EP_DATA
epc qemu deploy "$T/a.tar.bz2" >/dev/null || fail "upstream deploy a"
epc qemu deploy "$T/b.tar.bz2" >/dev/null || fail "upstream deploy b"

step "downstream follows it"
EP_DATA=$T/down
ep_start
epc feed add auto --auto-update yes --deploy-after 0 >/dev/null || fail "feed add auto"
epc qemu update 2>"$T/err" >/dev/null
grep -q "no upstream" "$T/err" && fail "update without upstream should just enable local patchsets"
epc upstream set "$UP_URL/repo" --root-key "$UP_DATA/keys/root.pub" || fail "upstream set"
[ "$(epc upstream show)" = "$UP_URL/repo/" ] || fail "upstream show: $(epc upstream show)"
epc qemu auto-update >"$T/out" || fail "auto-update: $(cat "$T/out")"
[ "$(feed_count "$EP_URL" auto qemu)" = 2 ] || fail "auto feed does not serve the mirrored patchsets"
[ "$(feed_count "$EP_URL" main qemu)" = 0 ] || fail "main serves mirrored patchsets before update"
for f in "$T/a.kpatch" "$T/b.kpatch"; do
	sha=$(sha256sum "$f" | cut -d' ' -f1)
	cmp -s "$f" "$EP_DATA/repo/blobs/$sha" || fail "mirrored blob $sha differs"
done
epc qemu list --json | jq -e '.[0].state == "undeployed"' >/dev/null || fail "main state"
epc qemu update >/dev/null || fail "update"
[ "$(feed_count "$EP_URL" main qemu)" = 2 ] || fail "update did not enable in main"

step "a tampered upstream is refused"
pack --target "$T/target" --object "$T/fix-ok.o" -o "$T/c.kpatch" --id qc >/dev/null
"$KC_PACK_BIN" patchset --product qemu --name U20210820_01-qemu --released 2021-08-20 \
	-o "$T/c.tar.bz2" "$T/c.kpatch" >/dev/null || fail "patchset c"
EP_DATA=$UP_DATA epc qemu deploy "$T/c.tar.bz2" >/dev/null || fail "upstream deploy c"
SHA=$(sha256sum "$T/c.kpatch" | cut -d' ' -f1)
printf 'x' >>"$UP_DATA/repo/blobs/$SHA"
epc qemu auto-update 2>"$T/err" && fail "a tampered blob was accepted"
echo "# refused: $(cat "$T/err")"
[ "$(epc qemu list --json | jq length)" = 2 ] || fail "tampered patchset stored"
[ -f "$EP_DATA/repo/blobs/$SHA" ] && fail "tampered blob stored"
ep_stop
EP_PID=$UP_PID
ep_stop
echo PASS
