// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Describing a process's patch state as JSON, from what the target
 * carries (its mapped objects and patch regions); it never stops the
 * target. The front end prints it or renders text from it.
 */
#include <string.h>

#include "kcare/bidcache.h"
#include "kcare/upatch.h"
#include "upatch/session.h"

static json_object *patch_json(const struct kc_region *r)
{
	json_object *p = json_object_new_object(), *cves = json_object_new_array();
	json_object *funcs = json_object_new_array();
	const char *c = kc_region_str(r, r->hdr.cves);

	while (*c) {
		size_t n = strcspn(c, ",");

		json_object_array_add(cves, json_object_new_string_len(c, (int)n));
		c += n + (c[n] == ',');
	}
	for (uint32_t i = 0; i < r->hdr.nfuncs; i++)
		json_object_array_add(funcs,
				      json_object_new_string(kc_region_str(r, r->funcs[i].name)));
	json_object_object_add(p, "id", json_object_new_string(r->hdr.id));
	json_object_object_add(p, "level", json_object_new_int64(r->hdr.level));
	json_object_object_add(p, "cves", cves);
	json_object_object_add(p, "description",
			       json_object_new_string(kc_region_str(r, r->hdr.description)));
	json_object_object_add(p, "functions", funcs);
	json_object_object_add(p, "applied", json_object_new_int64((int64_t)r->hdr.applied));
	json_object_object_add(p, "address", json_object_new_int64((int64_t)r->start));
	return p;
}

/* A RETIRED region: no longer applied, its code kept mapped (region.h). */
static json_object *retired_json(const struct kc_region *r)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "id", json_object_new_string(r->hdr.id));
	json_object_object_add(p, "level", json_object_new_int64(r->hdr.level));
	json_object_object_add(p, "address", json_object_new_int64((int64_t)r->start));
	json_object_object_add(p, "size", json_object_new_int64((int64_t)r->hdr.region_size));
	return p;
}

int kc_upatch_info(pid_t pid, json_object **out, struct kc_err *err)
{
	struct kc_session s;
	json_object *proc, *objs;
	char comm[64] = "";
	int ret;

	ret = kc_session_open(&s, pid, NULL, err);
	if (ret == 0)
		ret = kc_proc_comm(pid, comm, sizeof(comm), err);
	if (ret < 0) {
		kc_session_close(&s);
		return ret;
	}
	proc = json_object_new_object();
	objs = json_object_new_array();
	json_object_object_add(proc, "pid", json_object_new_int(pid));
	json_object_object_add(proc, "comm", json_object_new_string(comm));
	for (size_t i = 0; i < s.objs.n; i++) {
		const struct kc_obj *o = &s.objs.v[i];
		json_object *jo = json_object_new_object(), *patches = json_object_new_array();
		json_object *retired = json_object_new_array();
		char hex[2 * KC_BUILDID_MAX + 1];

		kc_buildid_to_hex(&o->build_id, hex, sizeof(hex));
		json_object_object_add(jo, "path", json_object_new_string(o->path));
		json_object_object_add(jo, "build_id", json_object_new_string(hex));
		for (size_t k = 0; k < s.regions.n; k++) {
			const struct kc_region *r = &s.regions.v[k];

			if (!o->build_id.len || r->hdr.build_id_len != o->build_id.len ||
			    memcmp(r->hdr.build_id, o->build_id.bytes, o->build_id.len))
				continue;
			if (r->hdr.state == KC_REGION_APPLIED)
				json_object_array_add(patches, patch_json(r));
			else if (r->hdr.state == KC_REGION_RETIRED)
				json_object_array_add(retired, retired_json(r));
		}
		json_object_object_add(jo, "patches", patches);
		/* code given up but kept mapped: a suspended stack may return into it */
		json_object_object_add(jo, "retired", retired);
		json_object_array_add(objs, jo);
	}
	json_object_object_add(proc, "objects", objs);
	/*
	 * A process that began to exit may have lost its memory while we read it: its patch
	 * regions unreadable or its maps cut short, so what we have would say "not patched".
	 * Asked of the thread whose maps we read (a zombie leader's live thread).
	 */
	if (kc_upatch_exiting(s.maps.tid > 0 ? s.maps.tid : pid)) {
		json_object_put(proc);
		kc_session_close(&s);
		return kc_err_set(err, -ESRCH, "process %d has exited", pid);
	}
	kc_session_close(&s);
	*out = proc;
	return 0;
}

int kc_upatch_wanted(pid_t pid, struct kc_patch *const *patches, size_t n,
		     struct kc_bidcache *cache, struct kc_err *err)
{
	struct kc_proc_maps maps = {0};
	int ret = kc_proc_maps_read(pid, &maps, err), found = 0;

	for (size_t i = 0; ret == 0 && !found && i < maps.n; i++) {
		struct kc_buildid id;

		/* one mapping per file is enough: its ELF header page */
		if (maps.v[i].offset != 0 ||
		    kc_bidcache_get(cache, maps.tid, &maps.v[i], &id, NULL) < 0)
			continue;
		for (size_t k = 0; k < n && !found; k++)
			found = kc_buildid_equal(&id, &patches[k]->build_id);
	}
	kc_proc_maps_release(&maps);
	return ret < 0 ? ret : found;
}

struct unattached_reader {
	pid_t pid, tid;
};

static int read_unattached(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct unattached_reader *r = ctx;
	struct kc_proc tmp = {.pid = r->pid, .mm_tid = r->tid, .memfd = -1};

	return kc_ptrace_read(&tmp, addr, buf, len, NULL);
}

int kc_upatch_count_applied(pid_t pid, struct kc_err *err)
{
	struct kc_proc_maps maps = {0};
	struct kc_regions regions = {0};
	struct unattached_reader rd;
	int ret = kc_proc_maps_read(pid, &maps, err), n = 0;

	if (ret < 0)
		return ret;
	rd = (struct unattached_reader){pid, maps.tid};
	ret = kc_region_scan(&maps, read_unattached, &rd, &regions, err);
	for (size_t i = 0; ret == 0 && i < regions.n; i++)
		n += regions.v[i].hdr.state == KC_REGION_APPLIED;
	kc_regions_release(&regions);
	kc_proc_maps_release(&maps);
	return ret < 0 ? ret : n;
}
