// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The LibCare plan put to work on running processes: apply to every
 * process that maps a target (blacklisted ones are skipped and say by which
 * rule), unload everything, compare plan and processes for --status and
 * --check, and keep the CVE list of what is applied.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcare/bidcache.h"
#include "kcare/blacklist.h"
#include "kcare/libcare.h"
#include "kcare/libcare-int.h"
#include "kcare/proc.h"
#include "kcare/upatch.h"

void kc_lc_result_free(struct kc_lc_result *r)
{
	free(r->procs);
	memset(r, 0, sizeof(*r));
}

static struct kc_lc_proc *result_add(struct kc_lc_result *r, pid_t pid, const char *exe)
{
	struct kc_lc_proc *v = realloc(r->procs, (r->nprocs + 1) * sizeof(*v));

	if (!v)
		return NULL;
	r->procs = v;
	v += r->nprocs++;
	memset(v, 0, sizeof(*v));
	v->pid = pid;
	snprintf(v->exe, sizeof(v->exe), "%s", exe);
	if (kc_proc_comm(pid, v->comm, sizeof(v->comm), NULL) < 0)
		v->comm[0] = '\0';
	return v;
}

static void count(struct kc_lc_result *r, const struct kc_lc_proc *p)
{
	switch (p->state) {
	case KC_LC_PATCHED:
		r->patched++;
		break;
	case KC_LC_UPTODATE:
		r->uptodate++;
		break;
	case KC_LC_SKIPPED:
		r->skipped++;
		break;
	case KC_LC_FAILED:
		r->failed++;
		break;
	}
}

static int load_blacklist(struct kc_agent *a, struct kc_blacklist **bl, struct kc_lc_result *r,
			  struct kc_err *err)
{
	const char *src = NULL;
	int ret = kc_blacklist_load(a->paths.blacklist_pkg, a->paths.blacklist_user, bl, &src, err);

	if (ret < 0)
		return kc_err_prefix(err, "blacklist");
	snprintf(r->blacklist_source, sizeof(r->blacklist_source), "%s", src ? src : "");
	return 0;
}

static void on_event(void *ctx, const struct kc_upatch_event *ev)
{
	struct kc_lc_proc *p = ctx;

	if (ev->outcome == KC_UPATCH_PATCHED || ev->outcome == KC_UPATCH_UPGRADED ||
	    ev->outcome == KC_UPATCH_UNPATCHED)
		p->applied++;
}

/* Runs @op on every process @want selects; the shared loop of apply and unload. */
struct walk {
	struct kc_agent *a;
	const struct kc_lc_apply_opts *o;
	struct kc_blacklist *bl;
	struct kc_lc_result *r;
	/* 1: act on it, 0: not ours, <0: error (gone) */
	int (*want)(struct walk *w, pid_t pid);
	int (*op)(struct walk *w, pid_t pid, struct kc_lc_proc *p, struct kc_err *err);
	struct kc_patch **patches;
	const char **files;
	size_t n;
	struct kc_bidcache *cache;
	struct kc_lc_proc row; /* the process being visited */
};

/* The row of one process, appended once its outcome is known. */
static int walk_record(struct walk *w, const struct kc_lc_proc *row, struct kc_err *err)
{
	struct kc_lc_proc *p = result_add(w->r, row->pid, row->exe);

	if (!p)
		return kc_err_set(err, -ENOMEM, "out of memory");
	*p = *row;
	count(w->r, p);
	if (w->o->progress)
		w->o->progress(w->o->progress_ctx, p);
	return 0;
}

static bool walk_candidate(void *ctx, pid_t pid)
{
	struct walk *w = ctx;
	char exe[512];

	return kc_proc_exe(pid, exe, sizeof(exe)) && w->want(w, pid) > 0;
}

