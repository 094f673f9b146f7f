// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Deploying a patchset archive: the deploy pipeline.
 *   1. read and check the whole archive with the patchset reader (untrusted
 *      input: nothing is stored before every check passed);
 *   2. store each patch as DIR/repo/blobs/<sha256> (temporary file, fsync,
 *      rename: a blob is complete before any row names it; blobs are
 *      immutable, so one left behind by a crash is harmless);
 *   3. one transaction: the patchset row, its patch rows, its state in the
 *      feed (acknowledged = committed);
 *   4. republish. A crash between 3 and 4 is repaired by the next publish
 *      (every start and every change publishes from the database).
 * A known patchset name with the same patchset.json is a re-deploy (only the
 * state changes); with a different one it is refused.
 */
#include <json-c/json.h>
#include <string.h>

#include "eportal/model.h"
#include "kcare/patchset.h"
#include "kcare/trust.h"

int kc_ep_ps_set_state(struct kc_ep *ep, int64_t feed_id, int64_t ps_id, const char *state,
		       struct kc_err *err);

/* The custom JSON of one entry (see docs/eportal-api.md, "feed entries"). */
static char *entry_custom(const struct kc_patchset_meta *m, const struct kc_patchset_patch *p,
			  const char *origin)
{
	struct json_object *o = json_object_new_object(), *cves = json_object_new_array();
	char when[32];
	char *s = NULL;

	if (!o || !cves) {
		json_object_put(o);
		json_object_put(cves);
		return NULL;
	}
	kc_patchset_time_format(m->released, when, sizeof(when));
	json_object_object_add(o, "patchset", json_object_new_string(m->name));
	json_object_object_add(o, "product",
			       json_object_new_string(kc_patchset_product_name(m->product)));
	json_object_object_add(o, "released", json_object_new_int64(m->released));
	json_object_object_add(o, "released_at", json_object_new_string(when));
	json_object_object_add(o, "file", json_object_new_string(p->file));
	json_object_object_add(
	    o, "kind", json_object_new_string(p->kind == KC_PATCHSET_MODULE ? "module" : "user"));
	if (p->build_id)
		json_object_object_add(o, "build_id", json_object_new_string(p->build_id));
	if (p->kernel_id)
		json_object_object_add(o, "kernel_id", json_object_new_string(p->kernel_id));
	json_object_object_add(o, "target", json_object_new_string(p->target_name));
	json_object_object_add(o, "id", json_object_new_string(p->id));
	json_object_object_add(o, "level", json_object_new_int64(p->level));
	if (p->kind == KC_PATCHSET_MODULE) {
		char module[64];

		/* what the agent looks for in /sys/kernel/livepatch; the reader checked name= */
		if (kc_patchset_module_name(p->id, p->level, module, sizeof(module)) == 0)
			json_object_object_add(o, "module", json_object_new_string(module));
		if (p->release)
			json_object_object_add(o, "release", json_object_new_string(p->release));
		if (p->effective)
			json_object_object_add(o, "effective_version",
					       json_object_new_string(p->effective));
	}
	if (p->package) {
		json_object_object_add(o, "package", json_object_new_string(p->package));
		json_object_object_add(o, "package_version",
				       json_object_new_string(p->package_version));
	}
	for (size_t i = 0; i < p->ncves; i++)
		json_object_array_add(cves, json_object_new_string(p->cves[i]));
	json_object_object_add(o, "cves", cves);
	json_object_object_add(o, "description", json_object_new_string(p->description));
	for (int f = 0; f < KC_KPATCH_NFIELDS; f++)
		if (p->kpatch[f])
			json_object_object_add(o, kc_patchset_kpatch_key(f),
					       json_object_new_string(p->kpatch[f]));
	if (origin)
		json_object_object_add(o, "origin", json_object_new_string(origin));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* Step 3: the rows, in one transaction. */
static int store_rows(struct kc_ep *ep, const struct kc_patchset_meta *m, const char *meta_sha,
		      const char *feed, int disabled, const char *origin, struct kc_err *err)
{
	struct kc_db_stmt *st;
	int64_t r, feed_id = 0, ps_id = 0;
	int known = 0;

	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_ep_feed_id(ep, feed, &feed_id, err);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no feed '%.80s'", feed);
	if (r < 0)
		goto out;
	r = kc_db_prepare(ep->db, "SELECT id, meta_sha256 FROM patchsets WHERE name = ?", &st, err);
	if (r < 0)
		goto out;
	kc_db_bind_text(st, 1, m->name);
	r = kc_db_step(st, err);
	if (r > 0) {
		known = 1;
		ps_id = kc_db_col_int(st, 0);
		if (strcmp(kc_db_col_text(st, 1), meta_sha))
			r = kc_err_set(err, -EEXIST,
				       "patchset '%s' is already deployed with other content",
				       m->name);
	}
	kc_db_finalize(st);
	if (r < 0)
		goto out;
	if (!known) {
		r = kc_db_query_int(ep->db, &ps_id, err,
				    "INSERT INTO patchsets (name, product, released, description,"
				    " meta_sha256, created, origin) VALUES (?, ?, ?, ?, ?, ?, ?)"
				    " RETURNING id",
				    "ttittit", m->name, kc_patchset_product_name(m->product),
				    m->released, m->description, meta_sha, ep->now(), origin);
		for (size_t i = 0; r > 0 && i < m->npatches; i++) {
			const struct kc_patchset_patch *p = &m->patches[i];
			char *custom = entry_custom(m, p, origin);
			if (!custom) {
				r = kc_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			r = kc_db_run(ep->db, err,
				      "INSERT INTO patches (patchset_id, file, sha256, length,"
				      " build_id, kernel_id, level, custom)"
				      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				      "ittittit", ps_id, p->file, p->sha256, (int64_t)p->length,
				      p->build_id ? p->build_id : "",
				      p->kernel_id ? p->kernel_id : "", (int64_t)p->level, custom);
			free(custom);
			if (r >= 0)
				r = 1;
		}
		if (r < 0)
			goto out;
	}
	r = kc_ep_ps_set_state(ep, feed_id, ps_id, disabled ? "disabled" : "enabled", err);
	if (r >= 0 && m->product == KC_PATCHSET_KERNEL)
		r = kc_ep_servers_reassess(ep, err);
out:
	return kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
}

/* Steps 2 to 4 for an archive that passed the reader. */
int kc_ep_deploy_ps(struct kc_ep *ep, const struct kc_patchset *ps, const char *product,
		    const char *feed, int disabled, const char *origin, char *name,
		    struct kc_err *err)
{
	const struct kc_patchset_meta *m = kc_patchset_meta(ps);
	unsigned char sha[KC_TRUST_SHA256_BYTES];
	char meta_sha[2 * KC_TRUST_SHA256_BYTES + 1];
	const void *json;
	size_t jlen;
	int r;

	if (!feed)
		feed = "main";
	{
		struct kc_ep_feed f;
		r = kc_ep_feed_get(ep, feed, &f, err); /* before any blob is written */
		if (r < 0)
			return r;
	}
	if (product && strcmp(product, kc_patchset_product_name(m->product)))
		return kc_err_set(err, -EINVAL, "'%s' is a %s patchset, not %s", m->name,
				  kc_patchset_product_name(m->product), product);
	for (size_t i = 0; i < m->npatches; i++) {
		struct kc_trust_target t = {0};
		char path[KC_TRUST_PATH_MAX + 1];
		size_t len;
		const void *data = kc_patchset_patch_data(ps, i, &len);

		if (!data)
			return kc_err_set(err, -EIO, "patchset '%s': no data for patch %zu",
					  m->name, i);
		r = kc_trust_blob_put(ep->repo_dir, data, len, &t, path, err);
		if (r < 0)
			return kc_err_prefix(err, "patchset '%s'", m->name);
		if (strcmp(path + strlen("blobs/"), m->patches[i].sha256))
			return kc_err_set(err, -EILSEQ,
					  "patchset '%s': '%s' does not match its sha256", m->name,
					  m->patches[i].file);
	}
	json = kc_patchset_json(ps, &jlen);
	kc_trust_sha256(json, jlen, sha);
	kc_trust_sha256_hex(sha, meta_sha);
	r = store_rows(ep, m, meta_sha, feed, disabled, origin, err);
	if (r < 0)
		return r;
	if (name)
		snprintf(name, KC_EP_NAME_MAX + 1, "%s", m->name);
	return kc_ep_publish(ep, err);
}

int kc_ep_deploy(struct kc_ep *ep, const char *path, const char *product, const char *feed,
		 int disabled, char *name, struct kc_err *err)
{
	struct kc_patchset *ps = NULL;
	int r = kc_patchset_open(path, NULL, NULL, &ps, err);

	if (r < 0)
		return r;
	r = kc_ep_deploy_ps(ep, ps, product, feed, disabled, NULL, name, err);
	kc_patchset_free(ps);
	return r;
}

int kc_ep_deploy_mem(struct kc_ep *ep, const void *buf, size_t len, const char *product,
		     const char *feed, int disabled, char *name, struct kc_err *err)
{
	struct kc_patchset *ps = NULL;
	int r = kc_patchset_open_mem(buf, len, NULL, NULL, &ps, err);

	if (r < 0)
		return r;
	r = kc_ep_deploy_ps(ep, ps, product, feed, disabled, NULL, name, err);
	kc_patchset_free(ps);
	return r;
}
