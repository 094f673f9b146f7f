#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcarectl's kernel commands and kcare-uname on this host, whose kernel cannot
# load modules: every kernel command says so in one line and exits 1,
# --status exits 3, --auto-update and --boot go on (exit 0), the userspace
# commands keep working, kcare-uname prints what uname prints for every option.
# Then the same commands against a fake /proc and /sys (KCARE_SYSROOT) that
# describe a kernel with a kcare level live: --info, --uname, --patch-info,
# --status from the cache record, kcare-uname's effective release, and
# another vendor's livepatch named by --info.
. "$(dirname "$0")/own-pidns.sh"
. "$(dirname "$0")/lib.sh"

KCCTL_BIN="$KC_BUILD/src/agent/kcarectl"
UNAME_BIN="$KC_BUILD/src/agent/kcare-uname"
[ -x "$KCCTL_BIN" ] && [ -x "$UNAME_BIN" ] || skip "kcarectl or kcare-uname is not built"
ROOT="$T/root"
mkdir -p "$ROOT/etc/sysconfig/kcare"
export KCARE_ROOT="$ROOT"
unset KCARE_SYSROOT

# kc WANT ARGS...: kcarectl exits WANT; output in $T/out, $T/err
kc() {
	_want=$1
	shift
	timeout 60 "$KCCTL_BIN" "$@" >"$T/out" 2>"$T/err"
	_rc=$?
	[ "$_rc" = "$_want" ] || fail "kcarectl $* exited $_rc, expected $_want: $(cat "$T/err" "$T/out")"
}
out_is() { grep -Eq -- "$1" "$T/out" || fail "no line matching '$1' in: $(cat "$T/out")"; }
err_is() { grep -Eq -- "$1" "$T/err" || fail "no line matching '$1' in stderr: $(cat "$T/err")"; }
one_line() {
	[ "$(wc -l <"$T/err")" = 1 ] && grep -q '^kcarectl: ' "$T/err" || fail "not one 'kcarectl: ' line: $(cat "$T/err")"
}

step "a kernel that cannot load modules"
if [ -e /proc/modules ] && [ -d /sys/kernel/livepatch ]; then
	real_can=1
else
	real_can=""
fi
if [ -z "$real_can" ]; then
	for a in --update -u --smart-update --unload --info -i --patch-info --uname; do
		kc 1 $a
		one_line
		err_is '^kcarectl: this kernel cannot load live patches \(module loading is not available\)$'
	done
	kc 3 --status
	out_is 'cannot load live patches'
	kc 3 --status --quiet
	[ -s "$T/out" ] && fail "--status --quiet printed: $(cat "$T/out")"
	kc 0 --boot
	echo "AUTO_UPDATE=True" >"$ROOT/etc/sysconfig/kcare/kcare.conf"
	echo "LIBCARE_DISABLED=True" >>"$ROOT/etc/sysconfig/kcare/kcare.conf"
	kc 0 --auto-update
	err_is 'warning: this kernel cannot load live patches'
	echo "IGNORE_UNKNOWN_KERNEL=True" >>"$ROOT/etc/sysconfig/kcare/kcare.conf"
	kc 0 --auto-update
	grep -q 'cannot load' "$T/err" && fail "IGNORE_UNKNOWN_KERNEL did not silence: $(cat "$T/err")"
	: >"$ROOT/etc/sysconfig/kcare/kcare.conf"
	# userspace commands still work
	kc 0 --lib-info
	[ "$(jq length "$T/out")" = 0 ] || fail "--lib-info: $(cat "$T/out")"
else
	echo "# this kernel can load modules: the refusals are the VM tests' business"
fi
kc 2 --freezer sometimes --update
err_is "--freezer 'sometimes' is not none, full or smart"

step "kcare-uname = uname on every option"
for o in "" -a -s -n -r -v -m -p -i -o -snrvmpio -sr --all --kernel-name --nodename --kernel-release \
	--kernel-version --machine --processor --hardware-platform --operating-system; do
	[ "$("$UNAME_BIN" $o)" = "$(uname $o)" ] || fail "kcare-uname $o: '$("$UNAME_BIN" $o)' != '$(uname $o)'"
done
"$UNAME_BIN" --help | grep -q -- '--kernel-release' || fail "kcare-uname --help"
"$UNAME_BIN" --version | grep -q '^kcare-uname ' || fail "kcare-uname --version"
"$UNAME_BIN" -x >/dev/null 2>&1 && fail "kcare-uname -x succeeded"
"$UNAME_BIN" extra >/dev/null 2>"$T/err" && fail "kcare-uname extra succeeded"
grep -q "extra operand 'extra'" "$T/err" || fail "kcare-uname extra: $(cat "$T/err")"

