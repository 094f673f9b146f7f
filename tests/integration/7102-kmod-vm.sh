#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# kcare-build kmod's modules in Debian's kernel (tests/vm): level 1
# (tests/kernel-fixes/cmdline-suffix.c: a static vmlinux function and a
# non-exported variable through klp relocations, a switch) loads alone and
# publishes /proc/kcare; its switch gives the original /proc/cmdline back;
# level 2 (plus binfmt-status.c, a static function of the binfmt_misc module,
# loaded only after the patch so that its klp relocations are applied late,
# with a switch that jumps into the module's original)
# replaces it; removing level 1 leaves level 2's files; disabling and
# removing level 2 leaves no /proc/kcare and the original behaviour.
. "$(dirname "$0")/lib.sh"
. "$KC_TOP/tests/vm/vm.sh"

need_pack
vm_kernel_prepare
fixes="$KC_TOP/tests/kernel-fixes"
export XDG_CACHE_HOME="$T/cache"

kmod() {
	"$KC_PACK_BIN" kmod --kernel "$KC_VM_ABI" --kernel-tree "$KC_VM_TREE" -o "$T/out" \
		--id vm-test "$@" >"$T/kmod.out" 2>&1 || {
		cat "$T/kmod.out"
		fail "kcare-build kmod $*"
	}
}

step "levels 1 and 2 for $KC_VM_ABI"
kmod --level 1 --source "$fixes/cmdline-suffix.c"
kmod --level 2 --source "$fixes/cmdline-suffix.c" --source "$fixes/binfmt-status.c" \
	--effective-version 6.1.0-99-amd64

cat >"$T/test.sh" <<'GUEST'
orig=$(cat /proc/cmdline)
has() { grep -q -- "$2" "$1"; }
lacks() { ! grep -q -- "$2" "$1"; }

check l1-insmod insmod /root/kcare_vm_test_1.ko
check l1-transition guest_lp_wait kcare_vm_test_1 30
check l1-cmdline has /proc/cmdline ' kcare_fix=cmdline$'
check l1-static-call has /proc/cmdline '^Linux version '
check l1-level guest_file_is /proc/kcare/level 1
check l1-id guest_file_is /proc/kcare/id vm-test
check l1-cvelist guest_file_is /proc/kcare/cvelist CVE-2026-0001
check l1-effective guest_file_is /proc/kcare/effective_version "$(uname -r)"
check l1-patches has /proc/kcare/patches '^kpatch-name: cmdline-suffix$'
check l1-patches-cvss has /proc/kcare/patches '^kpatch-cvss: 7.8$'
check l1-switch-0 guest_file_is /proc/sys/kernel/kcare_cmdline_suffix 0

echo 1 >/proc/sys/kernel/kcare_cmdline_suffix
check switch-on-original guest_file_is /proc/cmdline "$orig"
echo 0 >/proc/sys/kernel/kcare_cmdline_suffix
check switch-off-patched has /proc/cmdline ' kcare_fix=cmdline$'
check switch-range sh -c '! echo 2 >/proc/sys/kernel/kcare_cmdline_suffix'

check l2-before-binfmt sh -c '! grep -q "^binfmt_misc " /proc/modules'
check l2-insmod insmod /root/kcare_vm_test_2.ko
check l2-transition guest_lp_wait kcare_vm_test_2 30
check l1-replaced guest_wait 30 guest_absent /sys/kernel/livepatch/kcare_vm_test_1
check l2-level guest_file_is /proc/kcare/level 2
check l2-effective guest_file_is /proc/kcare/effective_version 6.1.0-99-amd64
check l2-cvelist guest_file_is /proc/kcare/cvelist "$(printf 'CVE-2026-0001\nCVE-2026-0002')"
check l2-patches has /proc/kcare/patches '^kpatch-name: binfmt-status$'
check l2-cmdline has /proc/cmdline ' kcare_fix=cmdline$'
check binfmt-load modprobe binfmt_misc
check binfmt-mount mount -t binfmt_misc none /proc/sys/fs/binfmt_misc
check binfmt-patched-flag guest_wait 30 guest_file_is /sys/kernel/livepatch/kcare_vm_test_2/binfmt_misc/patched 1
check binfmt-patched guest_file_is /proc/sys/fs/binfmt_misc/status "enabled (kcare)"
echo 1 >/proc/sys/kernel/kcare_binfmt_status
check binfmt-switch-on-original guest_file_is /proc/sys/fs/binfmt_misc/status enabled
echo 0 >/proc/sys/kernel/kcare_binfmt_status
check binfmt-switch-off-patched guest_file_is /proc/sys/fs/binfmt_misc/status "enabled (kcare)"

check l1-rmmod rmmod kcare_vm_test_1
check l1-rmmod-keeps-l2 guest_file_is /proc/kcare/level 2
check l1-rmmod-keeps-switch test -e /proc/sys/kernel/kcare_cmdline_suffix

check l2-disable guest_lp_disable kcare_vm_test_2 30
check l2-rmmod rmmod kcare_vm_test_2
check no-proc-kcare guest_absent /proc/kcare
check no-switch guest_absent /proc/sys/kernel/kcare_cmdline_suffix
check cmdline-restored guest_file_is /proc/cmdline "$orig"
check binfmt-restored guest_file_is /proc/sys/fs/binfmt_misc/status enabled
GUEST

nchecks=$(grep -c '^check ' "$T/test.sh")
vm_initramfs "$T/initrd" --test "$T/test.sh" \
	--file "$T/out/kcare_vm_test_1.ko:/root/kcare_vm_test_1.ko" \
	--file "$T/out/kcare_vm_test_2.ko:/root/kcare_vm_test_2.ko"
for cpus in 1 2; do
	step "guest with $cpus vCPU"
	vm_run --cpus "$cpus" --initrd "$T/initrd" --out "$T/boot$cpus" --timeout 180 ||
		fail "guest with $cpus vCPU failed"
	n=$(grep -c '^KC-RESULT ok ' "$T/boot$cpus.results")
	[ "$n" -eq "$nchecks" ] || fail "$n of $nchecks checks passed with $cpus vCPU"
done
echo "PASS"
