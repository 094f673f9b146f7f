#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# eportal end to end for kernel patches (KernelCare). Small synthetic livepatch
# modules (ET_REL objects whose .modinfo carries the kcare tags of
# docs/kernel-patches.md, plus the kmod sidecar JSON) for two kernels are packed
# as level 1 and level 2 patchsets with `kcare-build patchset --product
# kernel`, deployed with `kc.eportal kcare deploy` to feeds main and test, and
# then: the signed feed entries carry what the agent chooses by; states
# (disable, enable, unroll) change what a feed serves; check-ins report a
# kernel id (sha1 of /proc/version, or the build-id) and the applied level, and
# `server list` and the admin API show it, with is_updated flipping as soon as
# level 2 is deployed; a sticky key keeps a host on level 1 updated; mirroring
# and backup carry kernel patchsets; a module without kcare tags and metadata
# that lies about a module are refused with one line and nothing stored.
KC_EP_LIB=1 . "$(dirname "$0")/5100-eportal-basic.sh"
ep_need
[ -x "$KC_PACK_BIN" ] || skip "kcare-build is not built in $KC_BUILD"
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *patchset ' || skip "kcare-build has no patchset command yet"

SERIES=debian-6.1.0-57
# two kernels: kernel A is named by sha1 of /proc/version and its build-id, B likewise
KA=$(printf 'Linux version 6.1.0-57-amd64 (A) #1 SMP\n' | sha1sum | cut -c1-40)
KB=$(printf 'Linux version 6.1.0-57-amd64 (B) #1 SMP\n' | sha1sum | cut -c1-40)
BA=$(printf 'vmlinux A' | sha1sum | cut -c1-40)
BB=$(printf 'vmlinux B' | sha1sum | cut -c1-40)

# mkmod DIR LEVEL BUILD_ID KERNEL_ID CVE: DIR/kcare_<series>_<LEVEL>.ko and its sidecar
mkmod() {
	_name="kcare_$(printf %s "$SERIES" | tr -c 'A-Za-z0-9_' _)_$2"
	mkdir -p "$1"
	cat >"$1/$_name.c" <<EOF
#define TAG(n, s) static const char n[] __attribute__((section(".modinfo"), used, aligned(1))) = s;
TAG(t0, "license=GPL") TAG(t1, "name=$_name") TAG(t2, "kcare_id=$SERIES")
TAG(t3, "kcare_level=$2") TAG(t4, "kcare_build_id=$3") TAG(t5, "kcare_kernel_id=$4")
TAG(t6, "kcare_release=6.1.0-57-amd64") TAG(t7, "kcare_effective=6.1.0-5$((7 + $2))-amd64")
TAG(t8, "livepatch=Y")
int kcare_fix_$2(void) { return $2; }
EOF
	gcc -c -o "$1/$_name.ko" "$1/$_name.c" || fail "cannot compile $1/$_name.ko"
	cat >"$1/$_name.json" <<EOF
{ "id": "$SERIES", "level": $2, "module": "$_name", "release": "6.1.0-57-amd64",
  "build_id": "$3", "kernel_id": "$4", "effective_version": "6.1.0-5$((7 + $2))-amd64",
  "description": "level $2",
  "fixes": [ { "name": "cmdline-$2", "description": "cmdline fix $2", "cves": ["$5"],
               "cvss": "7.8", "cve_url": "https://cve.example/$5", "patch_url": "N/A",
               "functions": ["vmlinux:cmdline_proc_show"] } ] }
EOF
	MOD=$1/$_name.ko
}

# entries FEED: the custom objects of the signed feed file FEED/kernel.json, one per line
entries() {
	req GET "/repo/feeds/$1/kernel.json"
	expect_status 200 "feed $1/kernel"
	jq -c '.payload | @base64d | fromjson | .targets[] | .custom + {path, length, sha256}' "$T/body"
}

# levels FEED: "A1 B1 ..." (kernel, level) of each entry the feed serves, sorted
levels() {
	entries "$1" | jq -r --arg a "$BA" --arg b "$BB" \
		'(if .build_id == $a then "A" elif .build_id == $b then "B" else "?" end) + "\(.level)"' |
		sort | tr '\n' ' '
}

