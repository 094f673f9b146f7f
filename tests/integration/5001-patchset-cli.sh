#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcare-build patchset on the command line: patches made by `kcare-build pack`
# (and a kernel module) packed into NAME.tar.bz2 that tar and bzip2 read and
# whose patchset.json says what the patches say; the reader (--verify) takes
# it back and refuses crafted archives; usage errors exit 2, refusals exit 1
# with one line "kcare-build: ...", and a failure leaves no file behind.
. "$(dirname "$0")/lib.sh"
need_pack
"$KC_PACK_BIN" --help 2>&1 | grep -q '^ *patchset ' || skip "kcare-build has no patchset command yet"

# ps ARGS...: kcare-build patchset; exit status in KC_RC, output in $T/ps.{out,err}
ps() {
	timeout "$KC_CMD_TIMEOUT" "$KC_PACK_BIN" patchset "$@" >"$T/ps.out" 2>"$T/ps.err"
	KC_RC=$?
	echo "\$ kcare-build patchset $* -> $KC_RC"
	sed 's/^/  out: /' "$T/ps.out"
	sed 's/^/  err: /' "$T/ps.err"
	[ $KC_RC = 124 ] && fail "kcare-build patchset $* did not finish within $KC_CMD_TIMEOUT s"
	return 0
}

ps_ok() {
	ps "$@"
	[ $KC_RC = 0 ] || fail "kcare-build patchset $* exited $KC_RC: $(cat "$T/ps.err")"
}

# ps_fails STATUS ARGS...: exits STATUS, says why on stderr (one line
# "kcare-build: ..." for 1) and leaves $T/out empty
ps_fails() {
	want=$1
	shift
	ps "$@"
	[ $KC_RC = "$want" ] || fail "patchset $*: exit $KC_RC, expected $want"
	[ -s "$T/ps.err" ] || fail "patchset $*: nothing on stderr"
	if [ "$want" = 1 ]; then
		[ "$(lines "$T/ps.err")" = 1 ] && grep -q '^kcare-build: ' "$T/ps.err" ||
			fail "patchset $*: expected one line 'kcare-build: ...' on stderr"
	fi
	[ -z "$(ls -A "$T/out")" ] || fail "patchset $*: left $(ls -A "$T/out") behind"
}

