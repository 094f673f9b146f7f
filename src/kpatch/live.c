// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kcare level that is live now, read from what the kernel says: the
 * enabled kcare livepatch in sysfs and the /proc/kcare files its module
 * publishes (docs/kernel-patches.md), plus other vendors' livepatches by
 * name. The agent's own records never override this.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/kpatch.h"

/* "kcare_debian_6_1_0_57_2" -> 2 */
static uint32_t level_of(const char *module)
{
	const char *us = strrchr(module, '_');
	char *end;
	unsigned long l;

	if (!us || !us[1])
		return 0;
	l = strtoul(us + 1, &end, 10);
	return *end || l > UINT32_MAX ? 0 : (uint32_t)l;
}

int kc_kpatch_live_read(const char *sysroot, struct kc_kpatch_live *out, struct kc_err *err)
{
	struct kc_klp *v;
	size_t n, used = 0;
	char buf[128];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = kc_kpatch_klp_list(sysroot, &v, &n, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].ours) {
			int w = snprintf(out->others + used, sizeof(out->others) - used, "%s%s",
					 used ? "," : "", v[i].name);

			if (w > 0 && (size_t)w < sizeof(out->others) - used)
				used += (size_t)w;
			out->nothers++;
			continue;
		}
		/* while one level replaces another both are listed: the enabled newest wins */
		if (v[i].enabled && (!out->module[0] || v[i].transition)) {
			snprintf(out->module, sizeof(out->module), "%s", v[i].name);
			out->transition = v[i].transition;
		}
	}
	free(v);
	if (kc_kpatch_read(sysroot, "/proc/kcare/level", buf, sizeof(buf), NULL) > 0) {
		out->proc = true;
		out->level = (uint32_t)strtoul(buf, NULL, 10);
	}
	if (kc_kpatch_read(sysroot, "/proc/kcare/id", buf, sizeof(buf), NULL) > 0) {
		out->proc = true;
		snprintf(out->id, sizeof(out->id), "%.63s", buf);
	}
	if (kc_kpatch_read(sysroot, "/proc/kcare/effective_version", buf, sizeof(buf), NULL) > 0)
		snprintf(out->effective, sizeof(out->effective), "%.64s", buf);
	if (!out->level && out->module[0])
		out->level = level_of(out->module);
	return 0;
}

void kc_kpatch_effective(const char *sysroot, const struct kc_kernel_ident *id, char *out,
			 size_t size)
{
	char buf[128];

	if (kc_kpatch_read(sysroot, "/proc/kcare/effective_version", buf, sizeof(buf), NULL) > 0)
		snprintf(out, size, "%s", buf);
	else
		snprintf(out, size, "%s", id->release);
}
