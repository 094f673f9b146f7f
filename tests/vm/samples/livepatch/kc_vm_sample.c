// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM harness's own livepatch (tests/integration/7001-vm-harness.sh):
 * while it is enabled, reading /proc/cmdline shows a fixed marker instead of
 * the boot command line, so a user program in the guest can tell patched
 * from unpatched. It depends on nothing kcare builds, so it tests the
 * harness alone: kbuild against the headers, insmod, the livepatch
 * transition on 1 and 2 vCPUs, unpatching and rmmod.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

/* the signature of fs/proc/cmdline.c's show callback, which it replaces */
static int kc_vm_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, "kc-vm-cmdline-patched\n");
	return 0;
}

static struct klp_func kc_vm_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = kc_vm_cmdline_show },
	{}
};

/* a NULL name means vmlinux */
static struct klp_object kc_vm_objs[] = {
	{ .funcs = kc_vm_funcs },
	{}
};

static struct klp_patch kc_vm_patch = {
	.mod = THIS_MODULE,
	.objs = kc_vm_objs,
};

static int __init kc_vm_cmdline_init(void)
{
	return klp_enable_patch(&kc_vm_patch);
}

/* nothing to undo: the livepatch core holds a reference on the module
 * until the patch is disabled from sysfs and its transition is over */
static void __exit kc_vm_cmdline_exit(void)
{
}

module_init(kc_vm_cmdline_init);
module_exit(kc_vm_cmdline_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kcare VM harness sample: /proc/cmdline shows a marker");
MODULE_INFO(livepatch, "Y");