static int walk_visit(void *ctx, pid_t pid, uint64_t start, struct kc_err *err)
{
	struct walk *w = ctx;
	struct kc_lc_proc *row = &w->row;
	const char *rule;
	int ret;

	memset(row, 0, sizeof(*row));
	row->pid = pid;
	if (!kc_proc_exe(pid, row->exe, sizeof(row->exe)))
		return 0; /* gone since it was chosen */
	if (kc_proc_comm(pid, row->comm, sizeof(row->comm), NULL) < 0)
		row->comm[0] = '\0';
	rule = w->bl ? kc_blacklist_match(w->bl, row->exe) : NULL;
	if (rule) {
		row->state = KC_LC_SKIPPED;
		snprintf(row->reason, sizeof(row->reason), "blacklisted by %s", rule);
	} else if ((ret = w->op(w, pid, row, err)) < 0) {
		/* still there: kc_upatch_for_all decides (execve: once more) */
		if (!kc_upatch_gone(pid, start))
			return ret;
		row->state = KC_LC_SKIPPED;
		snprintf(row->reason, sizeof(row->reason), "exited meanwhile");
	} else {
		row->state = row->applied ? KC_LC_PATCHED : KC_LC_UPTODATE;
	}
	ret = walk_record(w, row, err);
	if (ret < 0)
		return ret;
	return row->applied > 0;
}

static bool walk_failed(void *ctx, pid_t pid, const struct kc_err *err)
{
	struct walk *w = ctx;
	struct kc_err e = KC_ERR_INIT;

	(void)pid;
	w->row.state = KC_LC_FAILED;
	snprintf(w->row.reason, sizeof(w->row.reason), "%s", err->msg);
	return walk_record(w, &w->row, &e) < 0;
}

/*
 * Every process @want selects, as a fixed point: a process forked from one
 * we changed, before its parent's change, is found by the next pass.
 */
static int walk_all(struct walk *w, struct kc_err *err)
{
	struct kc_upatch_all all = {.candidate = walk_candidate,
				    .visit = walk_visit,
				    .failed = walk_failed,
				    .ctx = w,
				    .cancel = w->o->cancel,
				    .timeout = w->o->timeout > 0 ? 4 * w->o->timeout : 20};
	int ret = kc_upatch_for_all(&all, err);

	return ret < 0 ? ret : 0;
}

static int want_plan(struct walk *w, pid_t pid)
{
	return kc_upatch_wanted(pid, w->patches, w->n, w->cache, NULL);
}

static int op_apply(struct walk *w, pid_t pid, struct kc_lc_proc *p, struct kc_err *err)
{
	struct kc_upatch_opts uo = {.timeout = w->o->timeout, .cancel = w->o->cancel};

	return kc_upatch_apply(pid, w->patches, w->files, w->n, &uo, on_event, p, err);
}

int kc_lc_apply(struct kc_agent *a, const struct kc_lc_plan *plan, const struct kc_lc_apply_opts *o,
		struct kc_lc_result *out, struct kc_err *err)
{
	struct walk w = {.a = a, .o = o, .r = out, .want = want_plan, .op = op_apply};
	char(*names)[160] = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = load_blacklist(a, &w.bl, out, err);
	if (ret < 0)
		return ret;
	w.n = plan->n;
	w.patches = calloc(w.n + 1, sizeof(*w.patches));
	w.files = calloc(w.n + 1, sizeof(*w.files));
	names = calloc(w.n + 1, sizeof(*names));
	w.cache = kc_bidcache_new();
	if (!w.patches || !w.files || !names || !w.cache) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < w.n; i++) {
		w.patches[i] = plan->v[i].patch;
		snprintf(names[i], sizeof(names[i]), "%s/%s", plan->v[i].patchset, plan->v[i].id);
		w.files[i] = names[i];
	}
	if (w.n > 0)
		ret = walk_all(&w, err);
	if (ret == 0)
		ret = kc_lc_write_cvelist(a, err);
out:
	kc_bidcache_free(w.cache);
	free(w.patches);
	free(w.files);
	free(names);
	kc_blacklist_free(w.bl);
	return ret;
}

