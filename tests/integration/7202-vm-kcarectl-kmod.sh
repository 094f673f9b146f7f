#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcarectl with the levels kcare-build kmod makes (tests/kernel-fixes), in
# Debian's kernel under QEMU, from the agent's cache on a disk image that
# outlives the guest: boot 1 loads level 1 (--smart-update, UPDATE_POLICY=
# LOCAL), applies sysctl.conf's switch (the original /proc/cmdline comes
# back), replaces it by level 2 (the switch is set again, level 1's module is
# removed), shows --patch-info and kcare-uname from the module's /proc/kcare;
# boot 2 runs what the boot unit runs (--boot, LOCAL_FIRST) before any
# network and finds level 2 live again; --unload restores the kernel; with
# LOAD_KCARE_SYSCTL=False a level loads with its switches left at 0.
. "$(dirname "$0")/lib.sh"
. "$KC_TOP/tests/integration/kcarectl-vm.sh"
fixes="$KC_TOP/tests/kernel-fixes"

step "levels 1 and 2 with kcare-build kmod"
kcvm_kmod vm-agent --level 1 --source "$fixes/cmdline-suffix.c"
kcvm_kmod vm-agent --level 2 --source "$fixes/cmdline-suffix.c" --source "$fixes/binfmt-status.c" \
	--effective-version 6.1.0-99-amd64
mkdir -p "$T/data"
# rec LEVEL: the cache record kcarectl --update would have written for that level
rec() {
	_ko="$T/out/kcare_vm_agent_$1.ko"
	_sha=$(sha256sum "$_ko" | cut -d' ' -f1)
	cp "$_ko" "$T/data/$_sha.ko"
	cat >"$T/data/sel-$1.json" <<EOF
{ "format": 1, "kernels": [ { "patchset": "K20261206_0$1", "product": "kernel", "kind": "module",
  "id": "vm-agent", "module": "kcare_vm_agent_$1", "level": $1, "released": 1796515200,
  "build_id": "$KC_VM_BUILD_ID", "kernel_id": "$KC_VM_KERNEL_ID", "target": "vmlinux",
  "sha256": "$_sha", "length": $(wc -c <"$_ko") } ] }
EOF
}
rec 1
rec 2

cat >"$T/test.sh" <<'GUEST'
C=/var/cache/kcare/kernel
mkdir -p /etc/sysconfig/kcare /var/cache/kcare
check disk guest_disk_mount /var/cache/kcare
orig=$(cat /proc/cmdline)
echo 'kernel.kcare_cmdline_suffix = 1' >/etc/sysconfig/kcare/sysctl.conf
. /lib/kcarectl-guest.sh
if [ "$(guest_arg boot)" = 1 ]; then
	printf 'UPDATE_POLICY=LOCAL\nLIBCARE_DISABLED=True\n' >/etc/sysconfig/kcare/kcare.conf
	mkdir -p $C
	cp /data/*.ko $C/
	cp /data/sel-1.json $C/selected.json
	kc l1-update 0 --smart-update
	check l1-level guest_file_is /proc/kcare/level 1
	check l1-switch-set guest_file_is /proc/sys/kernel/kcare_cmdline_suffix 1
	check l1-switch-original guest_file_is /proc/cmdline "$orig"
	check l1-sysctl-said has /tmp/kc.out 'sysctl.conf: 1 kcare switch set'
	kc l1-status 0 --status
	cp /data/sel-2.json $C/selected.json
	kc l2-status-pending 2 --status
	kc l2-update 0 --smart-update
	check l2-level guest_file_is /proc/kcare/level 2
	check l2-removed-l1 has /tmp/kc.out 'removed older levels: kcare_vm_agent_1'
	check l2-l1-module-gone sh -c '! grep -q "^kcare_vm_agent_1 " /proc/modules'
	check l2-switch-set-again guest_file_is /proc/sys/kernel/kcare_cmdline_suffix 1
	echo 0 >/proc/sys/kernel/kcare_cmdline_suffix
	check l2-patched has /proc/cmdline ' kcare_fix=cmdline$'
	kc l2-patch-info 0 --patch-info
	check l2-patch-info-blocks sh -c '[ "$(grep -c "^kpatch-name: " /tmp/kc.out)" = 2 ]'
	check l2-patch-info-uname has /tmp/kc.out '^uname: 6.1.0-99-amd64$'
	check l2-kcare-uname sh -c '[ "$(kcare-uname -r)" = 6.1.0-99-amd64 ]'
	kc l2-uname 0 --uname
	check l2-uname-eff guest_file_is /tmp/kc.out 6.1.0-99-amd64
else
	# boot 2: what kcare.service runs, before any network
	printf 'UPDATE_POLICY=LOCAL_FIRST\nLIBCARE_DISABLED=True\n' >/etc/sysconfig/kcare/kcare.conf
	check no-net sh -c '! ip -o addr show | grep -q "inet 10\."'
	t0=$(guest_ms)
	kc boot 0 --boot --quiet
	result boot_update_ms $(($(guest_ms) - t0))
	check boot-level guest_file_is /proc/kcare/level 2
	check boot-switch guest_file_is /proc/sys/kernel/kcare_cmdline_suffix 1
	kc boot-status 0 --status
	kc unload 0 --unload
	check unload-orig guest_file_is /proc/cmdline "$orig"
	check unload-no-proc guest_absent /proc/kcare
	check unload-no-module sh -c '! grep -q "^kcare_" /proc/modules'
	# LOAD_KCARE_SYSCTL=False: the level loads, sysctl.conf is left alone
	printf 'UPDATE_POLICY=LOCAL_FIRST\nLIBCARE_DISABLED=True\nLOAD_KCARE_SYSCTL=False\n' \
		>/etc/sysconfig/kcare/kcare.conf
	kc nosysctl-update 0 --smart-update
	check nosysctl-level guest_file_is /proc/kcare/level 2
	check nosysctl-switch-off guest_file_is /proc/sys/kernel/kcare_cmdline_suffix 0
	check nosysctl-patched has /proc/cmdline ' kcare_fix=cmdline$'
	check nosysctl-not-said sh -c '! grep -q "sysctl.conf" /tmp/kc.out'
	kc nosysctl-unload 0 --unload
fi
umount /var/cache/kcare
GUEST
kcvm_initramfs "$T/initrd" --test "$T/test.sh" --dir "$T/data:/data"
vm_disk_new "$T/disk" 32M

for boot in 1 2; do
	step "boot $boot"
	vm_run --cpus 1 --initrd "$T/initrd" --out "$T/boot$boot" --disk "$T/disk" --timeout 300 \
		--append "kc.boot=$boot" || fail "boot $boot failed"
	grep -c '^KC-RESULT ok ' "$T/boot$boot.results" | sed 's/^/# checks passed: /'
done
echo "# boot 2: kcarectl --boot loaded the cached level in $(vm_result "$T/boot2" boot_update_ms) ms"
