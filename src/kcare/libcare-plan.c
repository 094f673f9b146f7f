// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The LibCare plan: which userspace patches this host runs. Remote: a TUF
 * update of the feed files, the choice (feed, delay, sticky date, newest
 * level), the chosen blobs downloaded into the cache, verified, and the
 * choice saved as selected.json. Local: selected.json and the cached blobs,
 * verified again before they are parsed. Either way a patch is used only
 * after its bytes matched the signed length and SHA-256.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kcare/libcare.h"
#include "kcare/libcare-int.h"
#include "kcare/json-get.h"

#define SELECTED_MAX (64u * 1024 * 1024)
#define BLOB_MAX     (256u * 1024 * 1024)

static const unsigned user_products[] = {KC_PRODUCT_LIBS, KC_PRODUCT_QEMU, KC_PRODUCT_DB};

int kc_lc_product_index(unsigned bit)
{
	return bit == KC_PRODUCT_LIBS	? 1
	       : bit == KC_PRODUCT_QEMU ? 2
	       : bit == KC_PRODUCT_DB	? 3
					: 0;
}

int kc_lc_policy_get(const struct kc_agent *a, enum kc_lc_policy *out, struct kc_err *err)
{
	const char *v = kc_conf_get(a->conf, "UPDATE_POLICY");

	if (!v || !*v || !strcasecmp(v, "REMOTE"))
		*out = KC_LC_REMOTE;
	else if (!strcasecmp(v, "LOCAL"))
		*out = KC_LC_LOCAL;
	else if (!strcasecmp(v, "LOCAL_FIRST"))
		*out = KC_LC_LOCAL_FIRST;
	else
		return kc_err_set(err, -EINVAL,
				  "UPDATE_POLICY '%s' is not REMOTE, LOCAL or LOCAL_FIRST", v);
	return 0;
}

void kc_lc_plan_free(struct kc_lc_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].description);
		json_object_put(p->v[i].cves);
		kc_patch_free(p->v[i].patch);
	}
	free(p->v);
	free(p);
}

size_t kc_lc_plan_count(const struct kc_lc_plan *p)
{
	return p->n;
}

const char *kc_lc_plan_newest(const struct kc_lc_plan *p, unsigned product)
{
	return p->newest[kc_lc_product_index(product)];
}

size_t kc_lc_plan_held_back(const struct kc_lc_plan *p)
{
	return p->held_back;
}

const char *kc_lc_plan_feed(const struct kc_lc_plan *p)
{
	return p->feed;
}

