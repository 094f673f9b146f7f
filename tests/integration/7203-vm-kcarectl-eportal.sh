#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcarectl in Debian's kernel under QEMU against a real eportal on the host
# (QEMU user networking: the host's 127.0.0.1 is 10.0.2.2 in the guest): the
# root key imported, --register with a kernel-only key, --check and --status
# in each state, --update --prefix 12h to level 1 (level 2 is younger), then
# --update to level 2 (replace), --patch-info and kcare-uname, --unload; the
# server sees the host's kernel id and its patch level at the check-ins.
. "$(dirname "$0")/kcarectl-lib.sh"
. "$KC_TOP/tests/integration/kcarectl-vm.sh"
fixes="$KC_TOP/tests/kernel-fixes"

step "levels 1 and 2, patchsets ten days and two hours old"
kcvm_kmod vm-e2e --level 1 --source "$fixes/cmdline-suffix.c"
kcvm_kmod vm-e2e --level 2 --source "$fixes/cmdline-suffix.c" --source "$fixes/binfmt-status.c" \
	--effective-version 6.1.0-99-amd64
"$KC_PACK_BIN" patchset --product kernel K20260101_01 "$T/out/kcare_vm_e2e_1.ko" \
	--released "$(date -u -d '10 days ago' +%Y-%m-%dT%H:%M:%SZ)" -o "$T/k1.tar.bz2" >"$T/ps.out" 2>&1 ||
	fail "patchset 1: $(cat "$T/ps.out")"
"$KC_PACK_BIN" patchset --product kernel K20260102_01 "$T/out/kcare_vm_e2e_2.ko" \
	--released "$(date -u -d '2 hours ago' +%Y-%m-%dT%H:%M:%SZ)" -o "$T/k2.tar.bz2" >"$T/ps.out" 2>&1 ||
	fail "patchset 2: $(cat "$T/ps.out")"

step "eportal on 127.0.0.1"
ep_start
epc kcare deploy "$T/k1.tar.bz2" >/dev/null || fail "deploy 1"
epc kcare deploy "$T/k2.tar.bz2" >/dev/null || fail "deploy 2"
KEY=$(epc key -a --product kernel) || fail "key add"
mkdir -p "$T/data"
cp "$(epc root-key)" "$T/data/root.pub"
printf 'PATCH_SERVER=http://10.0.2.2:%s/repo/\nLIBCARE_DISABLED=True\n' "$EP_PORT" >"$T/data/kcare.conf"
echo "$KEY" >"$T/data/key"

cat >"$T/test.sh" <<'GUEST'
. /lib/kcarectl-guest.sh
orig=$(cat /proc/cmdline)
mkdir -p /etc/sysconfig/kcare
cp /data/kcare.conf /etc/sysconfig/kcare/kcare.conf
check net guest_net_up
kc import-key 0 --import-key /data/root.pub
kc register 0 --register "$(cat /data/key)"
kc status-none 1 --status
kc check-new 0 --check
check check-says has /tmp/kc.out 'level 2'
t0=$(guest_ms)
kc update-1 0 --update --prefix 12h
result update1_ms $(($(guest_ms) - t0))
check l1-live guest_file_is /proc/kcare/level 1
check l1-cmdline has /proc/cmdline ' kcare_fix=cmdline$'
kc status-1 0 --status
kc check-2 0 --check
t0=$(guest_ms)
kc update-2 0 --update
result update2_ms $(($(guest_ms) - t0))
check l2-live guest_file_is /proc/kcare/level 2
check l1-gone sh -c '! grep -q "^kcare_vm_e2e_1 " /proc/modules'
kc status-2 0 --status
kc check-none 1 --check
kc patch-info 0 --patch-info
check patch-info-uname has /tmp/kc.out '^uname: 6.1.0-99-amd64$'
check patch-info-block has /tmp/kc.out '^kpatch-name: cmdline-suffix$'
check kcare-uname sh -c '[ "$(kcare-uname -r)" = 6.1.0-99-amd64 ]'
kc info 0 --info
check info-level has /tmp/kc.out '^kpatch-level: 2$'
kc unload 0 --unload
check unload-orig guest_file_is /proc/cmdline "$orig"
kc status-unloaded 1 --status
GUEST
kcvm_initramfs "$T/initrd" --test "$T/test.sh" --dir "$T/data:/data"

step "the guest"
vm_run --cpus 1 --initrd "$T/initrd" --out "$T/run" --net --timeout 300 || fail "the guest run failed"
grep -c '^KC-RESULT ok ' "$T/run.results" | sed 's/^/# checks passed: /'
echo "# kcarectl --update in the guest: level 1 $(vm_result "$T/run" update1_ms) ms, level 2 $(vm_result "$T/run" update2_ms) ms"

step "the server saw the kernel and its level"
epc list-servers --json >"$T/servers.json" || fail "list-servers"
jq -e --arg kid "$KC_VM_KERNEL_ID" '.[0].kernel_id == $kid and .[0].patch_level == 2 and .[0].effective_version == "6.1.0-99-amd64"' \
	"$T/servers.json" >/dev/null || fail "servers: $(cat "$T/servers.json")"
echo "ok"