static int want_patched(struct walk *w, pid_t pid)
{
	(void)w;
	return kc_upatch_count_applied(pid, NULL);
}

static int op_unload(struct walk *w, pid_t pid, struct kc_lc_proc *p, struct kc_err *err)
{
	struct kc_upatch_opts uo = {.timeout = w->o->timeout, .cancel = w->o->cancel};

	return kc_upatch_revert(pid, NULL, NULL, &uo, on_event, p, err);
}

int kc_lc_unload(struct kc_agent *a, const struct kc_lc_apply_opts *o, struct kc_lc_result *out,
		 struct kc_err *err)
{
	struct walk w = {.a = a, .o = o, .r = out, .want = want_patched, .op = op_unload};
	int ret;

	memset(out, 0, sizeof(*out));
	/* no blacklist here: what was patched must be unpatchable, whoever listed it since */
	ret = walk_all(&w, err);
	if (ret == 0)
		ret = kc_lc_write_cvelist(a, err);
	return ret;
}

/* Calls @fn with the info JSON of every process that has a patch applied. */
static int each_patched(int (*fn)(void *ctx, json_object *proc), void *ctx, struct kc_err *err)
{
	pid_t *pids = NULL;
	size_t npids = 0;
	int ret = kc_proc_pids(&pids, &npids, err);

	for (size_t i = 0; ret == 0 && i < npids; i++) {
		json_object *info;
		char exe[512];

		if (!kc_proc_exe(pids[i], exe, sizeof(exe)) ||
		    kc_upatch_count_applied(pids[i], NULL) <= 0 ||
		    kc_upatch_info(pids[i], &info, NULL) < 0)
			continue; /* gone meanwhile, or never patched */
		json_object_object_add(info, "exe", json_object_new_string(exe));
		ret = fn(ctx, info);
		json_object_put(info);
	}
	free(pids);
	return ret;
}

/* The object entries of a process's info that carry patches (others are dropped). */
static json_object *patched_objects(json_object *proc)
{
	json_object *objs, *keep = json_object_new_array();

	if (json_object_object_get_ex(proc, "objects", &objs))
		for (size_t i = 0; i < json_object_array_length(objs); i++) {
			json_object *o = json_object_array_get_idx(objs, i), *p;

			if (json_object_object_get_ex(o, "patches", &p) &&
			    json_object_array_length(p) > 0)
				json_object_array_add(keep, json_object_get(o));
		}
	return keep;
}

static int add_proc(void *ctx, json_object *proc)
{
	json_object *out = ctx, *copy = json_object_new_object(), *v;

	for (const char *const *k = (const char *const[]){"pid", "comm", "exe", NULL}; *k; k++)
		if (json_object_object_get_ex(proc, *k, &v))
			json_object_object_add(copy, *k, json_object_get(v));
	json_object_object_add(copy, "objects", patched_objects(proc));
	json_object_array_add(out, copy);
	return 0;
}

int kc_lc_info(struct kc_agent *a, json_object **out, struct kc_err *err)
{
	json_object *arr = json_object_new_array();
	int ret = each_patched(add_proc, arr, err);

	(void)a;
	if (ret < 0) {
		json_object_put(arr);
		return ret;
	}
	*out = arr;
	return 0;
}

struct patch_agg {
	json_object *arr;
	const struct kc_lc_plan *known; /* selected.json, for patchset and product; may be NULL */
};

