// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpatch-name: cmdline-suffix
 * kpatch-description: /proc/cmdline: say that kcare patched the kernel
 * kpatch-cve: CVE-2026-0001
 * kpatch-cvss: 7.8
 * kpatch-patch-url: https://example.invalid/kcare/cmdline-suffix.patch
 * kcare-switch: cmdline_suffix
 *
 * Test fix for kcare-build kmod: /proc/cmdline gets " kcare_fix=cmdline"
 * and a second line, the kernel's own /proc/version text. It reads
 * saved_command_line (not exported) and calls version_proc_show()
 * (static in fs/proc/version.c), so both become klp relocations.
 */
#include <linux/init.h>
#include <linux/seq_file.h>

int version_proc_show(struct seq_file *m, void *v);

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, saved_command_line);
	seq_puts(m, " kcare_fix=cmdline\n");
	return version_proc_show(m, v);
}
