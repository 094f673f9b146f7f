#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcare-build pack on the command line: a good pack (its one-line report and
# the metadata written), usage errors (exit 2) and refusals (exit 1 with one
# line "kcare-build: ..."); after any failure no output file (nor temporary
# file) is left behind, and an existing output file is left as it was.
. "$(dirname "$0")/lib.sh"
need_pack

src="$KC_SRC/pack"
cc_prog "$T/target" "$src/target.c"
cc_prog "$T/target-noid" "$src/target.c" -Wl,--build-id=none
# no alignment padding: tiny() (1 byte) is followed at once by work()
cc_prog "$T/target-tight" "$src/target.c" -falign-functions=1
for f in ok tiny tls; do
	cc_fix "$T/fix-$f.o" "$src/fix-$f.c"
done
cc_fix "$T/fix-abs.o" "$src/fix-abs.c" -fno-pic -mcmodel=small
cc_fix "$T/fix-missing.o" "$KC_SRC/badpatch/fix-missing.c"
"$KC_PY" - "$T/fix-ok.o" "$T/fix-arm.o" <<'PY' || fail "cannot make the wrong-arch object"
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<H", d, 18, 183)  # EM_AARCH64
open(sys.argv[2], "wb").write(d)
PY
echo "not an ELF file" >"$T/text.o"
mkdir "$T/out"
tid=$(buildid "$T/target")

step "help"
"$KC_PACK_BIN" --help | grep -q '^ *pack ' || fail "kcare-build --help does not list pack"
"$KC_PACK_BIN" pack --help >"$T/help.out" 2>&1 || fail "kcare-build pack --help exited $?"
grep -q -- '--target' "$T/help.out" || fail "pack --help does not describe --target"

step "a good pack"
pack --target "$T/target" --object "$T/fix-ok.o" -o "$T/out/ok.kpatch" --id ok-1.x_y --level 3 \
	--cve CVE-2024-0001 --cve CVE-2023-123456 --description "work fix"
grep -Eq "^packed $(re_quote "$T/out/ok.kpatch"): id ok-1\.x_y level 3 for target \(build-id $tid\), 1 replaced functions?, 1 new$" \
	"$T/pack.out" || fail "unexpected report: $(cat "$T/pack.out")"
"$KC_PY" "$KC_TOOL" meta "$T/out/ok.kpatch" >"$T/meta"
cat "$T/meta"
for kv in magic=KCPATCH version=2 machine=62 id=ok-1.x_y level=3 description="work fix" \
	cves=CVE-2024-0001,CVE-2023-123456 target_name=target build_id=$tid nfuncs=1; do
	grep -qxF "$kv" "$T/meta" || fail "metadata has no '$kv'"
done
readelf -S "$T/out/ok.kpatch" | grep -q '\.kcare\.text' || fail "readelf sees no .kcare.text"
step "defaults: id from the object's name, level 1"
pack --target "$T/target" --object "$T/fix-ok.o" -o "$T/out/default.kpatch"
"$KC_PY" "$KC_TOOL" meta "$T/out/default.kpatch" | grep -qx 'id=fix-ok' || fail "default id is not fix-ok"
"$KC_PY" "$KC_TOOL" meta "$T/out/default.kpatch" | grep -qx 'level=1' || fail "default level is not 1"
rm -f "$T/out/"*

# fails STATUS ARGS...: pack exits STATUS (a glob: 2, [12]) and leaves
# $T/out empty; a refusal (1) says why in one line "kcare-build: ...", a usage
# error (2) says something on stderr
fails() {
	want=$1
	shift
	pack_rc "$@"
	case $KC_RC in
	$want) ;;
	*) fail "pack $*: exit $KC_RC, expected $want" ;;
	esac
	if [ $KC_RC = 1 ]; then
		[ "$(lines "$T/pack.err")" = 1 ] && grep -q '^kcare-build: ' "$T/pack.err" ||
			fail "pack $*: expected one line 'kcare-build: ...' on stderr"
	fi
	[ -s "$T/pack.err" ] || fail "pack $*: nothing on stderr"
	[ -z "$(ls -A "$T/out")" ] || fail "pack $*: left $(ls -A "$T/out") behind"
}
ok="--target $T/target --object $T/fix-ok.o"
o="-o $T/out/p.kpatch"

step "usage errors: exit 2"
fails 2
fails 2 --object "$T/fix-ok.o" $o
fails 2 --target "$T/target" $o
fails 2 $ok
fails 2 $ok $o --bogus
fails 2 $ok $o --level abc
fails 2 $ok $o --level 0
fails 2 $ok $o --level
fails 2 $ok $o --cve CVE-1-2
fails 2 $ok $o --cve bogus
fails '[12]' $ok $o --id 'bad/id'
fails 2 $ok $o extra-argument

step "refusals: exit 1"
fails 1 --target "$T/nonexistent" --object "$T/fix-ok.o" $o
fails 1 --target "$T/target" --object "$T/nonexistent.o" $o
fails 1 --target "$T/target" --object "$T/text.o" $o
fails 1 --target "$T/text.o" --object "$T/fix-ok.o" $o
fails 1 --target "$T/target" --object "$T/target" $o
fails 1 --target "$T/target-noid" --object "$T/fix-ok.o" $o
fails 1 --target "$T/target" --object "$T/fix-missing.o" $o
fails 1 --target "$T/target-tight" --object "$T/fix-tiny.o" $o
grep -q "tiny.*followed by symbol 'work'" "$T/pack.err" || fail "the refusal does not name 'tiny' and why"
fails 1 --target "$T/target" --object "$T/fix-tls.o" $o
fails 1 --target "$T/target" --object "$T/fix-abs.o" $o
grep -q "R_X86_64_32" "$T/pack.err" || fail "the refusal does not name the relocation"
fails 1 --target "$T/target" --object "$T/fix-arm.o" $o
fails 1 $ok -o "$T/out/no/such/dir/p.kpatch"

step "a refusal leaves an existing output file alone"
echo "previous" >"$T/keep.kpatch"
pack_rc --target "$T/target-tight" --object "$T/fix-tiny.o" -o "$T/keep.kpatch"
[ $KC_RC = 1 ] || fail "exit $KC_RC"
[ "$(cat "$T/keep.kpatch")" = previous ] || fail "the existing output file was changed"
echo "ok"
