#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal end to end, part 2: patchsets. Archives made by `kcare-build
# patchset` are deployed with `kc.eportal qemu deploy` (the product
# documents' example) and over the admin API; blobs land content-addressed,
# the feed files list them with their sha256 and release times; the state
# actions change what a feed serves and republish; malformed archives are
# refused with nothing stored while the server keeps serving.
KC_EP_LIB=1 . "$(dirname "$0")/5100-eportal-basic.sh"
ep_need
need_pack
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *patchset ' || skip "kcare-build has no patchset command yet"

# feed_has FEED PRODUCT PATCHSET: the signed feed file lists an entry of PATCHSET
feed_has() {
	req GET "/repo/feeds/$1/$2.json"
	expect_status 200 "feed $1/$2"
	[ "$(jq -r --arg p "$3" '.payload | @base64d | fromjson | [.targets[] | select(.custom.patchset == $p)] | length' "$T/body")" -gt 0 ]
}

ts_version() {
	curl -s "$EP_URL/repo/timestamp.json" | jq -r '.payload | @base64d | fromjson | .version'
}

step "build patches and patchset archives"
src="$KC_SRC/pack"
cc_prog "$T/target" "$src/target.c"
cc_fix "$T/fix-ok.o" "$src/fix-ok.c"
pack --target "$T/target" --object "$T/fix-ok.o" -o "$T/a.kpatch" --id qfix --level 1 \
	--cve CVE-2024-0001 --description "first fix" >/dev/null
pack --target "$T/target" --object "$T/fix-ok.o" -o "$T/b.kpatch" --id qfix --level 2 >/dev/null
mkps() { # PRODUCT NAME RELEASED PATCH
	"$KC_PACK_BIN" patchset --product "$1" --name "$2" --released "$3" -o "$T/$2.tar.bz2" "$4" \
		>"$T/ps.out" 2>&1 || fail "kcare-build patchset $2: $(cat "$T/ps.out")"
}
mkps qemu U20210818_01-qemu 2021-08-18T10:00:00Z "$T/a.kpatch"
mkps qemu U20210901_01-qemu 2021-09-01T10:00:00Z "$T/b.kpatch"
mkps qemu U20211001_01-qemu 2021-10-01T10:00:00Z "$T/b.kpatch"
mkps libs U20210818_01 2021-08-18T10:00:00Z "$T/a.kpatch"

ep_start
epc feed add test --channel test >/dev/null || fail "feed add test"
V0=$(ts_version)

step "kc.eportal qemu deploy --feed test ARCHIVE (as in the product documents)"
epc qemu deploy --help | grep -q -- '--disabled' || fail "deploy --help"
epc qemu deploy --feed test "$T/U20210818_01-qemu.tar.bz2" >"$T/out" || fail "deploy: $(cat "$T/out")"
grep -q "U20210818_01-qemu deployed to feed 'test'" "$T/out" || fail "deploy said: $(cat "$T/out")"
feed_has test qemu U20210818_01-qemu || fail "feed test/qemu does not list the patchset"
[ "$(ts_version)" -gt "$V0" ] || fail "timestamp version did not rise"
SHA=$(sha256sum "$T/a.kpatch" | cut -d' ' -f1)
[ -f "$EP_DATA/repo/blobs/$SHA" ] || fail "blob not stored content-addressed"
req GET "/repo/blobs/$SHA"
expect_status 200 "blob"
[ "$(sha256sum "$T/body" | cut -d' ' -f1)" = "$SHA" ] || fail "blob content differs"
req GET /repo/feeds/test/qemu.json
jq -e --arg s "$SHA" '.payload | @base64d | fromjson | [.targets[] | select(.sha256 == $s and .path == "blobs/" + $s)] | length > 0' "$T/body" >/dev/null ||
	fail "feed entry has no sha256 $SHA: $(head -c 600 "$T/body")"
jq -e '.payload | @base64d | fromjson | [.targets[] | select(.custom.released_at == "2021-08-18T10:00:00Z" and .custom.released == 1629280800)] | length > 0' "$T/body" >/dev/null ||
	fail "feed entry has no release time"
feed_has main qemu U20210818_01-qemu && fail "patchset leaked into feed main"
epc qemu deploy --feed test "$T/U20210818_01-qemu.tar.bz2" >/dev/null || fail "deploying again is not idempotent"
epc qemu deploy "$T/U20210818_01.tar.bz2" 2>"$T/err" && fail "a libs archive deployed as qemu"
grep -q "libs patchset, not qemu" "$T/err" || fail "wrong product: $(cat "$T/err")"
epc qemu deploy --feed nosuch "$T/U20210901_01-qemu.tar.bz2" 2>/dev/null && fail "deploy to a missing feed"
[ "$(epc qemu list --json | jq length)" = 1 ] || fail "refused deploys stored a patchset"
[ "$(ls "$EP_DATA/repo/blobs" | wc -l)" = 1 ] || fail "refused deploys stored blobs"

