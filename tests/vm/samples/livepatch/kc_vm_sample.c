// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM harness's own livepatch (tests/integration/7001-vm-harness.sh),
 * observable from a shell in the guest:
 *  - vmlinux: reading /proc/cmdline shows a fixed marker instead of the boot
 *    command line;
 *  - the binfmt_misc module: its "status" file shows the marker instead of
 *    "enabled". The module may load before or after this patch; the
 *    livepatch core patches it when it comes.
 * It depends on nothing kcare builds, so it tests the harness alone: kbuild
 * against the headers, insmod, the transition on 1 and 2 vCPUs, unpatching
 * and rmmod.
 */
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#define KC_VM_MARKER "kc-vm-sample-patched\n"

/* replaces fs/proc/cmdline.c's show callback (same signature) */
static int kc_vm_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, KC_VM_MARKER);
	return 0;
}

/* replaces fs/binfmt_misc.c's read of the "status" file */
static ssize_t kc_vm_bm_status_read(struct file *file, char __user *buf, size_t nbytes,
				    loff_t *ppos)
{
	return simple_read_from_buffer(buf, nbytes, ppos, KC_VM_MARKER, sizeof(KC_VM_MARKER) - 1);
}

static struct klp_func kc_vm_vmlinux_funcs[] = {
    {.old_name = "cmdline_proc_show", .new_func = kc_vm_cmdline_show},
    {},
};

static struct klp_func kc_vm_binfmt_funcs[] = {
    {.old_name = "bm_status_read", .new_func = kc_vm_bm_status_read},
    {},
};

/* a NULL name means vmlinux */
static struct klp_object kc_vm_objs[] = {
    {.funcs = kc_vm_vmlinux_funcs},
    {.name = "binfmt_misc", .funcs = kc_vm_binfmt_funcs},
    {},
};

static struct klp_patch kc_vm_patch = {
    .mod = THIS_MODULE,
    .objs = kc_vm_objs,
};

static int __init kc_vm_sample_init(void)
{
	return klp_enable_patch(&kc_vm_patch);
}

/* nothing to undo: the livepatch core holds a reference on this module
 * until the patch is disabled from sysfs and its transition is over */
static void __exit kc_vm_sample_exit(void)
{
}

module_init(kc_vm_sample_init);
module_exit(kc_vm_sample_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kcare VM harness sample: /proc/cmdline and binfmt_misc's status show a marker");
MODULE_INFO(livepatch, "Y");
