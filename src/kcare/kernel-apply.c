// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loading a kernel patch level and unloading kcare's levels. The order of
 * an apply, each step refusing before the kernel is touched:
 *   1. the kernel can load live patches; no other vendor's livepatch (a
 *      .replace level would replace it) and no transition is running;
 *   2. the cached module's bytes match the signed entry (length, SHA-256),
 *      and its .modinfo names this kernel (vermagic, build-id, kernel id);
 *   3. finit_module from a sealed memfd holding exactly the verified bytes;
 *   4. the transition, with its deadline (a reversed one: the new module
 *      is removed, the kernel is as before);
 *   5. older kcare modules that the replace left behind are removed;
 *   6. sysctl.conf's kernel.kcare_* switches (they reset with each level).
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcare/kernel.h"
#include "kcare/trust.h"

#define MODULE_MAX    (64u * 1024 * 1024)
#define RMMOD_TIMEOUT 10.0
#define SYSCTL_MAX    (64u * 1024)

/* Step 1: no other vendor, no transition. */
static int klp_quiet(const char *sysroot, struct kc_err *err)
{
	char path[4096];
	struct stat st;
	struct kc_klp *v;
	size_t n;
	int ret = kc_kpatch_klp_list(sysroot, &v, &n, err);

	for (size_t i = 0; ret == 0 && i < n; i++) {
		if (!v[i].ours)
			ret = kc_err_set(err, -EBUSY,
					 "another live patching system is active: livepatch '%s' "
					 "is not kcare's (kcare neither replaces nor unloads it)",
					 v[i].name);
		else if (v[i].transition)
			ret = kc_err_set(err, -EBUSY,
					 "livepatch '%s' is still in a transition; try again later",
					 v[i].name);
	}
	free(v);
	/* kpatch's own core from before livepatch: its patches are not in the livepatch tree */
	if (ret == 0 &&
	    kc_kpatch_path(sysroot, "/sys/kernel/kpatch", path, sizeof(path), NULL) == 0 &&
	    stat(path, &st) == 0)
		ret = kc_err_set(err, -EBUSY,
				 "another live patching system is active: the kpatch core module "
				 "is loaded (/sys/kernel/kpatch)");
	return ret;
}

/* Step 2: the verified bytes. */
static int module_read(const struct kc_kernel_entry *e, char **buf, size_t *len, struct kc_err *err)
{
	unsigned char sha[KC_TRUST_SHA256_BYTES];
	char hex[2 * KC_TRUST_SHA256_BYTES + 1];
	int ret = kc_file_read_all(e->file, MODULE_MAX, buf, len, err);

	if (ret == -ENOENT)
		return kc_err_set(err, -ENOENT,
				  "kernel patch '%s' is not in the cache: run kcarectl --update",
				  e->module);
	if (ret < 0)
		return ret;
	kc_trust_sha256(*buf, *len, sha);
	if (*len != e->length || strcmp(kc_trust_sha256_hex(sha, hex), e->sha256)) {
		free(*buf);
		*buf = NULL;
		/* never loaded, and never trusted again: the next update fetches it anew */
		unlink(e->file);
		return kc_err_set(err, -EILSEQ,
				  "cached kernel patch '%s' of %s is corrupted (length or sha256 "
				  "differs); removed it",
				  e->module, e->patchset);
	}
	return 0;
}