step "a fake kernel with level 2 live (KCARE_SYSROOT)"
S="$T/sys"
mkdir -p "$S/proc/sys/kernel" "$S/proc/kcare" "$S/sys/kernel/livepatch/kcare_t_2" "$S/sys/kernel/livepatch/kcare_t_1"
: >"$S/proc/modules"
echo 0 >"$S/proc/sys/kernel/modules_disabled"
echo 6.1.0-57-amd64 >"$S/proc/sys/kernel/osrelease"
echo '#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3' >"$S/proc/sys/kernel/version"
printf 'Linux version 6.1.0-57-amd64 (fake)\n' >"$S/proc/version"
kid=$(sha1sum "$S/proc/version" | cut -d' ' -f1)
echo 1 >"$S/sys/kernel/livepatch/kcare_t_2/enabled"
echo 0 >"$S/sys/kernel/livepatch/kcare_t_2/transition"
# a replaced level is disabled until its module goes
echo 0 >"$S/sys/kernel/livepatch/kcare_t_1/enabled"
echo 0 >"$S/sys/kernel/livepatch/kcare_t_1/transition"
echo 2 >"$S/proc/kcare/level"
echo t-series >"$S/proc/kcare/id"
echo 6.1.0-58-amd64 >"$S/proc/kcare/effective_version"
printf 'CVE-2026-0001\nCVE-2026-0002\n' >"$S/proc/kcare/cvelist"
printf 'kpatch-name: fix-a\nkpatch-description: a\nkpatch-kernel: N/A\nkpatch-cve: CVE-2026-0001\nkpatch-cvss: N/A\nkpatch-cve-url: N/A\nkpatch-patch-url: N/A\n\nkpatch-name: fix-b\nkpatch-description: b\nkpatch-kernel: N/A\nkpatch-cve: CVE-2026-0002\nkpatch-cvss: 7.8\nkpatch-cve-url: N/A\nkpatch-patch-url: N/A\n' >"$S/proc/kcare/patches"
printf 'ID=debian\nVERSION_ID="12"\n' >"$ROOT/etc/os-release"
export KCARE_SYSROOT="$S"
printf 'LIBCARE_DISABLED=True\n' >"$ROOT/etc/sysconfig/kcare/kcare.conf"

[ "$("$UNAME_BIN" -r)" = 6.1.0-58-amd64 ] || fail "kcare-uname -r: $("$UNAME_BIN" -r)"
"$UNAME_BIN" -a | grep -q " 6.1.0-58-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 " || fail "kcare-uname -a: $("$UNAME_BIN" -a)"
kc 0 --uname
[ "$(cat "$T/out")" = 6.1.0-58-amd64 ] || fail "--uname: $(cat "$T/out")"
kc 0 --info
out_is '^kpatch-state: patch is applied$'
out_is '^kpatch-module: kcare_t_2$'
out_is '^kpatch-level: 2$'
out_is '^kpatch-cves: 2$'
out_is '^effective version: 6.1.0-58-amd64$'
kc 0 --info --json
jq -e --arg kid "$kid" '.level == 2 and .kernel_id == $kid and (.cves | length) == 2 and .release == "6.1.0-57-amd64"' \
	"$T/out" >/dev/null || fail "--info --json: $(cat "$T/out")"
kc 0 --patch-info
out_is '^OS: debian12$'
out_is '^kernel: linux-image-6.1.0-57-amd64$'
out_is '^time: N/A$'
out_is '^uname: 6.1.0-58-amd64$'
[ "$(grep -c '^kpatch-name: ' "$T/out")" = 2 ] || fail "--patch-info blocks: $(cat "$T/out")"
sed -n 5p "$T/out" | grep -q '^$' || fail "--patch-info: no blank line after the header: $(cat "$T/out")"

step "--status from the cache record of this kernel"
kc 0 --status
out_is 'up to date: level 2'
# userspace enabled but nothing of it applied: the patched kernel still makes the host up to date
: >"$ROOT/etc/sysconfig/kcare/kcare.conf"
kc 0 --status
out_is 'up to date: level 2'
printf 'LIBCARE_DISABLED=True\n' >"$ROOT/etc/sysconfig/kcare/kcare.conf"
mkdir -p "$ROOT/var/cache/kcare/kernel"
cat >"$ROOT/var/cache/kcare/kernel/selected.json" <<EOF
{ "format": 1, "kernels": [ { "patchset": "K20261206_03", "kind": "module", "id": "kcare_t_3", "level": 3,
  "released": 1796515200, "kernel_id": "$kid", "sha256": "$(printf x | sha256sum | cut -d' ' -f1)",
  "length": 1 } ] }
EOF
kc 2 --status
out_is 'level 3 is available, level 2 is applied'
kc 0 --info --json
jq -e '.cached_level == 3' "$T/out" >/dev/null || fail "cached level: $(cat "$T/out")"
# the record names level 3's module; the cached file has the right length, not the right bytes
printf 'LIBCARE_DISABLED=True\nUPDATE_POLICY=LOCAL\n' >"$ROOT/etc/sysconfig/kcare/kcare.conf"
blob="$ROOT/var/cache/kcare/kernel/$(printf x | sha256sum | cut -d' ' -f1).ko"
printf y >"$blob"
kc 1 --smart-update
one_line
err_is "cached kernel patch 'kcare_t_3' of K20261206_03 is corrupted"
[ -e "$blob" ] && fail "the corrupted module was kept"
rm -f "$ROOT/var/cache/kcare/kernel/selected.json"

step "no level live; another vendor's livepatch"
echo 0 >"$S/sys/kernel/livepatch/kcare_t_2/enabled"
rm -r "$S/proc/kcare"
mkdir -p "$S/sys/kernel/livepatch/lkp_Ubuntu_1"
echo 1 >"$S/sys/kernel/livepatch/lkp_Ubuntu_1/enabled"
echo 0 >"$S/sys/kernel/livepatch/lkp_Ubuntu_1/transition"
kc 1 --status
out_is 'no kernel patches are applied'
kc 0 --info
out_is '^kpatch-state: no kernel patches are applied$'
out_is '^other live patches \(not kcare.s\): lkp_Ubuntu_1$'
[ "$("$UNAME_BIN" -r)" = 6.1.0-57-amd64 ] || fail "kcare-uname -r without a level: $("$UNAME_BIN" -r)"
kc 0 --patch-info
[ "$(grep -c '^kpatch-name' "$T/out")" = 0 ] || fail "--patch-info with nothing live: $(cat "$T/out")"
echo "ok"