static const char *jget_str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static int add_patches(void *ctx, json_object *proc)
{
	struct patch_agg *g = ctx;
	json_object *objs = patched_objects(proc), *pidv;

	json_object_object_get_ex(proc, "pid", &pidv);
	for (size_t i = 0; i < json_object_array_length(objs); i++) {
		json_object *o = json_object_array_get_idx(objs, i), *patches;
		const char *bid = jget_str(o, "build_id");

		json_object_object_get_ex(o, "patches", &patches);
		for (size_t k = 0; k < json_object_array_length(patches); k++) {
			json_object *p = json_object_array_get_idx(patches, k), *lv, *e = NULL;
			const char *id = jget_str(p, "id");
			int64_t level;
			size_t j;

			json_object_object_get_ex(p, "level", &lv);
			level = json_object_get_int64(lv);
			for (j = 0; j < json_object_array_length(g->arr); j++) {
				e = json_object_array_get_idx(g->arr, j);
				json_object *elv;

				json_object_object_get_ex(e, "level", &elv);
				if (!strcmp(jget_str(e, "id"), id) &&
				    !strcmp(jget_str(e, "build_id"), bid) &&
				    json_object_get_int64(elv) == level)
					break;
			}
			if (j == json_object_array_length(g->arr)) {
				json_object *cv;

				e = json_object_new_object();
				json_object_object_add(e, "id", json_object_new_string(id));
				json_object_object_add(e, "level", json_object_new_int64(level));
				json_object_object_add(e, "build_id", json_object_new_string(bid));
				json_object_object_add(e, "object",
						       json_object_new_string(jget_str(o, "path")));
				json_object_object_get_ex(p, "cves", &cv);
				json_object_object_add(e, "cves", json_object_get(cv));
				json_object_object_add(
				    e, "description",
				    json_object_new_string(jget_str(p, "description")));
				for (size_t m = 0; g->known && m < g->known->n; m++) {
					const struct kc_lc_entry *ke = &g->known->v[m];

					if (!strcmp(ke->id, id) && !strcmp(ke->build_id, bid) &&
					    ke->level == level) {
						json_object_object_add(
						    e, "patchset",
						    json_object_new_string(ke->patchset));
						json_object_object_add(
						    e, "product",
						    json_object_new_string(ke->product));
					}
				}
				json_object_object_add(e, "pids", json_object_new_array());
				json_object_array_add(g->arr, e);
			}
			json_object *pids;

			json_object_object_get_ex(e, "pids", &pids);
			json_object_array_add(pids, json_object_get(pidv));
		}
	}
	json_object_put(objs);
	return 0;
}

int kc_lc_patch_info(struct kc_agent *a, json_object **out, struct kc_err *err)
{
	struct patch_agg g = {json_object_new_array(), NULL};
	int ret;

	kc_lc_selected_load(a, (struct kc_lc_plan **)&g.known, NULL);
	ret = each_patched(add_patches, &g, err);
	kc_lc_plan_free((struct kc_lc_plan *)g.known);
	if (ret < 0) {
		json_object_put(g.arr);
		return ret;
	}
	*out = g.arr;
	return 0;
}