static struct kc_lc_entry *plan_add(struct kc_lc_plan *p)
{
	struct kc_lc_entry *v = realloc(p->v, (p->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	p->v = v;
	memset(&v[p->n], 0, sizeof(v[p->n]));
	return &v[p->n++];
}

static unsigned product_bit(const char *name)
{
	unsigned bit = 0;

	return kc_products_parse(name, &bit, NULL) == 0 ? bit : 0;
}

/* Fills the parts of @e that name its blob in the cache and its build-id. */
static int entry_finish(const struct kc_agent *a, struct kc_lc_entry *e, struct kc_err *err)
{
	if (kc_buildid_from_hex(e->build_id, &e->bid, err) < 0)
		return kc_err_prefix(err, "patch '%s' of '%s'", e->id, e->patchset);
	if (strlen(e->sha256) != 64 || strspn(e->sha256, "0123456789abcdef") != 64)
		return kc_err_set(err, -EBADMSG, "patch '%s' of '%s' has a bad sha256", e->id,
				  e->patchset);
	snprintf(e->file, sizeof(e->file), "%s/%s", a->paths.user_blobs, e->sha256);
	return 0;
}

/* One entry of selected.json (written by us, but read as outside input all the same). */
static int entry_from_json(const struct kc_agent *a, json_object *o, struct kc_lc_entry *e,
			   struct kc_err *err)
{
	const char *product = kc_json_str(o, "product"), *patchset = kc_json_str(o, "patchset");
	const char *sha = kc_json_str(o, "sha256"), *bid = kc_json_str(o, "build_id"),
		   *id = kc_json_str(o, "id");
	const char *target = kc_json_str(o, "target"), *desc = kc_json_str(o, "description");
	int64_t level, length, released;
	json_object *cves;

	if (!product || !product_bit(product) || !patchset || !sha || !bid || !id || !target ||
	    !kc_json_int(o, "level", &level) || level < 1 || level > UINT32_MAX ||
	    !kc_json_int(o, "length", &length) || length < 0 ||
	    !kc_json_int(o, "released", &released) || strlen(product) >= sizeof(e->product) ||
	    strlen(patchset) >= sizeof(e->patchset) || strlen(sha) >= sizeof(e->sha256) ||
	    strlen(bid) >= sizeof(e->build_id) || strlen(id) >= sizeof(e->id) ||
	    strlen(target) >= sizeof(e->target))
		return kc_err_set(err, -EBADMSG, "'%s' has a bad entry: run kcarectl --lib-update",
				  a->paths.user_selected);
	strcpy(e->product, product);
	strcpy(e->patchset, patchset);
	strcpy(e->sha256, sha);
	strcpy(e->build_id, bid);
	strcpy(e->id, id);
	strcpy(e->target, target);
	e->level = (uint32_t)level;
	e->length = (uint64_t)length;
	e->released = released;
	e->description = strdup(desc ? desc : "");
	e->cves = json_object_new_array();
	if (json_object_object_get_ex(o, "cves", &cves) &&
	    json_object_is_type(cves, json_type_array))
		for (size_t i = 0; i < json_object_array_length(cves); i++) {
			const char *c = json_object_get_string(json_object_array_get_idx(cves, i));

			if (c)
				json_object_array_add(e->cves, json_object_new_string(c));
		}
	if (!e->description)
		return kc_err_set(err, -ENOMEM, "out of memory");
	return entry_finish(a, e, err);
}

int kc_lc_selected_load(const struct kc_agent *a, struct kc_lc_plan **out, struct kc_err *err)
{
	struct kc_lc_plan *p;
	json_object *o, *v;
	char *buf = NULL;
	size_t len;
	int ret;

	ret = kc_file_read_all(a->paths.user_selected, SELECTED_MAX, &buf, &len, err);
	if (ret == -ENOENT)
		return kc_err_set(err, -ENOENT, "no userspace patches are cached yet");
	if (ret < 0)
		return ret;
	o = json_tokener_parse(buf);
	free(buf);
	p = calloc(1, sizeof(*p));
	if (!p) {
		json_object_put(o);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	if (!o || !json_object_object_get_ex(o, "patches", &v) ||
	    !json_object_is_type(v, json_type_array)) {
		ret = kc_err_set(err, -EBADMSG, "'%s' is damaged: run kcarectl --lib-update",
				 a->paths.user_selected);
		goto out;
	}
	snprintf(p->feed, sizeof(p->feed), "%s",
		 kc_json_str(o, "feed") ? kc_json_str(o, "feed") : "");
	for (size_t i = 0; ret == 0 && i < json_object_array_length(v); i++) {
		struct kc_lc_entry *e = plan_add(p);

		ret = e ? entry_from_json(a, json_object_array_get_idx(v, i), e, err)
			: kc_err_set(err, -ENOMEM, "out of memory");
	}
	if (ret == 0 && json_object_object_get_ex(o, "newest", &v))
		for (size_t k = 0; k < 3; k++) {
			const char *n = kc_json_str(v, kc_product_name(user_products[k]));

			if (n)
				snprintf(p->newest[kc_lc_product_index(user_products[k])],
					 sizeof(p->newest[0]), "%s", n);
		}
out:
	json_object_put(o);
	if (ret < 0) {
		kc_lc_plan_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

static json_object *entry_to_json(const struct kc_lc_entry *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "product", json_object_new_string(e->product));
	json_object_object_add(o, "patchset", json_object_new_string(e->patchset));
	json_object_object_add(o, "released", json_object_new_int64(e->released));
	json_object_object_add(o, "sha256", json_object_new_string(e->sha256));
	json_object_object_add(o, "length", json_object_new_int64((int64_t)e->length));
	json_object_object_add(o, "build_id", json_object_new_string(e->build_id));
	json_object_object_add(o, "id", json_object_new_string(e->id));
	json_object_object_add(o, "level", json_object_new_int64(e->level));
	json_object_object_add(o, "target", json_object_new_string(e->target));
	json_object_object_add(o, "description", json_object_new_string(e->description));
	json_object_object_add(o, "cves", json_object_get(e->cves));
	return o;
}

/*
 * Saves the plan's entries for @products, keeping what selected.json held for
 * the other products (a `--userspace-update libs` leaves qemu's choice alone).
 */
static int selected_save(const struct kc_agent *a, const struct kc_lc_plan *p, unsigned products,
			 struct kc_err *err)
{
	struct kc_lc_plan *old = NULL;
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	json_object *newest = json_object_new_object();
	const char *text;
	int ret;

	kc_lc_selected_load(a, &old, NULL);
	for (size_t k = 0; k < 3; k++) {
		unsigned bit = user_products[k];
		const char *n = (products & bit) ? p->newest[kc_lc_product_index(bit)]
				: old		 ? old->newest[kc_lc_product_index(bit)]
						 : "";

		json_object_object_add(newest, kc_product_name(bit), json_object_new_string(n));
	}
	for (size_t i = 0; old && i < old->n; i++)
		if (!(product_bit(old->v[i].product) & products))
			json_object_array_add(arr, entry_to_json(&old->v[i]));
	for (size_t i = 0; i < p->n; i++)
		json_object_array_add(arr, entry_to_json(&p->v[i]));
	json_object_object_add(o, "format", json_object_new_int(1));
	json_object_object_add(o, "updated", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "feed", json_object_new_string(p->feed));
	json_object_object_add(o, "newest", newest);
	json_object_object_add(o, "patches", arr);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	ret = kc_file_write_atomic(a->paths.user_selected, text, strlen(text), 0644, err);
	json_object_put(o);
	kc_lc_plan_free(old);
	return ret;
}

/* The blob of @e from the cache, checked against its length and SHA-256. */
static int blob_read(const struct kc_lc_entry *e, unsigned char **buf, size_t *len,
		     struct kc_err *err)
{
	unsigned char sha[KC_TRUST_SHA256_BYTES];
	char hex[2 * KC_TRUST_SHA256_BYTES + 1];
	char *data = NULL;
	int ret;

	ret = kc_file_read_all(e->file, BLOB_MAX, &data, len, err);
	if (ret < 0)
		return ret;
	kc_trust_sha256(data, *len, sha);
	if (*len != e->length || strcmp(kc_trust_sha256_hex(sha, hex), e->sha256)) {
		free(data);
		/* never applied, and never trusted again: the next update fetches it anew */
		unlink(e->file);
		return kc_err_set(err, -EILSEQ,
				  "cached patch '%s' level %u of %s is corrupted (length or sha256 "
				  "differs); removed it",
				  e->id, e->level, e->patchset);
	}
	*buf = (unsigned char *)data;
	return 0;
}

/* Parses every blob, and checks that each patch is what its signed entry says. */
static int plan_parse(struct kc_lc_plan *p, struct kc_err *err)
{
	for (size_t i = 0; i < p->n; i++) {
		struct kc_lc_entry *e = &p->v[i];
		unsigned char *buf = NULL;
		size_t len;
		int ret = blob_read(e, &buf, &len, err);

		if (ret < 0)
			return ret;
		ret = kc_patch_parse(buf, len, &e->patch, err);
		free(buf);
		if (ret < 0)
			return kc_err_prefix(err, "patch '%s' of %s", e->id, e->patchset);
		if (!kc_buildid_equal(&e->patch->build_id, &e->bid) ||
		    strcmp(e->patch->id, e->id) || e->patch->level != e->level)
			return kc_err_set(err, -EILSEQ,
					  "patch '%s' of %s is not what its signed entry says "
					  "(id, level or build-id differ)",
					  e->id, e->patchset);
	}
	return 0;
}

static int entry_from_chosen(const struct kc_agent *a, const struct kc_chosen *c,
			     struct kc_lc_entry *e, struct kc_err *err)
{
	char hex[2 * KC_TRUST_SHA256_BYTES + 1];

	if (strlen(c->product) >= sizeof(e->product) ||
	    strlen(c->patchset) >= sizeof(e->patchset) ||
	    strlen(c->build_id) >= sizeof(e->build_id) || strlen(c->id) >= sizeof(e->id) ||
	    strlen(c->target_name) >= sizeof(e->target))
		return kc_err_set(err, -EBADMSG, "feed entry '%s' has an over-long field",
				  c->target->path);
	strcpy(e->product, c->product);
	strcpy(e->patchset, c->patchset);
	strcpy(e->sha256, kc_trust_sha256_hex(c->target->sha256, hex));
	e->length = c->target->length;
	strcpy(e->build_id, c->build_id);
	strcpy(e->id, c->id);
	strcpy(e->target, c->target_name);
	e->level = c->level;
	e->released = c->released;
	e->description = strdup(c->description);
	e->cves = json_object_new_array();
	for (size_t i = 0; c->cves && i < json_object_array_length(c->cves); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(c->cves, i));

		if (s)
			json_object_array_add(e->cves, json_object_new_string(s));
	}
	if (!e->description)
		return kc_err_set(err, -ENOMEM, "out of memory");
	return entry_finish(a, e, err);
}

/* Downloads @e into the cache unless a verified copy is there. */
static int blob_fetch(struct kc_http_repo *repo, const struct kc_trust_target *t,
		      const struct kc_lc_entry *e, struct kc_err *err)
{
	if (kc_trust_client_cache_target(kc_http_repo_fetch, repo, t, e->file, err) < 0)
		return kc_err_prefix(err, "patch '%s' of %s", e->id, e->patchset);
	return 0;
}

static int plan_remote(struct kc_agent *a, const struct kc_lc_plan_opts *o, struct kc_lc_plan *p,
		       struct kc_err *err)
{
	const char *products[3];
	struct kc_feed_update u;
	size_t nwanted = 0;
	int ret;

	for (size_t k = 0; k < 3; k++)
		if (o->products & user_products[k])
			products[nwanted++] = kc_product_name(user_products[k]);
	ret = kc_feed_update_open(a, o->prefix, products, nwanted, &u, err);
	if (ret < 0)
		return ret;
	snprintf(p->feed, sizeof(p->feed), "%s", u.fc.feed);
	for (size_t k = 0; k < nwanted && ret == 0; k++) {
		const struct kc_trust_target *t;
		struct kc_choice_result cr;
		size_t nt;

		ret = kc_trust_client_feed(u.tc, u.fc.feed, products[k], u.now, &t, &nt, err);
		if (ret == 0)
			ret = kc_choose(t, nt, "user", &u.fc, u.now, &cr, err);
		if (ret < 0)
			break;
		p->held_back += cr.held_back;
		if (cr.newest_patchset)
			snprintf(p->newest[kc_lc_product_index(product_bit(products[k]))],
				 sizeof(p->newest[0]), "%s", cr.newest_patchset);
		for (size_t i = 0; i < cr.n && ret == 0; i++) {
			struct kc_lc_entry *e = plan_add(p);

			ret = e ? entry_from_chosen(a, &cr.v[i], e, err)
				: kc_err_set(err, -ENOMEM, "out of memory");
			if (ret == 0 && !o->metadata_only)
				ret = blob_fetch(&u.repo, cr.v[i].target, e, err);
		}
		kc_choice_result_free(&cr);
	}
	if (ret == 0 && nwanted > 0 && !o->metadata_only)
		ret = selected_save(a, p, o->products, err);
	kc_feed_update_close(&u);
	return ret;
}

/* selected.json narrowed to @products. */
static int plan_local(struct kc_agent *a, const struct kc_lc_plan_opts *o, struct kc_lc_plan *p,
		      struct kc_err *err)
{
	struct kc_lc_plan *all;
	int ret = kc_lc_selected_load(a, &all, err);

	if (ret < 0)
		return ret;
	snprintf(p->feed, sizeof(p->feed), "%s", all->feed);
	memcpy(p->newest, all->newest, sizeof(p->newest));
	for (size_t i = 0; i < all->n; i++) {
		struct kc_lc_entry *e;

		if (!(product_bit(all->v[i].product) & o->products))
			continue;
		if (!(e = plan_add(p))) {
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		*e = all->v[i];
		/* moved, not copied: the owner is now @p */
		all->v[i].description = NULL;
		all->v[i].cves = NULL;
	}
	kc_lc_plan_free(all);
	return ret;
}

/* Failures that say the server could not be reached, as opposed to refusals. */
static bool unreachable(int code)
{
	switch (code) {
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -ETIMEDOUT:
	case -ECONNRESET:
	case -EAGAIN:
	case -EPROTO:
	case -ENOENT:
		return true;
	default:
		return false;
	}
}

static void plan_clear(struct kc_lc_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].description);
		json_object_put(p->v[i].cves);
		kc_patch_free(p->v[i].patch);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

int kc_lc_plan_make(struct kc_agent *a, const struct kc_lc_plan_opts *o, struct kc_lc_plan **out,
		    bool *fell_back, struct kc_err *warn, struct kc_err *err)
{
	struct kc_lc_plan *p = calloc(1, sizeof(*p));
	int ret;

	*fell_back = false;
	if (!p)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (o->policy == KC_LC_LOCAL) {
		ret = plan_local(a, o, p, err);
		if (ret == -ENOENT)
			kc_err_set(err, -ENOENT,
				   "UPDATE_POLICY=LOCAL and no userspace patches are cached (%s)",
				   a->paths.user_selected);
	} else {
		ret = plan_remote(a, o, p, err);
		if (ret < 0 && o->policy == KC_LC_LOCAL_FIRST && unreachable(ret) &&
		    !o->metadata_only) {
			*warn = *err;
			plan_clear(p);
			kc_err_clear(err);
			ret = plan_local(a, o, p, err);
			if (ret < 0)
				kc_err_set(err, warn->code, "%s; and no patches are cached",
					   warn->msg);
			else
				*fell_back = true;
		}
	}
	if (ret == 0 && !o->metadata_only)
		ret = plan_parse(p, err);
	if (ret < 0) {
		kc_lc_plan_free(p);
		return ret;
	}
	*out = p;
	return 0;
}
