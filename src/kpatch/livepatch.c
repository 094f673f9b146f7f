// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The livepatch sysfs tree as the agent sees it: the patches in
 * /sys/kernel/livepatch with their enabled and transition flags, and which
 * of them are kcare's. Reading only; the writes that change a patch's
 * state are in transition.c.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/kpatch.h"

/*
 * A patch's sysfs files go away when its unpatching ends: a file opened just
 * before reads -ENODEV (kernfs deactivated the node), one opened after is
 * -ENOENT; both mean the patch is gone.
 */
static int gone(int ret, const char *name, struct kc_err *err)
{
	if (ret == -ENOENT || ret == -ENODEV)
		return kc_err_set(err, -ENOENT, "livepatch '%s' is gone", name);
	return ret;
}

int kc_kpatch_klp_get(const char *sysroot, const char *name, struct kc_klp *out, struct kc_err *err)
{
	char abs[256], v[16];
	int ret;

	memset(out, 0, sizeof(*out));
	if (strlen(name) >= sizeof(out->name) || strchr(name, '/'))
		return kc_err_set(err, -EINVAL, "bad livepatch name '%s'", name);
	strcpy(out->name, name);
	out->ours = kc_kpatch_is_ours(name);
	snprintf(abs, sizeof(abs), "/sys/kernel/livepatch/%s/enabled", name);
	ret = kc_kpatch_read(sysroot, abs, v, sizeof(v), err);
	if (ret < 0)
		return gone(ret, name, err);
	out->enabled = !strcmp(v, "1");
	snprintf(abs, sizeof(abs), "/sys/kernel/livepatch/%s/transition", name);
	ret = kc_kpatch_read(sysroot, abs, v, sizeof(v), err);
	if (ret < 0)
		return gone(ret, name, err);
	out->transition = !strcmp(v, "1");
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct kc_klp *)a)->name, ((const struct kc_klp *)b)->name);
}

int kc_kpatch_klp_list(const char *sysroot, struct kc_klp **v, size_t *n, struct kc_err *err)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int ret = kc_kpatch_path(sysroot, "/sys/kernel/livepatch", path, sizeof(path), err);

	*v = NULL;
	*n = 0;
	if (ret < 0)
		return ret;
	d = opendir(path);
	if (!d)
		return errno == ENOENT
			   ? 0
			   : kc_err_set(err, -errno, "cannot list '%s': %s", path, strerror(errno));
	while ((de = readdir(d))) {
		struct kc_klp k, *nv;

		if (de->d_name[0] == '.')
			continue;
		ret = kc_kpatch_klp_get(sysroot, de->d_name, &k, err);
		/* a patch freed while we list it is simply not there */
		if (ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (ret < 0)
			break;
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv) {
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		*v = nv;
		nv[(*n)++] = k;
	}
	closedir(d);
	if (ret < 0) {
		free(*v);
		*v = NULL;
		*n = 0;
		return ret;
	}
	if (*n)
		qsort(*v, *n, sizeof(**v), by_name);
	return 0;
}
