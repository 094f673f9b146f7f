#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# OVAL for scanners, judged by the real scanner (Debian's openscap-scanner).
# A libs patchset carries a fix for the zlib installed on this host (packed
# against /lib/x86_64-linux-gnu/libz.so.1, --package zlib1g=<installed
# version>, CVE-2099-0301) and one for a zlib version that is not installed
# (CVE-2099-0302, CVE-2099-0303); a kernel patchset carries a module for the
# running kernel release (CVE-2099-0303: its definition has both branches). eportal serves /oval/com.kernelcare.ID.VERSION_ID.xml
# without authentication; it is valid OVAL, and `kc.eportal oval` writes the
# same bytes offline. `oscap oval eval` results (oscap exits 0 whatever it
# finds, so r.xml is judged): before anything is applied 0301 and 0303 are
# vulnerable and 0302 is not (another version); kcarectl --lib-update patches a
# program using zlib and writes libcare_cvelist: 0301 is no longer vulnerable;
# 0303 in a prepared kernel CVE list: not vulnerable; --lib-unload: 0301 is
# vulnerable again. Disabling the patchsets rewrites the served document.
# Unknown distributions and feeds are refused with one line.
. "$(dirname "$0")/kcarectl-lib.sh"
command -v oscap >/dev/null 2>&1 || skip "oscap is not installed (openscap-scanner)"
LIBZ=/lib/x86_64-linux-gnu/libz.so.1
[ -e "$LIBZ" ] && dpkg-query -W -f='${db:Status-Status}' zlib1g 2>/dev/null | grep -q '^installed' ||
	skip "zlib1g is not installed"
ZVER=$(dpkg-query -W -f='${Version}' zlib1g)
. /etc/os-release
DOC="com.kernelcare.$ID.$VERSION_ID.xml"
ULIST="$ROOT/var/cache/kcare/libcare_cvelist"
KLIST="$T/kernel_cvelist"

# verdicts DOC: "CVE result" per definition of the last evaluation ($T/r.xml), sorted
verdicts() {
	"$KC_PY" - "$1" "$T/r.xml" <<'PY' | sort
import sys, xml.etree.ElementTree as E
D = "{http://oval.mitre.org/XMLSchema/oval-definitions-5}"
R = "{http://oval.mitre.org/XMLSchema/oval-results-5}"
cve = {d.get("id"): d.find(D + "metadata/" + D + "reference").get("ref_id")
       for d in E.parse(sys.argv[1]).iter(D + "definition")}
for d in E.parse(sys.argv[2]).iter(R + "definition"):
    print(cve[d.get("definition_id")], d.get("result"))
PY
}

# evaluate WHAT EXPECTED...: oscap on $T/test.xml; the verdicts must be EXPECTED (one "CVE result" each)
evaluate() {
	_what=$1
	shift
	oscap oval eval --results "$T/r.xml" --report "$T/report.html" "$T/test.xml" >"$T/oscap.out" 2>&1 ||
		fail "$_what: oscap failed: $(tail -3 "$T/oscap.out")"
	verdicts "$T/test.xml" >"$T/verdicts"
	printf '%s\n' "$@" | sort >"$T/want"
	cmp -s "$T/verdicts" "$T/want" || fail "$_what: verdicts $(tr '\n' ';' <"$T/verdicts"), expected $(tr '\n' ';' <"$T/want")"
	echo "# $_what: $(tr '\n' ';' <"$T/verdicts")"
}

# served: GET /oval/$DOC into $T/served.xml, without credentials
served() {
	req GET "/oval/$DOC"
	expect_status 200 "GET /oval/$DOC"
	cp "$T/body" "$T/served.xml"
}

step "a fix for the installed zlib, one for another zlib version, a kernel module for $(uname -r)"
cat >"$T/zprog.c" <<'EOT'
/* Calls zlib's zlibCompileFlags() through the system libz.so.1 in a loop. */
#include <dlfcn.h>
#include "kct.h"
int main(void)
{
	void *z = dlopen("libz.so.1", RTLD_NOW);
	unsigned long (*flags)(void) = z ? (unsigned long (*)(void))dlsym(z, "zlibCompileFlags") : 0;

	if (!flags)
		return 1;
	kct_init(300);
	printf("ready\n");
	for (;;) {
		printf("flags %#lx\n", flags());
		kct_sleep_ms(10);
	}
}
EOT
cc_prog "$T/zprog" "$T/zprog.c" -ldl
printf 'unsigned long zlibCompileFlags(void) { return 0x4b43; }\n' >"$T/zfix.c"
cc_fix "$T/zfix.o" "$T/zfix.c"
pack --target "$LIBZ" --object "$T/zfix.o" -o "$T/z.kpatch" --id zlib-flags --cve CVE-2099-0301 \
	--description 'zlib flags <demo> & "quotes"' >/dev/null
