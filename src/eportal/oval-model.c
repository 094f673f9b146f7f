// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading what the OVAL definitions describe: the enabled patches of one
 * feed (their custom JSON carries the CVEs and the target: a kernel's
 * release, a user patch's package and version), grouped by CVE. A patch
 * that names no release or package gives no target: a scanner could not
 * tell which hosts it concerns.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "eportal/model.h"
#include "eportal/oval-int.h"

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct kc_oval_cve *cve_get(struct kc_oval_data *d, const char *id)
{
	struct kc_oval_cve *c;

	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->cves[i].id, id))
			return &d->cves[i];
	c = kc_ep_grow((void **)&d->cves, &d->n, &d->cap, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->id, sizeof(c->id), "%s", id);
	return c;
}

/* Adds a target once; -ENOMEM. */
static int target_add(struct kc_oval_target **arr, size_t *n, size_t *cap, const char *a,
		      const char *b)
{
	struct kc_oval_target *t;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*arr)[i].a, a) && !(*arr)[i].b == !b &&
		    (!b || !strcmp((*arr)[i].b, b)))
			return 0;
	t = kc_ep_grow((void **)arr, n, cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->a = strdup(a);
	t->b = b ? strdup(b) : NULL;
	return !t->a || (b && !t->b) ? -ENOMEM : 0;
}

static void product_add(struct kc_oval_cve *c, const char *product)
{
	if (strstr(c->products, product))
		return;
	size_t n = strlen(c->products);
	snprintf(c->products + n, sizeof(c->products) - n, "%s%s", n ? ", " : "", product);
}

/* One patch row: its CVEs get its target. */
static int add_patch(struct kc_oval_data *d, const char *product, const char *custom)
{
	struct json_object *o = json_tokener_parse(custom ? custom : ""), *cves;
	const char *kind, *a = NULL, *b = NULL, *desc;
	int r = 0;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "cves", &cves) ||
	    !json_object_is_type(cves, json_type_array) || !(kind = jstr(o, "kind"))) {
		json_object_put(o);
		return 0; /* not written by deploy.c: nothing to say about it */
	}
	if (!strcmp(kind, "module")) {
		a = jstr(o, "release");
	} else {
		a = jstr(o, "package");
		b = jstr(o, "package_version");
		if (!b)
			a = NULL;
	}
	desc = jstr(o, "description");
	for (size_t i = 0; a && !r && i < json_object_array_length(cves); i++) {
		const char *id = json_object_get_string(json_object_array_get_idx(cves, i));
		struct kc_oval_cve *c;

		if (!id || strncmp(id, "CVE-", 4) || strlen(id) >= sizeof(c->id))
			continue;
		c = cve_get(d, id);
		if (!c) {
			r = -ENOMEM;
			break;
		}
		if (!c->description || (!*c->description && desc && *desc)) {
			free(c->description);
			c->description = strdup(desc ? desc : "");
			if (!c->description)
				r = -ENOMEM;
		}
		product_add(c, product);
		if (!r)
			r = b ? target_add(&c->user, &c->nuser, &c->capu, a, b)
			      : target_add(&c->kernel, &c->nkernel, &c->capk, a, NULL);
	}
	json_object_put(o);
	return r;
}

/* CVE-YYYY-N order: year, then the number (more digits is larger). */
static int cve_cmp(const void *pa, const void *pb)
{
	const char *a = ((const struct kc_oval_cve *)pa)->id;
	const char *b = ((const struct kc_oval_cve *)pb)->id;
	int y = strncmp(a, b, 9);

	if (y)
		return y;
	size_t la = strlen(a), lb = strlen(b);
	return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

static int target_cmp(const void *pa, const void *pb)
{
	const struct kc_oval_target *a = pa, *b = pb;
	int c = strcmp(a->a, b->a);

	return c ? c : strcmp(a->b ? a->b : "", b->b ? b->b : "");
}

int kc_oval_data_read(struct kc_ep *ep, const char *feed, struct kc_oval_data *d,
		      struct kc_err *err)
{
	struct kc_db_stmt *st = NULL;
	int64_t feed_id = 0;
	int r;

	memset(d, 0, sizeof(*d));
	r = kc_db_begin(ep->db, 0, err);
	if (r < 0)
		return r;
	r = kc_ep_feed_id(ep, feed, &feed_id, err);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no feed '%.80s'", feed);
	if (r < 0)
		goto out;
	r = kc_db_query_int(
	    ep->db, &d->timestamp, err,
	    "SELECT COALESCE(MAX(changed), 0) FROM feed_patchsets WHERE feed_id = ?", "i", feed_id);
	if (r < 0)
		goto out;
	r = kc_db_prepare(ep->db,
			  "SELECT ps.product, p.custom FROM feed_patchsets fp"
			  " JOIN patchsets ps ON ps.id = fp.patchset_id"
			  " JOIN patches p ON p.patchset_id = ps.id"
			  " WHERE fp.feed_id = ? AND fp.state = 'enabled'"
			  " ORDER BY ps.released, ps.name, p.id",
			  &st, err);
	if (r < 0)
		goto out;
	kc_db_bind_int(st, 1, feed_id);
	while ((r = kc_db_step(st, err)) > 0) {
		const char *product = kc_db_col_text(st, 0);

		r = add_patch(d, product ? product : "", kc_db_col_text(st, 1));
		if (r < 0) {
			r = kc_err_set(err, r, "out of memory");
			break;
		}
	}
	kc_db_finalize(st);
out:
	r = kc_ep_txn_end(ep->db, r < 0 ? r : 0, err);
	if (r < 0) {
		kc_oval_data_free(d);
		return r;
	}
	if (d->n)
		qsort(d->cves, d->n, sizeof(*d->cves), cve_cmp);
	for (size_t i = 0; i < d->n; i++) {
		if (d->cves[i].nkernel)
			qsort(d->cves[i].kernel, d->cves[i].nkernel, sizeof(struct kc_oval_target),
			      target_cmp);
		if (d->cves[i].nuser)
			qsort(d->cves[i].user, d->cves[i].nuser, sizeof(struct kc_oval_target),
			      target_cmp);
	}
	return 0;
}

static void targets_free(struct kc_oval_target *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].a);
		free(t[i].b);
	}
	free(t);
}

void kc_oval_data_free(struct kc_oval_data *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->cves[i].description);
		targets_free(d->cves[i].kernel, d->cves[i].nkernel);
		targets_free(d->cves[i].user, d->cves[i].nuser);
	}
	free(d->cves);
	memset(d, 0, sizeof(*d));
}
