#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcare-build kmod on the host (no guest): a module from the test fixes of
# tests/kernel-fixes (a static vmlinux function and a non-exported variable,
# a static function and variable of the binfmt_misc module, a switch) has
# its .klp.rela sections and SHN_LIVEPATCH .klp.sym symbols, none of those
# references left in ordinary relocations, the modinfo tags, the JSON
# sidecar and an appended signature; an ambiguous static name is refused
# until the fix picks a position; bad input is refused with one line, a
# non-zero exit and nothing in -o.
. "$(dirname "$0")/lib.sh"
. "$KC_TOP/tests/vm/vm.sh"

need_pack
command -v readelf >/dev/null || skip "no readelf"
command -v openssl >/dev/null || skip "no openssl"
vm_kernel_prepare
fixes="$KC_TOP/tests/kernel-fixes"
export XDG_CACHE_HOME="$T/cache"

# kmod OUTDIR ARGS...: kcare-build kmod for the prepared kernel; status in $rc
kmod() {
	_out=$1
	shift
	rc=0
	timeout 600 "$KC_PACK_BIN" kmod --kernel "$KC_VM_ABI" --kernel-tree "$KC_VM_TREE" -o "$_out" \
		"$@" >"$T/kmod.out" 2>"$T/kmod.err" || rc=$?
}

# refused NAME PATTERN ARGS...: kmod fails, with one stderr line matching PATTERN, and writes nothing
refused() {
	_name=$1 _pat=$2
	shift 2
	rm -rf "$T/bad"
	kmod "$T/bad" "$@"
	[ "$rc" -ne 0 ] || fail "$_name: accepted"
	[ "$(wc -l <"$T/kmod.err")" -eq 1 ] || {
		cat "$T/kmod.err"
		fail "$_name: not one line on stderr"
	}
	grep -Eq -- "$_pat" "$T/kmod.err" || fail "$_name: '$(cat "$T/kmod.err")' does not match '$_pat'"
	[ ! -e "$T/bad" ] || fail "$_name: something was written to -o"
	echo "# refused $_name: $(cat "$T/kmod.err")"
}

step "a signed module from cmdline-suffix.c and binfmt-status.c for $KC_VM_ABI"
openssl req -new -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kcare-test/ \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 || fail "openssl cannot make a key"
kmod "$T/out" --id debian-test --level 3 --source "$fixes/cmdline-suffix.c" \
	--source "$fixes/binfmt-status.c" --effective-version 6.1.0-99-amd64 --cve CVE-2026-0003 \
	--sign-key "$T/key.pem" --sign-cert "$T/cert.pem" --keep-work "$T/work"
[ "$rc" -eq 0 ] || fail "kcare-build kmod: $(cat "$T/kmod.err")"
cat "$T/kmod.out"
ko=$T/out/kcare_debian_test_3.ko
json=$T/out/kcare_debian_test_3.json
[ -f "$ko" ] && [ -f "$json" ] || fail "no module or sidecar in $T/out"

readelf -SW "$ko" >"$T/sections" || fail "readelf -S"
readelf -sW "$ko" >"$T/symbols" || fail "readelf -s"
readelf -rW "$ko" >"$T/relocs" || fail "readelf -r"
for s in '.klp.rela.vmlinux..text' '.klp.rela.binfmt_misc..text'; do
	line=$(grep -F " $s " "$T/sections") || fail "no section $s"
	# flags: A (alloc), I (info link), o (SHF_RELA_LIVEPATCH, OS-specific)
	echo "$line" | grep -Eq ' AIo +[0-9]+ ' || fail "$s flags: $line"
done
for s in '.klp.sym.vmlinux.saved_command_line,0' '.klp.sym.vmlinux.version_proc_show,0' \
	'.klp.sym.vmlinux.cmdline_proc_show,0' '.klp.sym.binfmt_misc.enabled,0' \
	'.klp.sym.binfmt_misc.bm_status_read,0'; do
	grep -F " $s" "$T/symbols" | grep -q 'OS \[0xff20\]' || fail "no SHN_LIVEPATCH symbol $s"
done
# every reference to those now lives in a .klp.rela section, none in .rela.*
awk '/^Relocation section/ { sec = $3 } / \.klp\.sym\./ { print sec }' "$T/relocs" | sort -u >"$T/klp-in"
[ "$(cat "$T/klp-in")" = "$(printf "'.klp.rela.binfmt_misc..text'\n'.klp.rela.vmlinux..text'")" ] ||
	fail "klp symbols referenced from: $(cat "$T/klp-in")"