printf 'int other(void) { return 1; }\n' >"$T/other.c"
cc_lib "$T/libother.so" "$T/other.c"
printf 'int other(void) { return 2; }\n' >"$T/ofix.c"
cc_fix "$T/ofix.o" "$T/ofix.c"
pack --target "$T/libother.so" --object "$T/ofix.o" -o "$T/o.kpatch" --id other --cve CVE-2099-0302 \
	--cve CVE-2099-0303 >/dev/null
"$KC_PACK_BIN" patchset --product libs --name U20260101_01 -o "$T/libs.tar.bz2" \
	--package "zlib1g=$ZVER" "$T/z.kpatch" --package zlib1g=1:0.9-kcare "$T/o.kpatch" >"$T/ps.out" 2>&1 ||
	fail "libs patchset: $(cat "$T/ps.out")"
"$KC_PACK_BIN" patchset --verify "$T/libs.tar.bz2" | grep -q "package zlib1g $ZVER" ||
	fail "the patchset does not carry the package: $("$KC_PACK_BIN" patchset --verify "$T/libs.tar.bz2")"
# a synthetic livepatch module (docs/kernel-patches.md tags) for the running kernel's release
M=kcare_oval_1
mkdir -p "$T/kmod"
cat >"$T/kmod/$M.c" <<EOT
#define TAG(n, s) static const char n[] __attribute__((section(".modinfo"), used, aligned(1))) = s;
TAG(a, "license=GPL") TAG(b, "name=$M") TAG(c, "kcare_id=oval") TAG(d, "kcare_level=1")
TAG(e, "kcare_build_id=0badc0de") TAG(f, "kcare_release=$(uname -r)") TAG(g, "livepatch=Y")
int kcare_oval_fix(void) { return 1; }
EOT
gcc -c -o "$T/kmod/$M.ko" "$T/kmod/$M.c" || fail "cannot compile the module"
cat >"$T/kmod/$M.json" <<EOT
{ "id": "oval", "level": 1, "module": "$M", "release": "$(uname -r)", "build_id": "0badc0de",
  "fixes": [ { "name": "k", "description": "kernel demo", "cves": ["CVE-2099-0303"] } ] }
EOT
"$KC_PACK_BIN" patchset --product kernel K20260101_01 -o "$T/kernel.tar.bz2" "$T/kmod/$M.ko" \
	>"$T/ps.out" 2>&1 || fail "kernel patchset: $(cat "$T/ps.out")"

step "eportal serves /oval/$DOC: valid OVAL, the same as kc.eportal oval offline"
ep_start
epc libcare deploy "$T/libs.tar.bz2" >/dev/null || fail "deploy libs"
epc kcare deploy "$T/kernel.tar.bz2" >/dev/null || fail "deploy kernel"
served
oscap oval validate "$T/served.xml" >"$T/validate.out" 2>&1 || fail "invalid OVAL: $(head -5 "$T/validate.out")"
epc oval -o "$T/offline.xml" || fail "kc.eportal oval"
cmp -s "$T/served.xml" "$T/offline.xml" || fail "kc.eportal oval writes another document than /oval/ serves"
epc oval --distro "$ID" --release "$VERSION_ID" --feed main >"$T/stdout.xml" || fail "kc.eportal oval to stdout"
cmp -s "$T/served.xml" "$T/stdout.xml" || fail "kc.eportal oval to stdout differs"
[ "$(grep -c '<definition ' "$T/served.xml")" = 3 ] || fail "not 3 definitions: $(grep '<title>' "$T/served.xml")"
grep -q '<ind-def:filepath>/proc/kcare/cvelist</ind-def:filepath>' "$T/served.xml" || fail "no kernel CVE list test"
grep -q '<ind-def:filepath>/var/cache/kcare/libcare_cvelist</ind-def:filepath>' "$T/served.xml" ||
	fail "no userspace CVE list test"
grep -q "<unix-def:os_release operation=\"equals\">$(uname -r)</unix-def:os_release>" "$T/served.xml" ||
	fail "no kernel release test"
grep -q "<linux-def:evr datatype=\"debian_evr_string\" operation=\"equals\">$ZVER</linux-def:evr>" "$T/served.xml" ||
	fail "no zlib1g version test"
grep -q 'zlib flags &lt;demo&gt; &amp; &quot;quotes&quot;' "$T/served.xml" || fail "description not escaped"
"$KC_PY" - "$T/served.xml" <<'PY' || fail "CVE-2099-0303 is not (kernel AND list) OR (package AND list)"
import sys, xml.etree.ElementTree as E
D = "{http://oval.mitre.org/XMLSchema/oval-definitions-5}"
d = [d for d in E.parse(sys.argv[1]).iter(D + "definition")
     if d.find(D + "metadata/" + D + "reference").get("ref_id") == "CVE-2099-0303"][0]
top = d.find(D + "criteria")
assert top.get("operator") == "OR" and [c.get("operator") for c in top] == ["AND", "AND"]
for branch, what in zip(top, ("kernel release", "installed")):
    assert what in branch.find(D + "criteria/" + D + "criterion").get("comment")
