// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Whether the running kernel can take a live patch at all, with the reason
 * when it cannot, so that every kernel command can say so in one line
 * before it downloads or checks anything. Lockdown is not a reason here: a
 * module signed with a key the kernel trusts still loads under it.
 */
#include <string.h>
#include <sys/stat.h>

#include "kcare/kpatch.h"

static bool exists(const char *sysroot, const char *abs)
{
	char path[4096];
	struct stat st;

	return kc_kpatch_path(sysroot, abs, path, sizeof(path), NULL) == 0 && stat(path, &st) == 0;
}

int kc_kpatch_supported(const char *sysroot, struct kc_err *err)
{
	const char *head = "this kernel cannot load live patches";
	char v[256];

	if (!exists(sysroot, "/proc/modules"))
		return kc_err_set(err, -EOPNOTSUPP, "%s (module loading is not available)", head);
	if (kc_kpatch_read(sysroot, "/proc/sys/kernel/modules_disabled", v, sizeof(v), NULL) > 0 &&
	    strcmp(v, "0"))
		return kc_err_set(err, -EOPNOTSUPP,
				  "%s (module loading is disabled: kernel.modules_disabled=%s)",
				  head, v);
	if (!exists(sysroot, "/sys/kernel/livepatch"))
		return kc_err_set(err, -EOPNOTSUPP,
				  "%s (no livepatch support: /sys/kernel/livepatch is missing)",
				  head);
	/* lockdown does not stop a signed module: kc_kpatch_module_load() names it on refusal */
	return 0;
}