grep -Eq ' (saved_command_line|version_proc_show|enabled)( |$)' "$T/relocs" &&
	fail "a relocation still names a non-exported symbol"
grep -q ' UND seq_puts$' "$T/symbols" || fail "exported seq_puts should stay an ordinary undefined symbol"

readelf -p .modinfo "$ko" | sed 's/^ *\[ *[0-9a-f]*\] *//' >"$T/modinfo"
for tag in livepatch=Y license=GPL kcare_id=debian-test kcare_level=3 "kcare_release=$KC_VM_ABI" \
	"kcare_build_id=$KC_VM_BUILD_ID" kcare_effective=6.1.0-99-amd64 name=kcare_debian_test_3; do
	grep -qx -- "$tag" "$T/modinfo" || fail "modinfo has no '$tag'"
done
[ -z "${KC_VM_KERNEL_ID:-}" ] || grep -qx "kcare_kernel_id=$KC_VM_KERNEL_ID" "$T/modinfo" ||
	fail "kcare_kernel_id is not sha1 of the guest's /proc/version ($KC_VM_KERNEL_ID)"
grep -q "^vermagic=$KC_VM_ABI SMP" "$T/modinfo" || fail "vermagic: $(grep vermagic "$T/modinfo")"

tail -c 28 "$ko" | grep -q '~Module signature appended~' || fail "no appended signature"

"$KC_PY" - "$json" "$KC_VM_ABI" "$KC_VM_BUILD_ID" <<'PY' || fail "sidecar"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["id"] == "debian-test" and j["level"] == 3, j
assert j["module"] == "kcare_debian_test_3", j["module"]
assert j["release"] == sys.argv[2] and j["build_id"] == sys.argv[3], j
assert len(j["kernel_id"]) == 40 and j["vermagic"].startswith(sys.argv[2] + " "), j
assert j["effective_version"] == "6.1.0-99-amd64", j
names = [f["name"] for f in j["fixes"]]
assert names == ["cmdline-suffix", "binfmt-status"], names
assert j["fixes"][0]["functions"] == ["vmlinux:cmdline_proc_show"], j["fixes"][0]
assert j["fixes"][1]["functions"] == ["binfmt_misc:bm_status_read"], j["fixes"][1]
assert j["fixes"][0]["cves"] == ["CVE-2026-0001"] and j["fixes"][0]["cvss"] == "7.8", j
assert j["fixes"][1]["cves"] == ["CVE-2026-0002"], j["fixes"][1]
assert j["switches"] == [{"name": "cmdline_suffix", "fix": "cmdline-suffix"},
                         {"name": "binfmt_status", "fix": "binfmt-status"}], j["switches"]
PY

step "a prebuilt fix object (--object), as the diff-based builder gives"
cp "$T/work/fix2.o" "$T/binfmt-status.o" || fail "no fix object kept in $T/work"
kmod "$T/obj" --id obj --level 1 --object "$T/binfmt-status.o" --description "prebuilt"
[ "$rc" -eq 0 ] || fail "--object: $(cat "$T/kmod.err")"
readelf -sW "$T/obj/kcare_obj_1.ko" | grep -q ' \.klp\.sym\.binfmt_misc\.enabled,0$' ||
	fail "--object: no .klp.sym.binfmt_misc.enabled,0"
grep -q '"binfmt_misc:bm_status_read"' "$T/obj/kcare_obj_1.json" || fail "--object: sidecar"

step "an ambiguous static name needs kcare-sympos"
# brightness_show is static in two places of vmlinux (never loaded: host-only check)
cat >"$T/pick.c" <<'C'
/*
 * kpatch-description: calls one of two static brightness_show()
 */
#include <linux/seq_file.h>

int brightness_show(void);

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", brightness_show());
	return 0;
}
C
n=$(grep -c ' brightness_show$' "$KC_VM_SYSTEM_MAP" 2>/dev/null || echo 0)
if [ "$n" -ge 2 ]; then
	refused ambiguous "'brightness_show' is ambiguous in vmlinux \($n symbols\).*kcare-sympos" \
		--id t --level 1 --source "$T/pick.c"
	sed 's|^ \* kpatch-description.*| * kcare-sympos: brightness_show,2|' "$T/pick.c" >"$T/pick2.c"
	mv "$T/pick2.c" "$T/pick.c"
	kmod "$T/pick" --id t --level 1 --source "$T/pick.c"
	[ "$rc" -eq 0 ] || fail "with kcare-sympos: $(cat "$T/kmod.err")"
	readelf -sW "$T/pick/kcare_t_1.ko" | grep -q ' \.klp\.sym\.vmlinux\.brightness_show,2$' ||
		fail "no .klp.sym.vmlinux.brightness_show,2"
	# the position counts as the kernel does: the 2nd of that name in kallsyms order
	grep ' brightness_show$' "$KC_VM_SYSTEM_MAP" | sed -n 2p | grep -q ' t ' || fail "System.map order"