PY
for p in nosuch.xml ..%2Fkeys%2Froot.key .publish-lock "$DOC/x" ""; do
	req GET "/oval/$p"
	expect_status 404 "GET /oval/$p"
done

step "the definitions pointed at the test's CVE lists are the served ones with other paths"
epc oval --user-cvelist "$ULIST" --kernel-cvelist "$KLIST" -o "$T/test.xml" || fail "kc.eportal oval with lists"
sed -e "s|/var/cache/kcare/libcare_cvelist|$ULIST|g" -e "s|/proc/kcare/cvelist|$KLIST|g" \
	"$T/served.xml" | cmp -s - "$T/test.xml" || fail "the CVE list options changed more than the paths"

step "nothing applied: the installed zlib's CVE and the kernel's are open, the other version's is not"
cat >"$ROOT/etc/sysconfig/kcare/kcare.conf" <<EOT
PATCH_SERVER=$EP_URL/repo/
EOT
kc_ok --import-key "$(epc root-key)"
KEY=$(epc key -a --server-limit 10 --product libs) || fail "key add"
kc_ok --register "$KEY"
# eportal maps zlib too (through libxml2 and libcurl): the agent leaves the server alone
mkdir -p "$ROOT/var/cache/kcare/userspace"
printf 'filename : eportal\n' >"$ROOT/var/cache/kcare/userspace/blacklist"
start_target zprog "$T/zprog"
zp=$TPID
expect_line "$T/zprog.log" '^flags 0x[0-9a-f]+$' 5
grep -q 'libz\.so' "/proc/$zp/maps" || fail "zprog does not map the system zlib"
orig=$(tail -1 "$T/zprog.log")
[ "$orig" != "flags 0x4b43" ] || fail "zlib's flags are the patched value already"
rm -f "$ULIST" "$KLIST"
evaluate "no CVE lists" "CVE-2099-0301 true" "CVE-2099-0302 false" "CVE-2099-0303 true"

step "kcarectl --lib-update patches zprog: CVE-2099-0301 is covered"
kc_ok --lib-update
kc_out "^$zp zprog: patched \(1 patch\)$"
kc_out "^$EP_PID eportal: skipped, blacklisted"
kc_out "^processes: 1 patched, "
expect_value "$T/zprog.log" '^flags 0x4b43$'
grep -qx CVE-2099-0301 "$ULIST" || fail "libcare_cvelist: $(cat "$ULIST")"
evaluate "live patch applied" "CVE-2099-0301 false" "CVE-2099-0302 false" "CVE-2099-0303 true"
printf 'CVE-2099-03030\nCVE-2099-030\n' >"$KLIST"
evaluate "kernel list naming other CVEs" "CVE-2099-0301 false" "CVE-2099-0302 false" "CVE-2099-0303 true"
printf 'CVE-2099-0001\nCVE-2099-0303\n' >"$KLIST"
evaluate "kernel list with the CVE" "CVE-2099-0301 false" "CVE-2099-0302 false" "CVE-2099-0303 false"

step "kcarectl --lib-unload: vulnerable again"
kc_ok --lib-unload
kc_out "^processes: 1 unpatched, 0 failed$"
expect_value "$T/zprog.log" "^$orig\$"
evaluate "live patch unloaded" "CVE-2099-0301 true" "CVE-2099-0302 false" "CVE-2099-0303 false"

step "state changes rewrite the served document"
epc libcare disable U20260101_01 >/dev/null || fail "disable libs"
served
[ "$(grep -c '<definition ' "$T/served.xml")" = 1 ] && grep -q 'ref_id="CVE-2099-0303"' "$T/served.xml" ||
	fail "after disabling libs: $(grep '<title>' "$T/served.xml")"
epc kcare disable K20260101_01 >/dev/null || fail "disable kernel"
served
grep -q '<definition ' "$T/served.xml" && fail "definitions left after disabling everything"
oscap oval validate "$T/served.xml" >"$T/validate.out" 2>&1 || fail "empty document invalid: $(head -5 "$T/validate.out")"
epc oval -o "$T/offline.xml" && cmp -s "$T/served.xml" "$T/offline.xml" || fail "offline differs after the changes"

step "bad input: one line, exit 1"
epc oval --distro nosuch --release 1 >"$T/out" 2>"$T/err"
[ $? = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "^kc.eportal: unknown distribution 'nosuch' (known: debian" "$T/err" ||
	fail "unknown distribution: $(cat "$T/err")"
[ -s "$T/out" ] && fail "output for an unknown distribution"
epc oval --feed nosuch >"$T/out" 2>"$T/err"
[ $? = 1 ] && grep -q "^kc.eportal: no feed 'nosuch'$" "$T/err" || fail "unknown feed: $(cat "$T/err")"
epc oval --distro debian >/dev/null 2>"$T/err"
[ $? = 2 ] || fail "--distro without --release: $(cat "$T/err")"
echo "PASS"