# server SERVER_ID JQ: JQ over the admin API's record of the server must hold
server() {
	req GET "/admin/api/v1/servers/$1" '' -H "X-Api-Key: $TOKEN"
	expect_status 200 "admin server $1"
	jq -e "$2" "$T/body" >/dev/null || fail "server $1: '$2' does not hold: $(cat "$T/body")"
}

checkin() { # SERVER_ID JSON-MEMBERS
	req POST /api/v1/checkin "{\"server_id\":\"$1\",$2}"
	expect_status 200 "check-in $1"
}

count_blobs() {
	find "$EP_DATA/repo/blobs" -type f | wc -l
}

step "modules and sidecars for two kernels, packed as level 1 and level 2 patchsets"
mkmod "$T/a1" 1 "$BA" "$KA" CVE-2026-0001
A1=$MOD
mkmod "$T/b1" 1 "$BB" "$KB" CVE-2026-0001
B1=$MOD
mkmod "$T/a2" 2 "$BA" "$KA" CVE-2026-0002
A2=$MOD
mkmod "$T/b2" 2 "$BB" "$KB" CVE-2026-0002
B2=$MOD
"$KC_PACK_BIN" patchset --product kernel K20260115_01 "$A1" "$B1" --released 2026-01-15T10:00:00Z \
	-o "$T/K1.tar.bz2" >"$T/out" 2>&1 || fail "patchset level 1: $(cat "$T/out")"
# level 2 is released now: the one a 12h-delayed feed holds back
"$KC_PACK_BIN" patchset --product kernel --name K20260201_01 "$A2" "$B2" \
	-o "$T/K2.tar.bz2" >"$T/out" 2>&1 || fail "patchset level 2: $(cat "$T/out")"
"$KC_PACK_BIN" patchset --verify "$T/K1.tar.bz2" >"$T/out" || fail "verify level 1"
grep -q "kernel $SERIES level 1 for vmlinux (build-id $BA, kernel-id $KA, release 6.1.0-57-amd64)" \
	"$T/out" || fail "verify: $(cat "$T/out")"
tar xjf "$T/K1.tar.bz2" -O patchset.json >"$T/K1.json"
jq -e --arg b "$BB" --arg k "$KB" '.patches[1] | .build_id == $b and .kernel_id == $k and
	.id == "debian-6.1.0-57" and .level == 1 and .cves == ["CVE-2026-0001"] and
	.description == "level 1" and ."kpatch-name" == "cmdline-1" and ."kpatch-cvss" == "7.8" and
	.effective_version == "6.1.0-58-amd64" and (has("kpatch-patch-url") | not)' "$T/K1.json" >/dev/null ||
	fail "patchset.json does not say what the sidecar and .modinfo say: $(cat "$T/K1.json")"

step "bad modules are refused by kcare-build patchset with one line"
mkdir "$T/bad"
cat >"$T/bad/plain.c" <<'EOF'
static const char n[] __attribute__((section(".modinfo"), used, aligned(1))) = "name=kcare_other_1";
int f(void) { return 0; }
EOF
gcc -c -o "$T/bad/kcare_other_1.ko" "$T/bad/plain.c" || fail "cannot compile the plain module"
"$KC_PACK_BIN" patchset --product kernel K20260301_01 "$T/bad/kcare_other_1.ko" -o "$T/bad/x.tar.bz2" \
	>"$T/out" 2>"$T/err" && fail "a module without kcare tags was packed"
[ "$(wc -l <"$T/err")" = 1 ] && grep -q "no kcare_id in .modinfo" "$T/err" || fail "untagged: $(cat "$T/err")"
# a sidecar that lies about the level
mkmod "$T/lie" 3 "$BA" "$KA" CVE-2026-0003
sed -i 's/"level": 3/"level": 4/' "$T/lie/kcare_debian_6_1_0_57_3.json"
"$KC_PACK_BIN" patchset --product kernel K20260301_01 "$MOD" -o "$T/bad/x.tar.bz2" \
	>"$T/out" 2>"$T/err" && fail "a module whose sidecar lies was packed"
[ "$(wc -l <"$T/err")" = 1 ] && grep -q "kcare_level is 3" "$T/err" || fail "lying sidecar: $(cat "$T/err")"
[ ! -e "$T/bad/x.tar.bz2" ] || fail "a refused patchset left an archive"

ep_start
TOKEN=$(epc api-key -a)
epc feed add test --channel test >/dev/null || fail "feed add test"
KEY=$(epc key -a) || fail "key for main"
KEYT=$(epc key -a --feed test) || fail "key for test"
KEYS=$(epc key -a --sticky 2026-01-20) || fail "sticky key"

