// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The runtime of every kcare livepatch module (one patch level): it
 * enables the livepatch, and once the transition is complete it owns
 * /proc/kcare and the kernel.kcare_* switches. The level's own data (the
 * klp tables, texts and switches) comes from kcare-gen.h, which
 * kcare-build kmod writes next to this file; nothing here changes from
 * one level to the next.
 *
 * Ownership: all kcare modules share one livepatch shadow variable
 * (object NULL, KCARE_SHADOW_ID) holding a mutex and what the owner
 * published. post_patch of the vmlinux object takes it over (removing a
 * replaced level's files first); pre_unpatch and module exit remove them
 * only when this module is the owner, so removing a replaced level
 * leaves the live one's files alone. The shadow itself is never freed: a
 * replaced level may still be exiting and holding it, and it is a few
 * bytes until reboot. Its layout is versioned in the id.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/sysctl.h>
#include <linux/utsname.h>

#define KCARE_SHADOW_ID 0x6b63617265000001UL /* "kcare", layout 1 */

struct kcare_owner {
	struct mutex lock;    /* guards the fields below */
	struct module *owner; /* the module whose files are published, or NULL */
	struct proc_dir_entry *dir;
	struct ctl_table_header *sysctl;
};

static void kcare_post_patch(struct klp_object *obj);
static void kcare_pre_unpatch(struct klp_object *obj);

#include "kcare-gen.h"

static int kcare_show_cvelist(struct seq_file *m, void *v)
{
	seq_puts(m, kcare_cvelist);
	return 0;
}

static int kcare_show_effective(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", KCARE_EFFECTIVE[0] ? KCARE_EFFECTIVE : init_utsname()->release);
	return 0;
}

static int kcare_show_level(struct seq_file *m, void *v)
{
	seq_printf(m, "%u\n", KCARE_LEVEL);
	return 0;
}

static int kcare_show_id(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", KCARE_ID);
	return 0;
}

static int kcare_show_patches(struct seq_file *m, void *v)
{
	seq_puts(m, kcare_patches);
	return 0;
}

static int kcare_owner_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	struct kcare_owner *o = shadow_data;

	mutex_init(&o->lock);
	o->owner = NULL;
	o->dir = NULL;
	o->sysctl = NULL;
	return 0;
}

/* Called with o->lock held. */
static void kcare_unpublish(struct kcare_owner *o)
{
	if (o->sysctl)
		unregister_sysctl_table(o->sysctl);
	if (o->dir)
		proc_remove(o->dir);
	o->sysctl = NULL;
	o->dir = NULL;
	o->owner = NULL;
}

/* Called with o->lock held and nothing published. */
static int kcare_publish(struct kcare_owner *o)
{
	struct proc_dir_entry *dir = proc_mkdir("kcare", NULL);

	if (!dir)
		return -EEXIST;
	if (!proc_create_single("cvelist", 0444, dir, kcare_show_cvelist) ||
	    !proc_create_single("effective_version", 0444, dir, kcare_show_effective) ||
	    !proc_create_single("level", 0444, dir, kcare_show_level) ||
	    !proc_create_single("id", 0444, dir, kcare_show_id) ||
	    !proc_create_single("patches", 0444, dir, kcare_show_patches)) {
		proc_remove(dir);
		return -ENOMEM;
	}
	o->dir = dir;
	if (KCARE_NSWITCHES) {
		o->sysctl = register_sysctl("kernel", kcare_switches);
		if (!o->sysctl) {
			proc_remove(dir);
			o->dir = NULL;
			return -ENOMEM;
		}
	}
	o->owner = THIS_MODULE;
	return 0;
}

static void kcare_post_patch(struct klp_object *obj)
{
	struct kcare_owner *o;
	int ret;

	o = klp_shadow_get_or_alloc(NULL, KCARE_SHADOW_ID, sizeof(*o), GFP_KERNEL, kcare_owner_ctor,
				    NULL);
	if (!o) {
		pr_warn("kcare: %s: cannot publish /proc/kcare: out of memory\n", KBUILD_MODNAME);
		return;
	}
	mutex_lock(&o->lock);
	if (o->owner != THIS_MODULE) {
		kcare_unpublish(o);
		ret = kcare_publish(o);
		if (ret)
			pr_warn("kcare: %s: cannot publish /proc/kcare: %d\n", KBUILD_MODNAME, ret);
	}
	mutex_unlock(&o->lock);
}

static void kcare_drop(void)
{
	struct kcare_owner *o = klp_shadow_get(NULL, KCARE_SHADOW_ID);

	if (!o)
		return;
	mutex_lock(&o->lock);
	if (o->owner == THIS_MODULE)
		kcare_unpublish(o);
	mutex_unlock(&o->lock);
}

static void kcare_pre_unpatch(struct klp_object *obj)
{
	kcare_drop();
}

static struct klp_patch kcare_patch = {
    .mod = THIS_MODULE,
    .objs = kcare_objs,
    .replace = true,
};

static int __init kcare_init(void)
{
	return klp_enable_patch(&kcare_patch);
}

static void __exit kcare_exit(void)
{
	kcare_drop();
}

module_init(kcare_init);
module_exit(kcare_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("kcare live patch " KCARE_ID " level " KCARE_LEVEL_STR);
MODULE_INFO(kcare_id, KCARE_ID);
MODULE_INFO(kcare_level, KCARE_LEVEL_STR);
MODULE_INFO(kcare_build_id, KCARE_BUILD_ID);
MODULE_INFO(kcare_kernel_id, KCARE_KERNEL_ID);
MODULE_INFO(kcare_release, KCARE_RELEASE);
MODULE_INFO(kcare_effective, KCARE_EFFECTIVE);
