# SPDX-License-Identifier: GPL-2.0-or-later
# Guest side of the sample (sourced by a VM test script, with
# /root/kc_vm_sample.ko in the initramfs): load it, wait for the transition,
# see /proc/cmdline change; load binfmt_misc afterwards and see the patch
# reach it as it comes; unpatch, remove, see the originals back. Results:
# ok/not_ok insmod transition patched-flag patched module-patched-flag
# module-patched unpatch rmmod restored module-restored no-module;
# transition_ms, unpatch_ms.
orig=$(cat /proc/cmdline)
bm=/proc/sys/fs/binfmt_misc
t0=$(guest_ms)
if insmod /root/kc_vm_sample.ko; then ok insmod; else not_ok insmod "insmod failed"; exit 1; fi
if guest_lp_wait kc_vm_sample 30; then ok transition; else not_ok transition "not done in 30 s"; fi
result transition_ms $(($(guest_ms) - t0))
check patched-flag guest_file_is /sys/kernel/livepatch/kc_vm_sample/vmlinux/patched 1
check patched guest_file_is /proc/cmdline kc-vm-sample-patched
# the module's object is patched when the module loads
modprobe binfmt_misc && { grep -q " $bm " /proc/mounts || mount -t binfmt_misc binfmt_misc $bm; } ||
	not_ok binfmt_misc "cannot load or mount"
check module-patched-flag guest_file_is /sys/kernel/livepatch/kc_vm_sample/binfmt_misc/patched 1
check module-patched guest_file_is $bm/status kc-vm-sample-patched
t0=$(guest_ms)
if guest_lp_disable kc_vm_sample 30; then ok unpatch; else not_ok unpatch "still in sysfs after 30 s"; fi
result unpatch_ms $(($(guest_ms) - t0))
check rmmod rmmod kc_vm_sample
check restored guest_file_is /proc/cmdline "$orig"
check module-restored guest_file_is $bm/status enabled
check no-module sh -c '! grep -q "^kc_vm_sample " /proc/modules'
umount $bm