else
	echo "# (this kernel has no two static brightness_show: skipped)"
fi

step "bad input"
printf '#include <linux/seq_file.h>\nint cmdline_proc_show(struct seq_file *m, void *v)\n{\n\treturn nope;\n}\n' >"$T/broken.c"
refused compile-error "broken\.c:4:[0-9]+: error: .nope. undeclared" --id t --level 1 --source "$T/broken.c"
printf 'int kcare_no_such_function(void)\n{\n\treturn 0;\n}\n' >"$T/nosuch.c"
refused not-a-function "nosuch\.c' defines 'kcare_no_such_function', which is not a function of" \
	--id t --level 1 --source "$T/nosuch.c"
printf 'extern int kcare_no_such_var;\nint cmdline_proc_show(void *m, void *v)\n{\n\treturn kcare_no_such_var;\n}\n' >"$T/novar.c"
refused unknown-reference "novar\.c' refers to 'kcare_no_such_var', which is neither exported nor" \
	--id t --level 1 --source "$T/novar.c"
# a noinstr function (no ftrace call site at its entry) cannot be livepatched
if [ "$(grep -c ' t native_safe_halt$' "$KC_VM_SYSTEM_MAP")" = 1 ]; then
	printf 'void native_safe_halt(void)\n{\n}\n' >"$T/notrace.c"
	refused no-ftrace "vmlinux's 'native_safe_halt' has no ftrace call at its entry" \
		--id t --level 1 --source "$T/notrace.c"
fi
refused long-name "longer than 55 characters" --level 1 --source "$fixes/cmdline-suffix.c" \
	--id aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
refused bad-id "bad id 'a/b'" --level 1 --source "$fixes/cmdline-suffix.c" --id a/b
printf '/*\n * kcare-switch: Bad-Name\n */\nint cmdline_proc_show(void) { return 0; }\n' >"$T/badsw.c"
refused bad-switch "badsw\.c': bad kcare-switch 'Bad-Name'" --id t --level 1 --source "$T/badsw.c"
refused no-source "cannot open|No such file" --id t --level 1 --source "$T/missing.c"
rc=0
timeout 60 "$KC_PACK_BIN" kmod --kernel "$T/no-headers" --source "$fixes/cmdline-suffix.c" -o "$T/bad" \
	--id t --level 1 2>"$T/kmod.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "no kernel headers in '$T/no-headers'" "$T/kmod.err" && [ ! -e "$T/bad" ] ||
	fail "missing headers: rc $rc, $(cat "$T/kmod.err")"
mkdir -p "$T/other/boot" "$T/other/lib/modules/5.10.0-99-amd64/kernel"
: >"$T/other/boot/vmlinuz-5.10.0-99-amd64"
rc=0
timeout 60 "$KC_PACK_BIN" kmod --kernel "$KC_VM_ABI" --kernel-tree "$T/other" -o "$T/bad" \
	--source "$fixes/cmdline-suffix.c" --id t --level 1 2>"$T/kmod.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "has no boot/vmlinuz-$KC_VM_ABI .*another kernel" "$T/kmod.err" &&
	[ ! -e "$T/bad" ] || fail "tree of another kernel: rc $rc, $(cat "$T/kmod.err")"
# headers of another build of the same ABI (a copy whose UTS_VERSION differs)
cp -a "$KC_VM_HEADERS" "$T/hdrs" && sed -i 's/#1 /#2 /' "$T/hdrs/include/generated/utsversion.h" ||
	fail "cannot copy the headers"
rc=0
timeout 60 "$KC_PACK_BIN" kmod --kernel "$T/hdrs" --kernel-tree "$KC_VM_TREE" -o "$T/bad" \
	--source "$fixes/cmdline-suffix.c" --id t --level 1 2>"$T/kmod.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "is not the build of the headers '$T/hdrs'" "$T/kmod.err" &&
	[ ! -e "$T/bad" ] || fail "headers of another build: rc $rc, $(cat "$T/kmod.err")"
rc=0
"$KC_PACK_BIN" kmod --kernel "$KC_VM_ABI" --source x.c -o "$T/bad" --id t 2>"$T/kmod.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--level is required" "$T/kmod.err" || fail "usage: rc $rc"
echo "PASS"
