// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loading and removing modules: finit_module(2), delete_module(2), and the
 * list of loaded modules in /proc/modules. What to load and when to remove
 * it is decided by the caller; the errors here say what the kernel refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kcare/kpatch.h"

#define MODULES_MAX (1024 * 1024)

int kc_kpatch_module_load(int fd, const char *name, struct kc_err *err)
{
	char lock[128] = "";

	if (syscall(SYS_finit_module, fd, "", 0) == 0)
		return 0;
	switch (errno) {
	case EEXIST:
		return kc_err_set(err, -EEXIST, "module '%s' is already loaded", name);
	case EPERM:
	case EKEYREJECTED:
	case EKEYEXPIRED:
		kc_kpatch_read("", "/sys/kernel/security/lockdown", lock, sizeof(lock), NULL);
		if (strstr(lock, "[integrity]") || strstr(lock, "[confidentiality]"))
			return kc_err_set(err, -EPERM,
					  "the kernel refused module '%s': lockdown (%s) takes "
					  "only modules signed with a key it trusts",
					  name, lock);
		return kc_err_set(err, -errno, "the kernel refused module '%s': %s", name,
				  strerror(errno));
	case ENOEXEC:
		return kc_err_set(err, -ENOEXEC,
				  "the kernel refused module '%s' as malformed (see dmesg)", name);
	default:
		return kc_err_set(err, -errno, "cannot load module '%s': %s (see dmesg)", name,
				  strerror(errno));
	}
}

int kc_kpatch_module_unload(const char *name, double timeout, struct kc_err *err)
{
	struct timespec pause = {0, 50 * 1000 * 1000};
	double waited = 0;

	for (;;) {
		if (syscall(SYS_delete_module, name, O_NONBLOCK) == 0)
			return 0;
		if (errno == ENOENT)
			return kc_err_set(err, -ENOENT, "module '%s' is not loaded", name);
		/* livepatch keeps a reference until its asynchronous free has run */
		if (errno != EBUSY && errno != EAGAIN)
			return kc_err_set(err, -errno, "cannot remove module '%s': %s", name,
					  strerror(errno));
		if (waited >= timeout)
			return kc_err_set(err, -EBUSY, "module '%s' is still in use", name);
		nanosleep(&pause, NULL);
		waited += 0.05;
	}
}

int kc_kpatch_modules(const char *sysroot, const char *prefix, char (**names)[KC_KPATCH_NAME_MAX],
		      size_t *n, struct kc_err *err)
{
	char path[4096], line[1024];
	FILE *f;
	int ret = kc_kpatch_path(sysroot, "/proc/modules", path, sizeof(path), err);

	*names = NULL;
	*n = 0;
	if (ret < 0)
		return ret;
	f = fopen(path, "re");
	if (!f)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		size_t l = strcspn(line, " \n");
		char(*v)[KC_KPATCH_NAME_MAX];

		if (l == 0 || l >= KC_KPATCH_NAME_MAX ||
		    (prefix && strncmp(line, prefix, strlen(prefix))))
			continue;
		v = realloc(*names, (*n + 1) * sizeof(*v));
		if (!v) {
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		*names = v;
		memcpy(v[*n], line, l);
		v[(*n)++][l] = '\0';
	}
	fclose(f);
	if (ret < 0) {
		free(*names);
		*names = NULL;
		*n = 0;
	}
	return ret;
}
