# SPDX-License-Identifier: GPL-2.0-or-later
# Guest side of the sample (sourced by a VM test script, with
# /root/kc_vm_cmdline.ko in the initramfs): load, wait for the transition,
# see /proc/cmdline change, unpatch, remove, see the original back. Results:
# ok/not_ok insmod transition patched-flag patched unpatch rmmod restored
# no-module; transition_ms, unpatch_ms.
orig=$(cat /proc/cmdline)
t0=$(guest_ms)
if insmod /root/kc_vm_cmdline.ko; then ok insmod; else not_ok insmod "insmod failed"; exit 1; fi
if guest_lp_wait kc_vm_cmdline 30; then ok transition; else not_ok transition "not done in 30 s"; fi
result transition_ms $(($(guest_ms) - t0))
check patched-flag guest_file_is /sys/kernel/livepatch/kc_vm_cmdline/vmlinux/patched 1
check patched guest_file_is /proc/cmdline kc-vm-cmdline-patched
t0=$(guest_ms)
if guest_lp_disable kc_vm_cmdline 30; then ok unpatch; else not_ok unpatch "still in sysfs after 30 s"; fi
result unpatch_ms $(($(guest_ms) - t0))
check rmmod rmmod kc_vm_cmdline
check restored guest_file_is /proc/cmdline "$orig"
check no-module sh -c '! grep -q "^kc_vm_cmdline " /proc/modules'