static int collect_cves(void *ctx, json_object *proc)
{
	json_object *set = ctx, *objs = patched_objects(proc);

	for (size_t i = 0; i < json_object_array_length(objs); i++) {
		json_object *patches, *cves;

		json_object_object_get_ex(json_object_array_get_idx(objs, i), "patches", &patches);
		for (size_t k = 0; k < json_object_array_length(patches); k++) {
			if (!json_object_object_get_ex(json_object_array_get_idx(patches, k),
						       "cves", &cves))
				continue;
			for (size_t c = 0; c < json_object_array_length(cves); c++)
				json_object_object_add(
				    set, json_object_get_string(json_object_array_get_idx(cves, c)),
				    NULL);
		}
	}
	json_object_put(objs);
	return 0;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

int kc_lc_write_cvelist(struct kc_agent *a, struct kc_err *err)
{
	json_object *set = json_object_new_object();
	const char **names = NULL;
	size_t n = 0, len = 0;
	char *text = NULL;
	int ret = each_patched(collect_cves, set, err);

	if (ret == 0) {
		names = calloc(json_object_object_length(set) + 1, sizeof(*names));
		if (!names)
			ret = kc_err_set(err, -ENOMEM, "out of memory");
	}
	if (ret == 0) {
		json_object_object_foreach(set, key, val)
		{
			(void)val;
			names[n++] = key;
			len += strlen(key) + 1;
		}
		qsort(names, n, sizeof(*names), cmp_str);
		text = malloc(len + 1);
		if (!text)
			ret = kc_err_set(err, -ENOMEM, "out of memory");
	}
	if (ret == 0) {
		size_t off = 0;

		for (size_t i = 0; i < n; i++)
			off += (size_t)sprintf(text + off, "%s\n", names[i]);
		ret = kc_file_write_atomic(a->paths.cvelist, text, off, 0644, err);
	}
	free(text);
	free(names);
	json_object_put(set);
	return ret;
}

/* Mapped build-ids of @pid that a plan entry targets, and the applied level of each entry's id
 * there. */
static int compare_one(pid_t pid, const struct kc_lc_plan *plan, struct kc_bidcache *cache,
		       size_t *pending)
{
	struct kc_proc_maps maps = {0};
	json_object *info = NULL;
	bool *mapped = calloc(plan->n + 1, sizeof(*mapped)), any = false;
	int ret = mapped ? kc_proc_maps_read(pid, &maps, NULL) : -ENOMEM;

	for (size_t i = 0; ret == 0 && i < maps.n; i++) {
		struct kc_buildid id;

		if (maps.v[i].offset != 0 ||
		    kc_bidcache_get(cache, maps.tid, &maps.v[i], &id, NULL) < 0)
			continue;
		for (size_t k = 0; k < plan->n; k++)
			if (kc_buildid_equal(&id, &plan->v[k].bid))
				mapped[k] = any = true;
	}
	kc_proc_maps_release(&maps);
	if (ret == 0 && any && kc_upatch_info(pid, &info, NULL) == 0) {
		bool behind = false;

		for (size_t k = 0; k < plan->n; k++) {
			int64_t have = 0;
			json_object *objs, *patches, *v;

			if (!mapped[k])
				continue;
			json_object_object_get_ex(info, "objects", &objs);
			for (size_t i = 0; i < json_object_array_length(objs); i++) {
				json_object *o = json_object_array_get_idx(objs, i);

				if (strcmp(jget_str(o, "build_id"), plan->v[k].build_id))
					continue;
				json_object_object_get_ex(o, "patches", &patches);
				for (size_t j = 0; j < json_object_array_length(patches); j++) {
					json_object *p = json_object_array_get_idx(patches, j);

					if (strcmp(jget_str(p, "id"), plan->v[k].id))
						continue;
					json_object_object_get_ex(p, "level", &v);
					if (json_object_get_int64(v) > have)
						have = json_object_get_int64(v);
				}
			}
			if (have < plan->v[k].level)
				behind = true;
		}
		*pending += behind;
	}
	json_object_put(info);
	free(mapped);
	return ret;
}

int kc_lc_compare(struct kc_agent *a, const struct kc_lc_plan *plan, size_t *pending,
		  size_t *applied, struct kc_err *err)
{
	struct kc_blacklist *bl = NULL;
	struct kc_bidcache *cache = kc_bidcache_new();
	pid_t *pids = NULL;
	size_t npids = 0;
	int ret;

	*pending = *applied = 0;
	if (!cache)
		return kc_err_set(err, -ENOMEM, "out of memory");
	ret = kc_blacklist_load(a->paths.blacklist_pkg, a->paths.blacklist_user, &bl, NULL, err);
	if (ret == 0)
		ret = kc_proc_pids(&pids, &npids, err);
	for (size_t i = 0; ret == 0 && i < npids; i++) {
		char exe[512];

		if (!kc_proc_exe(pids[i], exe, sizeof(exe)))
			continue;
		*applied += kc_upatch_count_applied(pids[i], NULL) > 0;
		if (plan && plan->n && !kc_blacklist_match(bl, exe))
			compare_one(pids[i], plan, cache, pending);
	}
	free(pids);
	kc_blacklist_free(bl);
	kc_bidcache_free(cache);
	return ret;
}
