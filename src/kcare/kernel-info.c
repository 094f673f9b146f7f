// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the kernel back end tells about the live level: --info (JSON),
 * --patch-info (the documents' OS:/kernel:/time:/uname: header and the
 * kpatch-* blocks of /proc/kcare/patches) and the check-in fields. The
 * kernel's own files are the truth; the cache adds the patchset and its
 * release time when it knows the live module.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcare/json-get.h"
#include "kcare/kernel.h"
#include "kcare/osrelease.h"

#define PATCHES_MAX (1024u * 1024)

/* "debian12" from ROOT/etc/os-release; "linux" without one. */
static void os_name(const struct kc_agent *a, char *out, size_t size, bool *debian)
{
	char path[KC_AGENT_PATH_MAX], id[KC_OS_RELEASE_FIELD], ver[KC_OS_RELEASE_FIELD];

	*debian = false;
	snprintf(out, size, "linux");
	if (kc_agent_path(&a->paths, "/etc/os-release", path, sizeof(path), NULL) < 0 ||
	    kc_os_release(path, id, ver) < 0)
		return;
	if (id[0])
		snprintf(out, size, "%s%s", id, ver);
	*debian = !strcmp(id, "debian") || !strcmp(id, "ubuntu");
}

/* The cache's record of the live module, if it has one (for the patchset and its time). */
static json_object *cached_record(struct kc_agent *a, const struct kc_kernel_ident *id,
				  const char *module)
{
	struct kc_kernel_plan p;
	struct kc_kernel_plan_opts o = {.policy = KC_LC_LOCAL};
	json_object *r = NULL;
	bool fb;

	if (!module[0] || kc_kernel_plan_make(a, id, &o, &p, &fb, NULL) < 0)
		return NULL;
	if (p.found && !strcmp(p.e.module, module))
		r = json_object_get(p.e.meta);
	kc_kernel_plan_release(&p);
	return r;
}

/* The kpatch-* block of a signed feed entry, N/A for what it does not say. */
static char *entry_block(json_object *rec)
{
	static const char *const keys[] = {
	    "kpatch-name", "kpatch-description", "kpatch-kernel",   "kpatch-cve",
	    "kpatch-cvss", "kpatch-cve-url",	 "kpatch-patch-url"};
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = kc_json_str(rec, keys[i]);

		fprintf(f, "%s: %s\n", keys[i], v && *v ? v : "N/A");
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int kc_kernel_patch_info(struct kc_agent *a, const struct kc_kernel_ident *id, char **out,
			 struct kc_err *err)
{
	struct kc_kpatch_live live;
	char os[160], eff[128], when[32] = "N/A", path[4096];
	char *patches = NULL, *text;
	json_object *rec, *v;
	size_t len = 0;
	bool debian;
	int ret;

	ret = kc_kpatch_live_read(a->sysroot, &live, err);
	if (ret < 0)
		return ret;
	os_name(a, os, sizeof(os), &debian);
	kc_kpatch_effective(a->sysroot, id, eff, sizeof(eff));
	rec = cached_record(a, id, live.module);
	if (rec && json_object_object_get_ex(rec, "released", &v)) {
		time_t t = (time_t)json_object_get_int64(v);
		struct tm tm;

		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	if (live.module[0] &&
	    kc_kpatch_path(a->sysroot, "/proc/kcare/patches", path, sizeof(path), NULL) == 0)
		kc_file_read_all(path, PATCHES_MAX, &patches, &len, NULL);
	/* a module that does not publish its fixes: the block its signed entry carries */
	if (!patches && rec && kc_json_str(rec, "kpatch-name")) {
		patches = entry_block(rec);
		len = patches ? strlen(patches) : 0;
	}
	json_object_put(rec);
	if (asprintf(&text, "OS: %s\nkernel: %s%s\ntime: %s\nuname: %s\n%s%s%s", os,
		     debian ? "linux-image-" : "kernel-", id->release, when, eff,
		     patches && len ? "\n" : "", patches ? patches : "",
		     patches && len && patches[len - 1] != '\n' ? "\n" : "") < 0) {
		free(patches);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	free(patches);
	*out = text;
	return 0;
}

static json_object *cve_array(const char *sysroot)
{
	json_object *arr = json_object_new_array();
	char path[4096], *buf = NULL, *line, *save = NULL;
	size_t len;

	if (kc_kpatch_path(sysroot, "/proc/kcare/cvelist", path, sizeof(path), NULL) < 0 ||
	    kc_file_read_all(path, PATCHES_MAX, &buf, &len, NULL) < 0)
		return arr;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (*line)
			json_object_array_add(arr, json_object_new_string(line));
	free(buf);
	return arr;
}

int kc_kernel_info(struct kc_agent *a, const struct kc_kernel_ident *id, json_object **out,
		   struct kc_err *err)
{
	struct kc_kernel_plan p;
	struct kc_kernel_plan_opts po = {.policy = KC_LC_LOCAL};
	struct kc_kpatch_live live;
	char eff[128];
	json_object *o, *rec;
	bool fb;
	int ret;

	ret = kc_kpatch_live_read(a->sysroot, &live, err);
	if (ret < 0)
		return ret;
	kc_kpatch_effective(a->sysroot, id, eff, sizeof(eff));
	o = json_object_new_object();
	json_object_object_add(o, "release", json_object_new_string(id->release));
	json_object_object_add(o, "kernel_id", json_object_new_string(id->kernel_id));
	json_object_object_add(o, "build_id", json_object_new_string(id->build_id));
	json_object_object_add(o, "applied", json_object_new_boolean(live.module[0] != '\0'));
	json_object_object_add(o, "module", json_object_new_string(live.module));
	json_object_object_add(o, "id", json_object_new_string(live.id));
	json_object_object_add(o, "level", json_object_new_int64(live.level));
	json_object_object_add(o, "transition", json_object_new_boolean(live.transition));
	json_object_object_add(o, "effective_version", json_object_new_string(eff));
	json_object_object_add(o, "cves", cve_array(a->sysroot));
	rec = cached_record(a, id, live.module);
	if (rec) {
		json_object *v;

		if (json_object_object_get_ex(rec, "patchset", &v))
			json_object_object_add(o, "patchset", json_object_get(v));
		if (json_object_object_get_ex(rec, "released", &v))
			json_object_object_add(o, "released", json_object_get(v));
		json_object_put(rec);
	}
	if (kc_kernel_plan_make(a, id, &po, &p, &fb, NULL) == 0) {
		if (p.found)
			json_object_object_add(o, "cached_level", json_object_new_int64(p.e.level));
		kc_kernel_plan_release(&p);
	}
	json_object_object_add(o, "other_livepatches", json_object_new_string(live.others));
	*out = o;
	return 0;
}

void kc_kernel_checkin_fields(const struct kc_agent *a, json_object *body)
{
	struct kc_kernel_ident id;
	struct kc_kpatch_live live;
	char eff[128];

	if (kc_kpatch_ident(a->sysroot, &id, NULL) < 0)
		return;
	if (id.kernel_id[0])
		json_object_object_add(body, "kernel_id", json_object_new_string(id.kernel_id));
	if (kc_kpatch_live_read(a->sysroot, &live, NULL) == 0)
		json_object_object_add(
		    body, "patch_level",
		    json_object_new_int64(live.module[0] ? (int64_t)live.level : -1));
	kc_kpatch_effective(a->sysroot, &id, eff, sizeof(eff));
	json_object_object_add(body, "effective_version", json_object_new_string(eff));
}
