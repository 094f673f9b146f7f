// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel plan: which patch level this kernel runs. Remote: a TUF
 * update of the "kernel" feed file, the entries of kind "module" that name
 * this kernel (build-id or kernel id), within the delay and sticky date,
 * the highest level; its module downloaded into /var/cache/kcare/kernel,
 * verified, and recorded in selected.json there, one record per kernel, so
 * that LOCAL and LOCAL_FIRST (and the boot unit) load it without the
 * network. Local: that record, the module verified again.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kcare/kernel.h"
#include "kcare/trust.h"
#include "kcare/json-get.h"

#define SELECTED_MAX (4u * 1024 * 1024)

void kc_kernel_plan_release(struct kc_kernel_plan *p)
{
	json_object_put(p->e.meta);
	memset(p, 0, sizeof(*p));
}

#define SELECTED_PATH_MAX (KC_AGENT_PATH_MAX + 32)

static void selected_path(const struct kc_agent *a, char out[SELECTED_PATH_MAX])
{
	snprintf(out, SELECTED_PATH_MAX, "%s/kernel/selected.json", a->paths.cache_dir);
}

/* Whether the entry (@build_id / @kernel_id as it names its kernel) is for kernel @id. */
static bool for_kernel(const char *build_id, const char *kernel_id,
		       const struct kc_kernel_ident *id)
{
	return (build_id && *build_id && id->build_id[0] && !strcmp(build_id, id->build_id)) ||
	       (kernel_id && *kernel_id && id->kernel_id[0] && !strcmp(kernel_id, id->kernel_id));
}

/* Fills @e from a signed entry (or a selected.json record). -EBADMSG for a bad field. */
static int entry_from(const struct kc_agent *a, json_object *o, struct kc_kernel_entry *e,
		      struct kc_err *err)
{
	const char *ps = kc_json_str(o, "patchset"), *bid = kc_json_str(o, "build_id");
	const char *kid = kc_json_str(o, "kernel_id"), *sha = kc_json_str(o, "sha256");
	/* "id" is the series; "module" the module's name (older servers: "id" was the module) */
	const char *mod =
	    kc_json_str(o, "module") ? kc_json_str(o, "module") : kc_json_str(o, "id");
	int64_t level, released;

	memset(e, 0, sizeof(*e));
	if (!ps || !mod || !kc_json_int(o, "level", &level) || level < 1 || level > UINT32_MAX ||
	    !kc_json_int(o, "released", &released) || strlen(ps) >= sizeof(e->patchset) ||
	    strlen(mod) >= sizeof(e->module) || (bid && strlen(bid) >= sizeof(e->build_id)) ||
	    (kid && strlen(kid) >= sizeof(e->kernel_id)) || (!bid && !kid) ||
	    (sha && (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)))
		return kc_err_set(err, -EBADMSG,
				  "kernel feed entry '%s' lacks a field or has a bad one",
				  mod ? mod : "?");
	strcpy(e->patchset, ps);
	strcpy(e->module, mod);
	snprintf(e->build_id, sizeof(e->build_id), "%s", bid ? bid : "");
	snprintf(e->kernel_id, sizeof(e->kernel_id), "%s", kid ? kid : "");
	if (sha)
		strcpy(e->sha256, sha);
	e->level = (uint32_t)level;
	e->released = released;
	(void)a;
	e->meta = json_object_get(o);
	return 0;
}

static void entry_set_blob(const struct kc_agent *a, struct kc_kernel_entry *e, const char *sha,
			   uint64_t length)
{
	snprintf(e->sha256, sizeof(e->sha256), "%s", sha);
	e->length = length;
	snprintf(e->file, sizeof(e->file), "%s/kernel/%s.ko", a->paths.cache_dir, e->sha256);
}

/* A better choice than @cur: higher level, then newer. */
static bool better(const struct kc_kernel_entry *c, const struct kc_kernel_entry *cur, bool have)
{
	return !have || c->level > cur->level ||
	       (c->level == cur->level && c->released > cur->released);
}