step "kc.eportal kcare deploy: the signed entries carry what the agent chooses by"
epc kcare deploy "$T/K1.tar.bz2" >"$T/out" || fail "deploy level 1: $(cat "$T/out")"
grep -q "K20260115_01 deployed to feed 'main'" "$T/out" || fail "deploy said: $(cat "$T/out")"
entries main >"$T/e1"
[ "$(wc -l <"$T/e1")" = 2 ] || fail "feed main/kernel: $(cat "$T/e1")"
SHA=$(sha256sum "$A1" | cut -d' ' -f1)
LEN=$(stat -c %s "$A1")
jq -se --arg b "$BA" --arg k "$KA" --arg s "$SHA" --argjson l "$LEN" '[.[] | select(.build_id == $b)][0] |
	.kind == "module" and .kernel_id == $k and .id == "debian-6.1.0-57" and .level == 1 and
	.product == "kernel" and .patchset == "K20260115_01" and .released == 1768471200 and
	.released_at == "2026-01-15T10:00:00Z" and .target == "vmlinux" and
	.module == "kcare_debian_6_1_0_57_1" and .release == "6.1.0-57-amd64" and
	.effective_version == "6.1.0-58-amd64" and .cves == ["CVE-2026-0001"] and
	."kpatch-name" == "cmdline-1" and ."kpatch-cve" == "CVE-2026-0001" and
	."kpatch-cve-url" == "https://cve.example/CVE-2026-0001" and
	.path == "blobs/" + $s and .sha256 == $s and .length == $l' "$T/e1" >/dev/null ||
	fail "feed entry of kernel A: $(cat "$T/e1")"
req GET "/repo/blobs/$SHA"
expect_status 200 "module blob"
cmp -s "$T/body" "$A1" || fail "the blob is not the module"
[ -z "$(entries test)" ] || fail "feed test serves what was deployed to main"

step "check-ins report the kernel and the applied level; server list and the admin API show them"
req POST /api/v1/register "{\"key\":\"$KEY\",\"hostname\":\"ka\",\"kernel_id\":\"$KA\",\"patch_level\":1,\"effective_version\":\"6.1.0-58-amd64\"}"
expect_status 201 "register ka"
[ "$(jget .is_updated)" = true ] || fail "kernel A at level 1 is not updated: $(cat "$T/body")"
SA=$(jget .server_id)
# the build-id in upper case names the kernel as well as the sha1 of /proc/version
req POST /api/v1/register "{\"key\":\"$KEY\",\"hostname\":\"kb\",\"kernel_id\":\"$(echo "$BB" | tr a-f A-F)\",\"patch_level\":-1}"
expect_status 201 "register kb"
[ "$(jget .is_updated)" = false ] || fail "kernel B without a patch is updated: $(cat "$T/body")"
SB=$(jget .server_id)
req POST /api/v1/register "{\"key\":\"$KEY\",\"hostname\":\"other\",\"kernel_id\":\"$(printf x | sha1sum | cut -c1-40)\",\"patch_level\":-1}"
expect_status 201 "register other"
[ "$(jget .is_updated)" = true ] || fail "a kernel the feed has nothing for is not updated"
SO=$(jget .server_id)
server "$SA" ".kernel_id == \"$KA\" and .patch_level == 1 and .effective_version == \"6.1.0-58-amd64\" and .is_updated == true"
epc server list >"$T/list" || fail "server list"
cat "$T/list"
head -1 "$T/list" | grep -q "KERNEL ID.*LEVEL.*LATEST.*EFFECTIVE.*UPDATED" || fail "server list header"
grep -Eq "^$SA +ka .* $KA +1 +1 +6\.1\.0-58-amd64 +yes " "$T/list" || fail "server list row of ka"
grep -Eq "^$SB +kb .* -1 +1 +- +no " "$T/list" || fail "server list row of kb"
[ "$(epc server list --json | jq -r --arg s "$SB" '.[] | select(.server_id == $s) | .is_updated')" = false ] ||
	fail "server list --json"
checkin "$SB" "\"patch_level\":1,\"effective_version\":\"6.1.0-58-amd64\""
[ "$(jget .is_updated)" = true ] || fail "kernel B at level 1 is not updated"

