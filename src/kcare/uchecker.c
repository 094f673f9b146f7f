// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The uchecker scan (see kcare/uchecker.h). For each process, the ELF
 * objects it maps (kc_objs_read(): their build-ids are read from the very
 * files mapped, deleted or not, through /proc/PID/map_files) are set
 * against the file now at the same path in the process's own root. A
 * mapping of the file still on disk (same device and inode) is up to
 * date without reading anything; otherwise the build-ids decide, so a
 * reinstalled identical package is not reported. Build-ids of files on
 * disk are cached by device and inode: thousands of processes map the
 * same libc.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kcare/objs.h"
#include "kcare/proc.h"
#include "kcare/uchecker.h"
#include "kcare/upatch.h"

struct disk_id {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	struct kc_buildid id; /* len 0: not an ELF file with a build-id */
};

struct scan {
	kc_uchk_trace_fn *trace;
	void *ctx;
	struct kc_uchk_result *out;
	struct disk_id *cache; /* owned */
	size_t ncache, capcache;
};

static void trace(struct scan *s, pid_t pid, const char *path, const char *verdict)
{
	if (s->trace)
		s->trace(s->ctx, pid, path, verdict);
}

/* The build-id of the file @st describes (opened as @path), through the cache. */
static int disk_buildid(struct scan *s, const char *path, const struct stat *st,
			struct kc_buildid *id)
{
	struct disk_id *d;

	for (size_t i = 0; i < s->ncache; i++) {
		d = &s->cache[i];
		if (d->dev == st->st_dev && d->ino == st->st_ino &&
		    d->mtime.tv_sec == st->st_mtim.tv_sec &&
		    d->mtime.tv_nsec == st->st_mtim.tv_nsec) {
			*id = d->id;
			return 0;
		}
	}
	if (s->ncache == s->capcache) {
		size_t cap = s->capcache ? 2 * s->capcache : 64;
		struct disk_id *n = realloc(s->cache, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->cache = n;
		s->capcache = cap;
	}
	d = &s->cache[s->ncache++];
	d->dev = st->st_dev;
	d->ino = st->st_ino;
	d->mtime = st->st_mtim;
	if (kc_buildid_from_file(path, &d->id, NULL) < 0)
		d->id.len = 0;
	*id = d->id;
	return 0;
}

/* "ID level N, ..." of the live patches applied to the object with build-id @hex, or NULL. */
static char *live_patches(json_object *info, const char *hex)
{
	json_object *objs, *o, *v, *patches;
	char *out = NULL;
	size_t len = 0;

	if (!info || !json_object_object_get_ex(info, "objects", &objs))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(objs); i++) {
		o = json_object_array_get_idx(objs, i);
		if (!json_object_object_get_ex(o, "build_id", &v) ||
		    strcmp(json_object_get_string(v), hex) ||
		    !json_object_object_get_ex(o, "patches", &patches))
			continue;
		for (size_t k = 0; k < json_object_array_length(patches); k++) {
			json_object *p = json_object_array_get_idx(patches, k), *id, *level;
			char item[128];
			int n;
			char *grown;

			if (!json_object_object_get_ex(p, "id", &id) ||
			    !json_object_object_get_ex(p, "level", &level))
				continue;
			n = snprintf(item, sizeof(item), "%s%s level %lld", len ? ", " : "",
				     json_object_get_string(id),
				     (long long)json_object_get_int64(level));
			if (n < 0)
				continue;
			if ((size_t)n >= sizeof(item))
				n = (int)sizeof(item) - 1; /* ids are at most 63 bytes: never */
			grown = realloc(out, len + (size_t)n + 1);
			if (!grown)
				break;
			out = grown;
			memcpy(out + len, item, (size_t)n + 1);
			len += (size_t)n;
		}
	}
	return out;
}

static int add_finding(struct scan *s, pid_t pid, const char *comm, const struct kc_obj *o,
		       enum kc_uchk_reason why, const struct kc_buildid *on_disk, json_object *info)
{
	struct kc_uchk_result *r = s->out;
	struct kc_uchk_finding *f, *v = realloc(r->v, (r->n + 1) * sizeof(*v));
	char hex[2 * KC_BUILDID_MAX + 1];