step "states: disabled, enable, block, enable-up-to, undeploy-down-to, unroll"
epc qemu deploy --feed test --disabled "$T/U20210901_01-qemu.tar.bz2" >/dev/null || fail "deploy --disabled"
feed_has test qemu U20210901_01-qemu && fail "disabled patchset is served"
TOKEN=$(epc api-key -a)
req POST "/admin/api/v1/patchsets/U20210901_01-qemu/enable?feed=test" '' -H "X-Api-Key: $TOKEN"
expect_status 200 "enable"
feed_has test qemu U20210901_01-qemu || fail "enabled patchset is not served"
req POST /admin/api/v1/patchsets/U20210818_01-qemu/undeploy-down-to '{"feed":"test"}' -H "X-Api-Key: $TOKEN"
expect_status 200 "undeploy-down-to"
feed_has test qemu U20210901_01-qemu && fail "undeploy-down-to left the later patchset"
feed_has test qemu U20210818_01-qemu || fail "undeploy-down-to removed the patchset itself"
ST=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Api-Key: $TOKEN" -X POST \
	--data-binary @"$T/U20211001_01-qemu.tar.bz2" "$EP_URL/admin/api/v1/patchsets?feed=test&disabled=1")
expect_status 201 "upload over the API"
epc qemu block U20211001_01-qemu --feed test || fail "block"
req POST "/admin/api/v1/patchsets/U20211001_01-qemu/enable-up-to?feed=test" '' -H "X-Api-Key: $TOKEN"
expect_status 200 "enable-up-to"
feed_has test qemu U20210901_01-qemu || fail "enable-up-to did not enable the earlier patchset"
feed_has test qemu U20211001_01-qemu && fail "enable-up-to enabled a blocked patchset"
req GET '/admin/api/v1/patchsets?feed=test&product=qemu' '' -H "X-Api-Key: $TOKEN"
[ "$(jget '[.patchsets[].state] | join(",")')" = enabled,enabled,blocked ] || fail "states: $(cat "$T/body")"
epc qemu unroll U20210901_01-qemu --feed test || fail "unroll"
feed_has test qemu U20210901_01-qemu && fail "unroll left the patchset"
feed_has test qemu U20210818_01-qemu || fail "unroll removed an earlier patchset"
epc qemu update --feed test >"$T/out" || fail "update"
feed_has test qemu U20210901_01-qemu || fail "update did not enable the undeployed patchset"
feed_has test qemu U20211001_01-qemu && fail "update enabled a blocked patchset"

step "malformed archives are refused, nothing stored, server keeps serving"
N_BLOBS=$(ls "$EP_DATA/repo/blobs" | wc -l)
"$KC_PY" - "$T" <<'EOF'
import io, sys, tarfile
t = sys.argv[1]
def tar(name, members, mode="w:bz2"):
    with tarfile.open(f"{t}/{name}", mode) as tf:
        for m, data, kind in members:
            ti = tarfile.TarInfo(m)
            if kind == "sym":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data.decode()
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
tar("traversal.tar.bz2", [("../evil", b"x", "file")])
tar("symlink.tar.bz2", [("patchset.json", b"/etc/passwd", "sym")])
tar("badjson.tar.bz2", [("patchset.json", b"{not json", "file")])
open(f"{t}/garbage.tar.bz2", "wb").write(b"BZh91AY&SY" + b"\x00" * 100)
open(f"{t}/empty.tar.bz2", "wb").write(b"")
EOF
for bad in traversal symlink badjson garbage empty; do
	epc qemu deploy "$T/$bad.tar.bz2" 2>"$T/err" && fail "$bad archive deployed"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "$bad: more than one line of error: $(cat "$T/err")"
	ST=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Api-Key: $TOKEN" -X POST \
		--data-binary @"$T/$bad.tar.bz2" "$EP_URL/admin/api/v1/patchsets")
	expect_status 400 "$bad archive over the API"
	[ -n "$(jget .error)" ] || fail "$bad: no error code"
done
# a member that expands past the 64 MiB limit (bzip2 makes it tiny on the wire)
"$KC_PY" - "$T" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1] + "/huge.tar.bz2", "w:bz2") as tf:
    ti = tarfile.TarInfo("patches/huge.kpatch")
    ti.size = 65 * 1024 * 1024 + 1
    tf.addfile(ti, io.BytesIO(b"\0" * ti.size))
EOF
epc qemu deploy "$T/huge.tar.bz2" 2>"$T/err" && fail "huge member deployed"
ST=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Api-Key: $TOKEN" -X POST \
	--data-binary @"$T/huge.tar.bz2" "$EP_URL/admin/api/v1/patchsets")
[ "$ST" = 413 ] || [ "$ST" = 400 ] || fail "huge member over the API: $ST $(cat "$T/body")"
echo "# huge member: $ST $(jget .message)"
head -c 2000000 /dev/urandom >"$T/big.bin"
ST=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Api-Key: $TOKEN" -X POST \
	--data-binary @"$T/big.bin" "$EP_URL/admin/api/v1/patchsets")
expect_status 400 "random bytes over the API"
[ "$(ls "$EP_DATA/repo/blobs" | wc -l)" = "$N_BLOBS" ] || fail "refused archives stored blobs"
[ "$(epc qemu list --json | jq length)" = 3 ] || fail "refused archives stored patchsets"
req GET /repo/timestamp.json
expect_status 200 "metadata after refusals"

step "restart keeps the patchsets and the feeds; the daemon runs auto-update"
ep_stop
epc feed add auto --auto-update yes --deploy-after 0 >/dev/null || fail "feed add auto"
ep_start --auto-update 1
feed_has test qemu U20210901_01-qemu || fail "feed after restart"
_n=0
until feed_has auto qemu U20211001_01-qemu; do
	_n=$((_n + 1))
	[ $_n -lt 100 ] || fail "the daemon's auto-update did not enable the patchsets in feed auto"
	sleep 0.1
done
feed_has main qemu U20211001_01-qemu && fail "auto-update touched feed main"
ep_stop
echo PASS