/* Step 3: what the kernel reads is what we verified, whatever happens to the file. */
static int module_load(const char *name, const char *buf, size_t len, struct kc_err *err)
{
	int fd = memfd_create("kcare-module", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int ret;

	if (fd < 0)
		return kc_err_set(err, -errno, "memfd_create: %s", strerror(errno));
	ret = kc_fd_write_all(fd, buf, len);
	if (ret < 0) {
		close(fd);
		return kc_err_set(err, ret, "memfd write: %s", strerror(-ret));
	}
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	ret = kc_kpatch_module_load(fd, name, err);
	close(fd);
	return ret;
}

/* Step 5: kcare modules other than @keep that are no longer livepatches. */
static void remove_leftovers(const char *sysroot, const char *keep, char *removed, size_t size)
{
	char(*mods)[KC_KPATCH_NAME_MAX];
	size_t n, used = strlen(removed);

	if (kc_kpatch_modules(sysroot, KC_KPATCH_PREFIX, &mods, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct kc_klp k;
		int w;

		if (!strcmp(mods[i], keep))
			continue;
		/* a replaced patch leaves sysfs asynchronously; an enabled one is not ours to drop
		 */
		if (kc_kpatch_klp_get(sysroot, mods[i], &k, NULL) == 0 && k.enabled &&
		    !k.transition)
			continue;
		if (kc_kpatch_module_unload(mods[i], RMMOD_TIMEOUT, NULL) < 0)
			continue;
		w = snprintf(removed + used, size - used, "%s%s", used ? "," : "", mods[i]);
		if (w > 0 && (size_t)w < size - used)
			used += (size_t)w;
	}
	free(mods);
}

int kc_kernel_sysctl_apply(struct kc_agent *a, unsigned *set, char *warn, size_t warn_size,
			   struct kc_err *err)
{
	char path[KC_AGENT_PATH_MAX], *buf = NULL, *line, *next;
	size_t len;
	unsigned lineno = 0;
	int ret;

	*set = 0;
	warn[0] = '\0';
	ret = kc_agent_path(&a->paths, "/etc/sysconfig/kcare/sysctl.conf", path, sizeof(path), err);
	if (ret < 0)
		return ret;
	ret = kc_file_read_all(path, SYSCTL_MAX, &buf, &len, err);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	/* line by line, blank ones too, so that the numbers in warnings are right */
	for (line = buf; line; line = next) {
		char key[128], val[64], abs[200];
		char *eq, *k = line, *v;
		struct kc_err e2 = KC_ERR_INIT;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		k += strspn(k, " \t");
		if (!*k || *k == '#' || *k == ';')
			continue;
		eq = strchr(k, '=');
		if (!eq)
			continue;
		*eq = '\0';
		v = eq + 1;
		v += strspn(v, " \t");
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(k, " \t"), k);
		snprintf(val, sizeof(val), "%.*s", (int)strcspn(v, " \t\r"), v);
		for (char *p = key; *p; p++)
			if (*p == '/')
				*p = '.';
		/* only kcare's switches: the rest of the file is the admin's business */
		if (strncmp(key, "kernel.kcare_", 13))
			continue;
		if (strspn(key + 7, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(key + 7) ||
		    strlen(key) > 60) {
			snprintf(warn, warn_size, "sysctl.conf:%u: bad key '%s'", lineno, key);
			continue;
		}
		snprintf(abs, sizeof(abs), "/proc/sys/kernel/%s", key + 7);
		if (kc_kpatch_write(a->sysroot, abs, val, &e2) < 0)
			snprintf(warn, warn_size, "sysctl.conf:%u: %s", lineno, e2.msg);
		else
			(*set)++;
	}
	free(buf);
	return 0;
}

int kc_kernel_apply(struct kc_agent *a, const struct kc_kernel_ident *id,
		    const struct kc_kernel_plan *plan, const struct kc_kernel_apply_opts *o,
		    struct kc_kernel_result *res, struct kc_err *err)
{
	const struct kc_kernel_entry *e = &plan->e;
	struct kc_kpatch_wait_result wr;
	struct kc_kpatch_live live;
	struct kc_modinfo mi;
	char *buf = NULL;
	size_t len;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = kc_kpatch_supported(a->sysroot, err);
	if (ret < 0)
		return ret;
	ret = klp_quiet(a->sysroot, err);
	if (ret < 0)
		return ret;
	ret = kc_kpatch_live_read(a->sysroot, &live, err);
	if (ret < 0)
		return ret;
	/* that level is live: its switches are as the admin left them */
	if (!strcmp(live.module, e->module)) {
		res->already = true;
		return 0;
	}
	ret = module_read(e, &buf, &len, err);
	if (ret < 0)
		return ret;
	ret = kc_kpatch_modinfo_parse(buf, len, &mi, err);
	if (ret == 0 && strcmp(mi.name, e->module))
		ret =
		    kc_err_set(err, -EILSEQ,
			       "kernel patch '%s' of %s is module '%s', not what its signed entry "
			       "says",
			       e->module, e->patchset, mi.name);
	if (ret == 0)
		ret = kc_kpatch_modinfo_check(&mi, id, err);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	/* a module of that name left loaded by an earlier failed run: out of the way */
	if (kc_kpatch_klp_get(a->sysroot, mi.name, &(struct kc_klp){0}, NULL) == -ENOENT)
		kc_kpatch_module_unload(mi.name, 1.0, NULL);
	ret = module_load(mi.name, buf, len, err);
	free(buf);
	if (ret < 0)
		return ret;
	ret = kc_kpatch_transition_wait(a->sysroot, mi.name, true, &o->wait, &wr, err);
	res->seconds = wr.seconds;
	res->signals = wr.signals;
	res->forced = wr.forced;
	kc_kpatch_wait_result_release(&wr);
	if (ret < 0) {
		/* reversed (or gone): the patch leaves sysfs, then its module can go */
		kc_kpatch_module_unload(mi.name, RMMOD_TIMEOUT, NULL);
		return ret;
	}
	remove_leftovers(a->sysroot, mi.name, res->removed, sizeof(res->removed));
	if (o->load_sysctl) {
		struct kc_err e2 = KC_ERR_INIT;

		if (kc_kernel_sysctl_apply(a, &res->sysctl_set, res->sysctl_warn,
					   sizeof(res->sysctl_warn), &e2) < 0)
			snprintf(res->sysctl_warn, sizeof(res->sysctl_warn), "%s", e2.msg);
	}
	return 0;
}

int kc_kernel_unload(struct kc_agent *a, const struct kc_kpatch_wait_opts *o, size_t *removed,
		     struct kc_err *err)
{
	char(*mods)[KC_KPATCH_NAME_MAX] = NULL;
	struct kc_klp *v;
	size_t n, nm;
	int ret;

	*removed = 0;
	ret = kc_kpatch_supported(a->sysroot, err);
	if (ret < 0)
		return ret;
	ret = kc_kpatch_klp_list(a->sysroot, &v, &n, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n && ret == 0; i++) {
		char abs[256];
		struct kc_kpatch_wait_result wr = {0};

		if (!v[i].ours || (!v[i].enabled && !v[i].transition))
			continue;
		snprintf(abs, sizeof(abs), "/sys/kernel/livepatch/%s/enabled", v[i].name);
		/* in a transition toward enabled, this reverses it, which is what we want too */
		ret = kc_kpatch_write(a->sysroot, abs, "0", err);
		if (ret == 0)
			ret = kc_kpatch_transition_wait(a->sysroot, v[i].name, false, o, &wr, err);
		kc_kpatch_wait_result_release(&wr);
	}
	free(v);
	if (ret < 0)
		return ret;
	ret = kc_kpatch_modules(a->sysroot, KC_KPATCH_PREFIX, &mods, &nm, err);
	for (size_t i = 0; i < nm && ret == 0; i++) {
		ret = kc_kpatch_module_unload(mods[i], RMMOD_TIMEOUT, err);
		if (ret == -ENOENT)
			ret = 0;
		else if (ret == 0)
			(*removed)++;
	}
	free(mods);
	return ret;
}