	if (!v)
		return -ENOMEM;
	r->v = v;
	f = &r->v[r->n];
	memset(f, 0, sizeof(*f));
	f->pid = pid;
	snprintf(f->comm, sizeof(f->comm), "%s", comm);
	f->path = strdup(o->path);
	if (!f->path)
		return -ENOMEM;
	f->is_program = o->is_main;
	f->reason = why;
	f->mapped = o->build_id;
	if (on_disk)
		f->on_disk = *on_disk;
	kc_buildid_to_hex(&o->build_id, hex, sizeof(hex));
	f->live = live_patches(info, hex);
	r->n++;
	return 0;
}

/* One object of @pid: 1 out of date (recorded), 0 up to date or not judged, < 0 error. */
static int check_object(struct scan *s, pid_t pid, const char *comm, const struct kc_obj *o,
			const struct kc_proc_maps *maps, json_object *info)
{
	const struct kc_proc_map *m = kc_proc_maps_find(maps, o->lo);
	struct kc_buildid disk;
	struct stat st;
	char path[4096];

	if (o->is_vdso || !m || o->path[0] != '/' || !o->build_id.len)
		return 0;
	s->out->objects++;
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, o->path);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		trace(s, pid, o->path, "removed from disk");
		return add_finding(s, pid, comm, o, KC_UCHK_REMOVED, NULL, NULL) < 0 ? -ENOMEM : 1;
	}
	if (!m->deleted && st.st_ino == m->inode && major(st.st_dev) == m->dev_major &&
	    minor(st.st_dev) == m->dev_minor) {
		trace(s, pid, o->path, "the file on disk");
		return 0;
	}
	if (disk_buildid(s, path, &st, &disk) < 0)
		return -ENOMEM;
	if (disk.len && kc_buildid_equal(&disk, &o->build_id)) {
		trace(s, pid, o->path, "same build-id as the file on disk");
		return 0;
	}
	trace(s, pid, o->path, disk.len ? "another build-id on disk" : "not an ELF file on disk");
	return add_finding(s, pid, comm, o, disk.len ? KC_UCHK_REPLACED : KC_UCHK_REMOVED,
			   disk.len ? &disk : NULL, info) < 0
		   ? -ENOMEM
		   : 1;
}

static int check_process(struct scan *s, pid_t pid, struct kc_err *err)
{
	struct kc_proc_maps maps = {0};
	struct kc_objs objs = {0};
	json_object *info = NULL;
	char comm[64] = "?";
	int ret = kc_proc_maps_read(pid, &maps, NULL);

	if (ret == -EACCES || ret == -EPERM) {
		s->out->unreadable++;
		trace(s, pid, "", "memory map not readable");
		return 0;
	}
	if (ret < 0)
		return 0; /* gone, or a kernel thread */
	if (kc_objs_read(pid, &maps, &objs, NULL) < 0 || !objs.n) {
		kc_proc_maps_release(&maps);
		return 0;
	}
	s->out->procs++;
	kc_proc_comm(pid, comm, sizeof(comm), NULL);
	/* the patches only matter for what is out of date, and info reads more: look first */
	if (kc_upatch_count_applied(pid, NULL) > 0 && kc_upatch_info(pid, &info, NULL) < 0)
		info = NULL;
	ret = 0;
	for (size_t i = 0; i < objs.n && ret >= 0; i++)
		ret = check_object(s, pid, comm, &objs.v[i], &maps, info);
	json_object_put(info);
	kc_objs_release(&objs);
	kc_proc_maps_release(&maps);
	return ret < 0 ? kc_err_set(err, ret, "out of memory") : 0;
}

int kc_uchk_scan(const pid_t *pids, size_t n, kc_uchk_trace_fn *tr, void *ctx,
		 struct kc_uchk_result *out, struct kc_err *err)
{
	struct scan s = {.trace = tr, .ctx = ctx, .out = out};
	pid_t *all = NULL;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!pids) {
		if ((ret = kc_proc_pids(&all, &n, err)) < 0)
			return ret;
		pids = all;
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = check_process(&s, pids[i], err);
	free(all);
	free(s.cache);
	return ret;
}

void kc_uchk_result_release(struct kc_uchk_result *r)
{
	for (size_t i = 0; r && i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].live);
	}
	if (r) {
		free(r->v);
		memset(r, 0, sizeof(*r));
	}
}