step "level 2 deployed: is_updated flips without waiting for a check-in"
epc kcare deploy "$T/K2.tar.bz2" >/dev/null || fail "deploy level 2"
[ "$(levels main)" = "A1 A2 B1 B2 " ] || fail "feed main after level 2: $(levels main)"
server "$SA" '.is_updated == false and .patch_level == 1 and .latest_level == 2'
server "$SO" '.is_updated == true and .latest_level == -1'
req GET '/admin/api/v1/servers?is_updated=false' '' -H "X-Api-Key: $TOKEN"
[ "$(jget '[.servers[].hostname] | sort | join(",")')" = ka,kb ] || fail "is_updated=false: $(cat "$T/body")"
epc server list | grep -Eq "^$SA +ka .* +1 +2 +6\.1\.0-58-amd64 +no " || fail "server list after level 2"
checkin "$SA" "\"patch_level\":2,\"effective_version\":\"6.1.0-59-amd64\""
[ "$(jget .is_updated)" = true ] || fail "kernel A at level 2 is not updated"
server "$SA" '.patch_level == 2 and .effective_version == "6.1.0-59-amd64"'
# what a delayed feed (PREFIX=12h) holds back: entries released in the last 12 hours
NOW=$(date +%s)
[ "$(entries main | jq -sr --argjson c $((NOW - 43200)) '[.[] | select(.released > $c) | .level] | unique | join(",")')" = 2 ] ||
	fail "the release times do not tell level 2 from level 1"

step "a sticky key: level 2 came after its date, so level 1 is up to date"
req POST /api/v1/register "{\"key\":\"$KEYS\",\"hostname\":\"sticky\",\"kernel_id\":\"$KA\",\"patch_level\":1}"
expect_status 201 "register sticky"
[ "$(jget .is_updated)" = true ] || fail "sticky host at level 1 is not updated"
[ "$(jget .sticky)" = 2026-01-20 ] || fail "sticky date: $(cat "$T/body")"
SS=$(jget .server_id)
server "$SS" '.latest_level == 1'
epc key change "$KEYS" --sticky 2099-12-31 >/dev/null || fail "key change --sticky"
server "$SS" '.is_updated == false'

step "states: disable, enable, unroll"
epc kcare disable K20260201_01 || fail "disable"
[ "$(levels main)" = "A1 B1 " ] || fail "disabled level 2 is served: $(levels main)"
server "$SB" '.is_updated == true'
epc kcare enable K20260201_01 || fail "enable"
[ "$(levels main)" = "A1 A2 B1 B2 " ] || fail "enabled level 2 not served"
server "$SB" '.is_updated == false'
epc kcare unroll K20260201_01 || fail "unroll"
[ "$(levels main)" = "A1 B1 " ] || fail "unroll left level 2: $(levels main)"
server "$SB" '.is_updated == true'
epc kcare list --json | jq -e '[.[] | .state] == ["enabled", "undeployed"]' >/dev/null ||
	fail "kcare list: $(epc kcare list --json)"

step "feed test: its own patchsets and hosts"
epc kcare deploy --feed test "$T/K1.tar.bz2" >/dev/null || fail "deploy level 1 to test"
ST=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Api-Key: $TOKEN" -X POST \
	--data-binary @"$T/K2.tar.bz2" "$EP_URL/admin/api/v1/patchsets?feed=test&disabled=1&product=qemu")
expect_status 400 "a kernel archive uploaded as qemu"
ST=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Api-Key: $TOKEN" -X POST \
	--data-binary @"$T/K2.tar.bz2" "$EP_URL/admin/api/v1/patchsets?feed=test&disabled=1&product=kernel")
expect_status 201 "level 2 uploaded disabled to feed test over the admin API"
[ "$(levels test)" = "A1 B1 " ] || fail "feed test: $(levels test)"
req POST /api/v1/register "{\"key\":\"$KEYT\",\"hostname\":\"tester\",\"kernel_id\":\"$BA\",\"patch_level\":1}"
expect_status 201 "register tester"
[ "$(jget .feed)" = test ] && [ "$(jget .is_updated)" = true ] || fail "tester: $(cat "$T/body")"
ST_ID=$(jget .server_id)
req POST "/admin/api/v1/patchsets/K20260201_01/enable?feed=test" '' -H "X-Api-Key: $TOKEN"
expect_status 200 "enable level 2 in test"
[ "$(levels test)" = "A1 A2 B1 B2 " ] || fail "feed test after enable: $(levels test)"
server "$ST_ID" '.is_updated == false'
[ "$(levels main)" = "A1 B1 " ] || fail "enabling in test changed main"

