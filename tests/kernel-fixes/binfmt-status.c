// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpatch-name: binfmt-status
 * kpatch-description: binfmt_misc: the status file says that kcare patched it
 * kpatch-cve: CVE-2026-0002
 * kpatch-cvss: 5.5
 * kcare-switch: binfmt_status
 *
 * Test fix for kcare-build kmod, in a module: bm_status_read() is static
 * in fs/binfmt_misc.c, and so is the 'enabled' flag it reads (a klp
 * relocation against binfmt_misc). After mount -t binfmt_misc none
 * /proc/sys/fs/binfmt_misc, the status file reads "enabled (kcare)"; its
 * switch (kernel.kcare_binfmt_status=1) jumps into the module's original.
 */
#include <linux/fs.h>
#include <linux/string.h>

extern int enabled;

ssize_t bm_status_read(struct file *file, char __user *buf, size_t nbytes, loff_t *ppos)
{
	const char *s = enabled ? "enabled (kcare)\n" : "disabled (kcare)\n";

	return simple_read_from_buffer(buf, nbytes, ppos, s, strlen(s));
}