/* The selected.json records, or an empty array. */
static json_object *selected_read(const struct kc_agent *a)
{
	char sel[SELECTED_PATH_MAX];
	json_object *o = NULL, *arr;
	char *buf = NULL;
	size_t len;

	selected_path(a, sel);
	if (kc_file_read_all(sel, SELECTED_MAX, &buf, &len, NULL) == 0)
		o = json_tokener_parse(buf);
	free(buf);
	if (!o || !json_object_object_get_ex(o, "kernels", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(o);
		return json_object_new_array();
	}
	arr = json_object_get(arr);
	json_object_put(o);
	return arr;
}

/* Records @e as the level of kernel @id, replacing the record of that kernel. */
static int selected_save(const struct kc_agent *a, const struct kc_kernel_ident *id,
			 const struct kc_kernel_entry *e, struct kc_err *err)
{
	char sel[SELECTED_PATH_MAX];
	json_object *old = selected_read(a), *arr = json_object_new_array();
	json_object *o = json_object_new_object(), *rec;
	const char *text;
	int ret;

	for (size_t i = 0; i < json_object_array_length(old); i++) {
		json_object *r = json_object_array_get_idx(old, i);

		if (!for_kernel(kc_json_str(r, "build_id"), kc_json_str(r, "kernel_id"), id))
			json_object_array_add(arr, json_object_get(r));
	}
	rec = json_object_new_object();
	json_object_object_foreach(e->meta, k, v)
	    json_object_object_add(rec, k, json_object_get(v));
	json_object_object_add(rec, "sha256", json_object_new_string(e->sha256));
	json_object_object_add(rec, "length", json_object_new_int64((int64_t)e->length));
	json_object_object_add(rec, "release", json_object_new_string(id->release));
	json_object_array_add(arr, rec);
	json_object_object_add(o, "format", json_object_new_int(1));
	json_object_object_add(o, "updated", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "kernels", arr);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	selected_path(a, sel);
	ret = kc_file_write_atomic(sel, text, strlen(text), 0644, err);
	json_object_put(o);
	json_object_put(old);
	return ret;
}

static int plan_local(struct kc_agent *a, const struct kc_kernel_ident *id,
		      struct kc_kernel_plan *p, struct kc_err *err)
{
	json_object *arr = selected_read(a);
	int ret = 0;

	for (size_t i = 0; i < json_object_array_length(arr) && ret == 0; i++) {
		json_object *r = json_object_array_get_idx(arr, i);
		struct kc_kernel_entry e;
		int64_t length;

		if (!for_kernel(kc_json_str(r, "build_id"), kc_json_str(r, "kernel_id"), id))
			continue;
		if (!kc_json_str(r, "sha256") || !kc_json_int(r, "length", &length) || length < 0) {
			ret = kc_err_set(err, -EBADMSG, "the kernel patch cache record is damaged");
			break;
		}
		ret = entry_from(a, r, &e, err);
		if (ret < 0)
			break;
		entry_set_blob(a, &e, kc_json_str(r, "sha256"), (uint64_t)length);
		if (better(&e, &p->e, p->found)) {
			kc_kernel_plan_release(p);
			p->e = e;
			p->found = true;
		} else {
			json_object_put(e.meta);
		}
	}
	json_object_put(arr);
	p->from_cache = true;
	return ret;
}

/* Downloads the chosen module into the cache unless a verified copy is there. */
static int blob_fetch(struct kc_http_repo *repo, const struct kc_trust_target *t,
		      const struct kc_kernel_entry *e, struct kc_err *err)
{
	if (kc_trust_client_cache_target(kc_http_repo_fetch, repo, t, e->file, err) < 0)
		return kc_err_prefix(err, "kernel patch '%s' of %s", e->module, e->patchset);
	return 0;
}

/* PATCH_TYPE (--set-patch-type): extra, free or default. */
static const char *patch_type(const struct kc_agent *a)
{
	const char *v = kc_conf_get(a->conf, "PATCH_TYPE");

	return v && (!strcasecmp(v, "extra") || !strcasecmp(v, "free")) ? v : "default";
}

/* A series is of type T when its id ends in "-T" (debian-6.1.0-57-extra); else default. */
static bool series_is(const char *series, const char *type)
{
	static const char *const types[] = {"extra", "free"};
	size_t ls = series ? strlen(series) : 0;

	for (size_t i = 0; i < 2; i++) {
		size_t lt = strlen(types[i]);

		if (ls > lt + 1 && series[ls - lt - 1] == '-' &&
		    !strcasecmp(series + ls - lt, types[i]))
			return !strcasecmp(type, types[i]);
	}
	return !strcmp(type, "default");
}

/*
 * The best entry for kernel @id among @nt verified ones, within the delay and
 * sticky date, of series type @type; *@chosen is its target (NULL: none).
 */
static int choose(const struct kc_agent *a, const struct kc_trust_target *t, size_t nt,
		  const struct kc_kernel_ident *id, const struct kc_feed_choice *fc, int64_t now,
		  const char *type, struct kc_kernel_plan *p, const struct kc_trust_target **chosen,
		  struct kc_err *err)
{
	int64_t cutoff = now - fc->delay_seconds;

	*chosen = NULL;
	p->held_back = 0;
	for (size_t i = 0; i < nt; i++) {
		struct kc_kernel_entry e;
		const char *kind = kc_json_str(t[i].custom, "kind");
		int ret;

		if (!kind || strcmp(kind, "module") ||
		    !series_is(kc_json_str(t[i].custom, "id"), type))
			continue;
		if (!for_kernel(kc_json_str(t[i].custom, "build_id"),
				kc_json_str(t[i].custom, "kernel_id"), id))
			continue;
		ret = entry_from(a, t[i].custom, &e, err);
		if (ret < 0)
			return ret;
		if (e.released > cutoff || (fc->sticky_until && e.released >= fc->sticky_until)) {
			p->held_back++;
			json_object_put(e.meta);
			continue;
		}
		if (better(&e, &p->e, p->found)) {
			json_object_put(p->e.meta);
			p->e = e;
			p->found = true;
			*chosen = &t[i];
		} else {
			json_object_put(e.meta);
		}
	}
	return 0;
}

static int plan_remote(struct kc_agent *a, const struct kc_kernel_ident *id,
		       const struct kc_kernel_plan_opts *o, struct kc_kernel_plan *p,
		       struct kc_err *err)
{
	static const char *const products[] = {"kernel"};
	const struct kc_trust_target *t, *chosen = NULL;
	struct kc_feed_update u;
	size_t nt;
	int ret;

	ret = kc_feed_update_open(a, o->prefix, products, 1, &u, err);
	if (ret < 0)
		return ret;
	snprintf(p->feed, sizeof(p->feed), "%s", u.fc.feed);
	ret = kc_trust_client_feed(u.tc, u.fc.feed, "kernel", u.now, &t, &nt, err);
	if (ret == 0)
		ret = choose(a, t, nt, id, &u.fc, u.now, patch_type(a), p, &chosen, err);
	/* no series of that type for this kernel: the default one */
	if (ret == 0 && !chosen && strcmp(patch_type(a), "default"))
		ret = choose(a, t, nt, id, &u.fc, u.now, "default", p, &chosen, err);
	if (ret == 0 && chosen) {
		char hex[2 * KC_TRUST_SHA256_BYTES + 1];

		entry_set_blob(a, &p->e, kc_trust_sha256_hex(chosen->sha256, hex), chosen->length);
		if (!o->metadata_only) {
			ret = blob_fetch(&u.repo, chosen, &p->e, err);
			if (ret == 0)
				ret = selected_save(a, id, &p->e, err);
		}
	}
	kc_feed_update_close(&u);
	return ret;
}

int kc_kernel_plan_make(struct kc_agent *a, const struct kc_kernel_ident *id,
			const struct kc_kernel_plan_opts *o, struct kc_kernel_plan *out,
			bool *fell_back, struct kc_err *err)
{
	int ret;

	memset(out, 0, sizeof(*out));
	*fell_back = false;
	if (o->policy == KC_LC_LOCAL || (o->policy == KC_LC_LOCAL_FIRST && !o->metadata_only)) {
		ret = plan_local(a, id, out, err);
		if (ret < 0 || out->found || o->policy == KC_LC_LOCAL) {
			*fell_back = out->found && o->policy == KC_LC_LOCAL_FIRST;
			goto done;
		}
		kc_kernel_plan_release(out);
	}
	ret = plan_remote(a, id, o, out, err);
done:
	if (ret < 0)
		kc_kernel_plan_release(out);
	return ret;
}