step "metadata that lies about a module is refused, nothing stored"
NB=$(count_blobs)
"$KC_PY" - "$T" <<'EOF'
import io, json, sys, tarfile
t = sys.argv[1]
src = tarfile.open(f"{t}/K1.tar.bz2")
members = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
def lie(name, edit):
    with tarfile.open(f"{t}/{name}.tar.bz2", "w:bz2") as tf:
        for m, data in members:
            if m.name == "patchset.json":
                j = json.loads(data)
                j["name"] = "K20260301_01"
                edit(j["patches"][0])
                data = json.dumps(j).encode()
            ti = tarfile.TarInfo(m.name)
            if data is None:
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
lie("lie-level", lambda p: p.update(level=5))
lie("lie-kernel", lambda p: p.update(kernel_id="0" * 40))
lie("lie-build", lambda p: p.update(build_id="ab" * 20))
EOF
for bad in lie-level lie-kernel lie-build; do
	epc kcare deploy "$T/$bad.tar.bz2" >"$T/out" 2>"$T/err" && fail "$bad deployed"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "$bad: not one line: $(cat "$T/err")"
	echo "# $bad: $(cat "$T/err")"
	ST=$(curl -s -o "$T/body" -w '%{http_code}' -H "X-Api-Key: $TOKEN" -X POST \
		--data-binary @"$T/$bad.tar.bz2" "$EP_URL/admin/api/v1/patchsets")
	expect_status 400 "$bad over the API"
	[ "$(jget .error)" = bad-input ] || fail "$bad: error $(jget .error)"
done
epc kcare deploy "$T/lie-level.tar.bz2" 2>&1 | grep -q "the module's kcare_level is 1, patchset.json says 5" ||
	fail "the level lie is not named"
epc qemu deploy "$T/K1.tar.bz2" 2>"$T/err" && fail "a kernel patchset deployed as qemu"
grep -q "kernel patchset, not qemu" "$T/err" || fail "wrong product: $(cat "$T/err")"
[ "$(count_blobs)" = "$NB" ] || fail "refused deploys stored blobs"
[ "$(epc kcare list --json | jq length)" = 2 ] || fail "refused deploys stored patchsets"

# mirroring and backup need a data directory of their own (SQLite); 5103 runs the rest on PostgreSQL
if [ -n "$EP_DB" ]; then
	ep_stop
	echo PASS
	exit 0
fi

step "mirroring carries kernel patchsets"
UP_URL=$EP_URL
UP_PID=$EP_PID
UP_DATA=$EP_DATA
EP_DATA=$T/down
ep_start
epc upstream set "$UP_URL/repo" --root-key "$UP_DATA/keys/root.pub" || fail "upstream set"
epc kcare update >"$T/out" || fail "kcare update from upstream: $(cat "$T/out")"
[ "$(levels main)" = "A1 B1 " ] || fail "mirrored feed main: $(levels main)"
entries main | jq -se --arg k "$KA" '[.[] | select(.kernel_id == $k)][0] | .module == "kcare_debian_6_1_0_57_1"
	and .kind == "module" and .release == "6.1.0-57-amd64" and ."kpatch-name" == "cmdline-1"' >/dev/null ||
	fail "mirrored entries lost fields: $(entries main)"
cmp -s "$A1" "$EP_DATA/repo/blobs/$SHA" || fail "mirrored module blob differs"
ep_stop
EP_DATA=$UP_DATA
EP_PID=$UP_PID

step "backup and restore carry kernel patchsets"
epc backup "$T/backup.tar.gz" || fail "backup"
ep_stop
EP_DATA=$T/restored
epc restore "$T/backup.tar.gz" || fail "restore"
ep_start
[ "$(levels main)" = "A1 B1 " ] || fail "restored feed main: $(levels main)"
[ "$(levels test)" = "A1 A2 B1 B2 " ] || fail "restored feed test: $(levels test)"
cmp -s "$A1" "$EP_DATA/repo/blobs/$SHA" || fail "restored module blob differs"
TOKEN=$(epc api-key -a)
server "$SA" ".kernel_id == \"$KA\" and .patch_level == 2"
ep_stop
echo PASS