# json FILE PYTHON-EXPR: EXPR over j (patchset.json parsed) must be true
json() {
	"$KC_PY" - "$1" "$2" <<'PY' || fail "patchset.json: $2 does not hold"
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

src="$KC_SRC/pack"
cc_prog "$T/target" "$src/target.c"
cc_prog "$T/target2" "$src/target.c" -DKC_SECOND_BUILD=1 -O1
cc_fix "$T/fix-ok.o" "$src/fix-ok.c"
mkdir "$T/out" "$T/p" "$T/p2" "$T/cwd"
pack --target "$T/target" --object "$T/fix-ok.o" -o "$T/p/ok.kpatch" --id ok-1 --level 2 \
	--cve CVE-2024-0001 --description "work fix" >/dev/null
pack --target "$T/target2" --object "$T/fix-ok.o" -o "$T/p/ok2.kpatch" --id ok-1 >/dev/null
cp "$T/p/ok.kpatch" "$T/p2/ok.kpatch"
cp "$T/p/ok.kpatch" "$T/p/same.kpatch"
tid=$(buildid "$T/target")
tid2=$(buildid "$T/target2")
[ "$tid" != "$tid2" ] || fail "the two targets have the same build-id"
kid=0123456789abcdef0123456789abcdef01234567
# a kernel module as far as a patchset cares: ELF relocatable whose .modinfo has the
# kcare tags of docs/kernel-patches.md (and one without them, another vendor's)
cat >"$T/mod.c" <<EOF
#define TAG(n, s) static const char n[] __attribute__((section(".modinfo"), used, aligned(1))) = s;
TAG(t1, "name=kcare_fix_3") TAG(t2, "kcare_id=fix") TAG(t3, "kcare_level=3")
TAG(t4, "kcare_build_id=abcdef12") TAG(t5, "kcare_kernel_id=$kid")
int kpatch_fix_init(void) { return 0; }
EOF
gcc -c -o "$T/p/fix.ko" "$T/mod.c" || fail "cannot compile the module"
cat >"$T/plain.c" <<'EOF'
static const char kc_name[] __attribute__((section(".modinfo"), used, aligned(1))) = "name=kpatch_fix";
int kpatch_fix_init(void) { return 0; }
EOF
gcc -c -o "$T/p/plain.ko" "$T/plain.c" || fail "cannot compile the plain module"
echo "not a patch" >"$T/p/text.kpatch"

step "help"
"$KC_PACK_BIN" --help | grep -q '^ *patchset ' || fail "kcare-build --help does not list patchset"
ps_ok --help
grep -q -- '--product' "$T/ps.out" || fail "patchset --help does not describe --product"

step "a userspace patchset for qemu, as the documents name it"
a="$T/out/U20210818_01-qemu.tar.bz2"
ps_ok --product qemu --name U20210818_01-qemu --released 2021-08-18T10:00:00Z \
	--description "two builds fixed" --kpatch-name qemu/work.patch --kpatch-cve CVE-2024-0001 \
	--kpatch-cvss 7.5 --kpatch-cve-url https://example.org/cve --kpatch-patch-url https://example.org/p \
	"$T/p/ok.kpatch" "$T/p/ok2.kpatch" -o "$a"
size=$(stat -c %s "$a")
grep -Eqx "wrote $(re_quote "$a"): patchset U20210818_01-qemu, product qemu, 2 patches, $size bytes" \
	"$T/ps.out" || fail "unexpected report: $(cat "$T/ps.out")"
tar tjf "$a" >"$T/list" || fail "tar cannot list the archive"
printf 'patchset.json\npatches/\npatches/ok.kpatch\npatches/ok2.kpatch\n' | diff - "$T/list" ||
	fail "unexpected members"
bzip2 -t "$a" 2>"$T/bz.err" && [ ! -s "$T/bz.err" ] || fail "bzip2 -t: $(cat "$T/bz.err")"
mkdir "$T/x"
tar xjf "$a" -C "$T/x" || fail "tar cannot extract the archive"
cmp "$T/x/patches/ok.kpatch" "$T/p/ok.kpatch" || fail "ok.kpatch changed in the archive"
j="$T/x/patchset.json"
cat "$j"
json "$j" "j['format'] == 1 and j['name'] == 'U20210818_01-qemu' and j['product'] == 'qemu'"
json "$j" "j['released'] == '2021-08-18T10:00:00Z' and j['description'] == 'two builds fixed'"
json "$j" "len(j['patches']) == 2"
json "$j" "j['patches'][0]['file'] == 'patches/ok.kpatch' and j['patches'][0]['kind'] == 'user'"
json "$j" "j['patches'][0]['build_id'] == '$tid' and j['patches'][1]['build_id'] == '$tid2'"
json "$j" "j['patches'][0]['target_name'] == 'target' and j['patches'][0]['id'] == 'ok-1'"
json "$j" "j['patches'][0]['level'] == 2 and j['patches'][1]['level'] == 1"
json "$j" "j['patches'][0]['cves'] == ['CVE-2024-0001'] and j['patches'][1]['cves'] == []"
json "$j" "j['patches'][0]['description'] == 'work fix'"
json "$j" "j['patches'][0]['length'] == $(stat -c %s "$T/p/ok.kpatch")"
json "$j" "j['patches'][0]['sha256'] == '$(sha256sum "$T/p/ok.kpatch" | cut -d' ' -f1)'"
json "$j" "j['patches'][0]['kpatch-name'] == 'qemu/work.patch' and j['patches'][0]['kpatch-cvss'] == '7.5'"
json "$j" "j['patches'][0]['kpatch-patch-url'] == 'https://example.org/p'"
json "$j" "'kpatch-name' not in j['patches'][1]"

step "the reader takes it back"
ps_ok --verify "$a"
grep -qx "U20210818_01-qemu: product qemu, released 2021-08-18T10:00:00Z, 2 patches" "$T/ps.out" ||
	fail "unexpected --verify summary"
grep -q "^patches/ok2.kpatch: user ok-1 level 1 for target2 (build-id $tid2)" "$T/ps.out" ||
	fail "--verify does not list ok2.kpatch"
# gzip, xz and plain tar are read too (detected by content)
bzip2 -dc "$a" >"$T/plain.tar"
gzip -c "$T/plain.tar" >"$T/a.tar.gz"
xz -c "$T/plain.tar" >"$T/a.tar.xz"
for f in "$T/plain.tar" "$T/a.tar.gz" "$T/a.tar.xz"; do
	ps_ok --verify "$f"
done
mv "$a" "$T/good.tar.bz2"

step "libs and db patchsets; default output name; --released defaults to now"
ps_ok --product libs --name U20240301_01 "$T/p/ok.kpatch" -o "$T/out/libs.tar.bz2"
ps_ok --product db --name U20240301_02-db "$T/p/ok.kpatch" -o "$T/out/db.tar.bz2"
before=$(date -u +%s)
(cd "$T/cwd" && ps_ok --product libs --name U20240301_03 "$T/p/ok.kpatch") || exit 1
[ -f "$T/cwd/U20240301_03.tar.bz2" ] || fail "no U20240301_03.tar.bz2 in the working directory"
tar xjf "$T/cwd/U20240301_03.tar.bz2" -C "$T/cwd" patchset.json
json "$T/cwd/patchset.json" "abs(__import__('calendar').timegm(__import__('time').strptime(j['released'], '%Y-%m-%dT%H:%M:%SZ')) - $before) < 60"
rm -f "$T/out/"*

step "a kernel patchset"
ps_ok --product kernel --name K20260115_01 --released 2026-01-15 --kernel-id $kid --level 3 \
	--kpatch-name 6.1/fix.patch "$T/p/fix.ko" -o "$T/out/K20260115_01.tar.bz2"
ps_ok --verify "$T/out/K20260115_01.tar.bz2"
grep -q "^patches/kcare_fix_3-abcdef12.ko: kernel fix level 3 for vmlinux (build-id abcdef12, kernel-id $kid)" "$T/ps.out" ||
	fail "--verify does not list the module"
ps_ok --product kernel K20260115_02 --kernel-build-id ABCDEF12 "$T/p/fix.ko" \
	-o "$T/out/K20260115_02.tar.bz2"
tar xjf "$T/out/K20260115_02.tar.bz2" -C "$T/cwd" patchset.json
json "$T/cwd/patchset.json" "j['patches'][0]['build_id'] == 'abcdef12' and j['patches'][0]['kernel_id'] == '$kid'"
json "$T/cwd/patchset.json" "j['patches'][0]['id'] == 'fix' and j['patches'][0]['level'] == 3"
rm -f "$T/out/"*

q="--product qemu --name U20210818_01-qemu"
o="-o $T/out/x.tar.bz2"
step "usage errors: exit 2"
ps_fails 2
ps_fails 2 $o "$T/p/ok.kpatch"
ps_fails 2 --product qemu $o "$T/p/ok.kpatch"
ps_fails 2 --name U20210818_01-qemu $o "$T/p/ok.kpatch"
ps_fails 2 $q $o
ps_fails 2 --product games --name U20210818_01 $o "$T/p/ok.kpatch"
ps_fails 2 --product qemu --name U20210818_01 $o "$T/p/ok.kpatch"
grep -q "needs the suffix -qemu" "$T/ps.err" || fail "the refusal does not name the missing suffix"
ps_fails 2 --product libs --name U20210818_01-qemu $o "$T/p/ok.kpatch"
grep -q "suffix -qemu is for product qemu" "$T/ps.err" || fail "the refusal does not name the product"
ps_fails 2 --product qemu --name U20210818_01-db $o "$T/p/ok.kpatch"
ps_fails 2 --product kernel --name U20260115_01 $o "$T/p/fix.ko"
ps_fails 2 --product libs --name K20260115_01 $o "$T/p/ok.kpatch"
ps_fails 2 --product libs --name U20230229_01 $o "$T/p/ok.kpatch"
ps_fails 2 $q --released yesterday $o "$T/p/ok.kpatch"
ps_fails 2 $q --released 2021-08-18T10:00:00 $o "$T/p/ok.kpatch"
ps_fails 2 --product kernel --name K20260115_01 --kernel-id 1234 $o "$T/p/fix.ko"
ps_fails 2 --product kernel --name K20260115_01 --kernel-id $kid --level 0 $o "$T/p/fix.ko"
ps_fails 2 $q $o "$T/p/ok.kpatch" --kpatch-name late
grep -q "after the last PATCH" "$T/ps.err" || fail "a trailing --kpatch-name is not named"
ps_fails 2 $q $o --bogus "$T/p/ok.kpatch"
ps_fails 2 $q $o "$T/p/ok.kpatch" --description
ps_fails 2 --verify "$T/good.tar.bz2" $q

step "refusals: exit 1"
ps_fails 1 $q $o "$T/p/nonexistent.kpatch"
ps_fails 1 $q $o "$T/p/text.kpatch"
grep -q "patch 'text.kpatch': not a valid userspace patch" "$T/ps.err" || fail "text.kpatch not named"
ps_fails 1 $q $o "$T/p/fix.ko"
grep -q "a kernel module, not a userspace patch" "$T/ps.err" || fail "the module is not called one"
ps_fails 1 --product kernel --name K20260115_01 --kernel-id $kid $o "$T/p/ok.kpatch"
grep -q "a userspace patch, not a kernel module" "$T/ps.err" || fail "the user patch is not called one"
ps_fails 1 --product kernel --name K20260115_01 $o "$T/p/plain.ko"
grep -q "not a kcare module" "$T/ps.err" || fail "a module without kcare tags is not refused as such"
ps_fails 1 --product kernel --name K20260115_01 --level 2 $o "$T/p/fix.ko"
grep -q "the module's kcare_level is 3" "$T/ps.err" || fail "a level the module does not carry"
ps_fails 1 $q --kernel-id $kid $o "$T/p/ok.kpatch"
ps_fails 1 $q $o "$T/p/ok.kpatch" "$T/p/same.kpatch"
grep -q "same target and id 'ok-1'" "$T/ps.err" || fail "the duplicate target+id is not named"
ps_fails 1 $q $o "$T/p/ok.kpatch" "$T/p2/ok.kpatch"
grep -q "patch 'ok.kpatch': the patchset has a file of that name" "$T/ps.err" ||
	fail "the duplicate file name is not named"
ps_fails 1 $q --description "$(printf 'bell\007')" $o "$T/p/ok.kpatch"
ps_fails 1 $q -o "$T/out/no/such/dir/x.tar.bz2" "$T/p/ok.kpatch"

step "a refusal leaves an existing archive alone"
echo previous >"$T/keep.tar.bz2"
ps $q -o "$T/keep.tar.bz2" "$T/p/text.kpatch"
[ $KC_RC = 1 ] || fail "exit $KC_RC"
[ "$(cat "$T/keep.tar.bz2")" = previous ] || fail "the existing archive was changed"
[ "$(ls -A "$T" | grep -c '^\.keep')" = 0 ] || fail "a temporary file was left behind"

step "the reader refuses crafted archives: exit 1, one line naming the member"
"$KC_PY" - "$T/good.tar.bz2" "$T" <<'PY' || fail "cannot craft archives"
import io, sys, tarfile
good, t = sys.argv[1], sys.argv[2]
members = []
with tarfile.open(good, "r:bz2") as tf:
    for m in tf.getmembers():
        members.append((m, tf.extractfile(m).read() if m.isfile() else None))
def write(name, extra=(), drop=(), mode="w:bz2"):
    with tarfile.open(f"{t}/{name}", mode, format=tarfile.USTAR_FORMAT) as tf:
        for m, data in members:
            if m.name not in drop:
                tf.addfile(m, io.BytesIO(data) if data is not None else None)
        for m, data in extra:
            tf.addfile(m, io.BytesIO(data) if data is not None else None)
def reg(name, data):
    m = tarfile.TarInfo(name); m.size = len(data); return (m, data)
def link(name, target, kind):
    m = tarfile.TarInfo(name); m.type = kind; m.linkname = target; return (m, None)
write("traversal.tar.bz2", [reg("../evil", b"x")])
write("absolute.tar.bz2", [reg("/tmp/evil", b"x")])
write("symlink.tar.bz2", [link("patches/evil", "/etc/shadow", tarfile.SYMTYPE)])
write("hardlink.tar.bz2", [link("patches/evil", "patches/ok.kpatch", tarfile.LNKTYPE)])
write("extra.tar.bz2", [reg("patches/extra.kpatch", b"x")])
write("missing.tar.bz2", drop=["patches/ok2.kpatch"])
write("nojson.tar.bz2", drop=["patchset.json"])
data = dict((m.name, d) for m, d in members)
bad = bytearray(data["patches/ok.kpatch"]); bad[-1] ^= 1
write("hash.tar.bz2", [reg("patches/ok.kpatch", bytes(bad))], drop=["patches/ok.kpatch"])
j = data["patchset.json"].replace(b'"product": "qemu"', b'"product": "libs"')
write("product.tar.bz2", [reg("patchset.json", j)], drop=["patchset.json"])
write("badjson.tar.bz2", [reg("patchset.json", b"{\"format\": 1,")], drop=["patchset.json"])
raw = open(good, "rb").read()
open(f"{t}/truncated.tar.bz2", "wb").write(raw[: len(raw) - 20])
PY
for c in "traversal:member '../evil': path escapes the archive" \
	"absolute:member '/tmp/evil': absolute path" \
	"symlink:member 'patches/evil': is a symbolic link" \
	"hardlink:member 'patches/evil': is a hard link" \
	"extra:member 'patches/extra.kpatch': not listed in patchset.json" \
	"missing:member 'patches/ok2.kpatch': listed in patchset.json but not in the archive" \
	"nojson:no patchset.json in the archive" \
	"hash:member 'patches/ok.kpatch': sha256 differs from patchset.json" \
	"product:suffix -qemu is for product qemu, not libs" \
	"badjson:patchset.json: bad JSON" \
	"truncated:patchset: "; do
	f="$T/${c%%:*}.tar.bz2"
	ps_fails 1 --verify "$f"
	grep -qF -- "${c#*:}" "$T/ps.err" || fail "${c%%:*}: expected '${c#*:}' in: $(cat "$T/ps.err")"
done
echo "ok"
