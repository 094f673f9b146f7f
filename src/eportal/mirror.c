// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mirroring: this eportal follows an upstream eportal (the vendor's patch
 * source) through the upstream's signed metadata, exactly as an agent would:
 * a trust state in DIR/upstream (anchored on the upstream's root public key),
 * a TUF update of feed "main" per product, then every entry's blob fetched and
 * checked against its signed length and sha256. Entries are grouped into
 * patchsets by their custom "patchset" field and stored as patchsets that no
 * feed serves yet: feed policy (update, auto-update) decides when they are
 * enabled. Nothing is stored for a patchset until all of its blobs verified.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "eportal/model.h"
#include "kcare/http.h"
#include "kcare/patchset.h"
#include "kcare/trust.h"

#define FETCH_TIMEOUT 120

/*
 * kc_trust_fetch_fn through the agents' own HTTP client (kcare/http.h), so
 * the mirror honours the same proxies (the environment's) and limits.
 */
static int fetch(void *ctx, const char *name, size_t max_len, unsigned char **buf, size_t *len,
		 struct kc_err *err)
{
	int r = kc_http_repo_fetch(ctx, name, max_len, buf, len, err);

	return r < 0 ? kc_err_prefix(err, "upstream") : r;
}

static int state_dir(struct kc_ep *ep, char *buf, size_t sz)
{
	return (size_t)snprintf(buf, sz, "%s/upstream", ep->dir) < sz ? 0 : -ENAMETOOLONG;
}

int kc_ep_mirror_set(struct kc_ep *ep, const char *url, const char *root_pub_path,
		     struct kc_err *err)
{
	struct kc_trust_pubkey pub;
	char dir[4096], base[1024];
	size_t n = strlen(url);
	int r;

	if ((strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) || n < 9 ||
	    n > sizeof(base) - 2 || !kc_ep_text_ok(url, sizeof(base) - 2) || strchr(url, ' '))
		return kc_err_set(err, -EINVAL,
				  "invalid upstream url '%.200s' (http:// or https://)", url);
	snprintf(base, sizeof(base), "%s%s", url, url[n - 1] == '/' ? "" : "/");
	r = kc_trust_pubkey_load(root_pub_path, &pub, err);
	if (r < 0)
		return kc_err_prefix(err, "upstream root key");
	r = state_dir(ep, dir, sizeof(dir));
	if (r < 0)
		return kc_err_set(err, r, "path too long");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return kc_err_set(err, -errno, "cannot create '%s': %s", dir, strerror(errno));
	/* a new upstream starts trust afresh from its own root key */
	r = kc_trust_client_reset(dir, err);
	if (r == 0)
		r = kc_trust_client_import_key(dir, &pub, err);
	if (r == 0)
		r = kc_ep_setting_set(ep, "upstream_url", base, err);
	return r;
}

struct group {
	char name[KC_EP_NAME_MAX + 1];
	int64_t released;
	size_t first, n; /* indexes into the sorted target array */
};

static const char *custom_str(const struct kc_trust_target *t, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(t->custom, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t custom_int(const struct kc_trust_target *t, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(t->custom, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

/* Stores one verified patchset (blobs first, then the rows in one transaction). */
static int store_group(struct kc_ep *ep, const char *product, const char *origin,
		       const struct kc_trust_target *const *ts, size_t n, unsigned char **blobs,
		       size_t *lens, struct kc_err *err)
{
	unsigned char sha[KC_TRUST_SHA256_BYTES];
	char meta_sha[2 * KC_TRUST_SHA256_BYTES + 1], path[KC_TRUST_PATH_MAX + 1];
	int64_t r, ps_id = 0;
	const char *name = custom_str(ts[0], "patchset");
	size_t cat_len = n * 64;
	char *cat = calloc(1, cat_len + 1);

	if (!cat)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct kc_trust_target t = {0};
		char hex[65];
		r = kc_trust_blob_put(ep->repo_dir, blobs[i], lens[i], &t, path, err);
		if (r < 0) {
			free(cat);
			return (int)r;
		}
		memcpy(cat + 64 * i, kc_trust_sha256_hex(ts[i]->sha256, hex), 64);
	}
	/* a mirrored patchset has no patchset.json: its identity is its entries */
	kc_trust_sha256(cat, cat_len, sha);
	free(cat);
	kc_trust_sha256_hex(sha, meta_sha);
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_db_query_int(
	    ep->db, &ps_id, err,
	    "INSERT INTO patchsets (name, product, released, description, meta_sha256,"
	    " created, origin) VALUES (?, ?, ?, '', ?, ?, ?) RETURNING id",
	    "ttitit", name, product, custom_int(ts[0], "released"), meta_sha, ep->now(), origin);
	for (size_t i = 0; r > 0 && i < n; i++) {
		const struct kc_trust_target *t = ts[i];
		struct json_object *custom = NULL;
		char hex[65];
		json_object_deep_copy(t->custom, &custom, NULL);
		if (!custom) {
			r = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		json_object_object_add(custom, "origin", json_object_new_string(origin));
		r = kc_db_run(ep->db, err,
			      "INSERT INTO patches (patchset_id, file, sha256, length, build_id,"
			      " kernel_id, level, custom) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			      "ittittit", ps_id, custom_str(t, "file") ? custom_str(t, "file") : "",
			      kc_trust_sha256_hex(t->sha256, hex), (int64_t)t->length,
			      custom_str(t, "build_id") ? custom_str(t, "build_id") : "",
			      custom_str(t, "kernel_id") ? custom_str(t, "kernel_id") : "",
			      custom_int(t, "level"),
			      json_object_to_json_string_ext(custom, JSON_C_TO_STRING_PLAIN));
		json_object_put(custom);
		if (r >= 0)
			r = 1;
	}
	return kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
}

static int known(struct kc_ep *ep, const char *name, struct kc_err *err)
{
	int64_t id = 0;
	int r = kc_db_begin(ep->db, 0, err);

	if (r < 0)
		return r;
	r = kc_db_query_int(ep->db, &id, err, "SELECT id FROM patchsets WHERE name = ?", "t", name);
	return kc_ep_txn_end(ep->db, r, err);
}

static int cmp_target(const void *a, const void *b)
{
	const struct kc_trust_target *x = *(const struct kc_trust_target *const *)a;
	const struct kc_trust_target *y = *(const struct kc_trust_target *const *)b;
	const char *px = custom_str(x, "patchset"), *py = custom_str(y, "patchset");

	return strcmp(px ? px : "", py ? py : "");
}

/* One product: verified entries of upstream main, grouped, new groups stored. */
static int mirror_product(struct kc_ep *ep, struct kc_trust_client *c, struct kc_http_repo *repo,
			  const char *product, const char *origin, int64_t *added,
			  struct kc_err *err)
{
	const struct kc_trust_target *targets, **sorted = NULL;
	enum kc_patchset_product pp;
	size_t n = 0;
	int r;

	r = kc_trust_client_feed(c, "main", product, ep->now(), &targets, &n, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0 || n == 0)
		return r;
	if (kc_patchset_product_parse(product, &pp) < 0)
		return kc_err_set(err, -EINVAL, "unknown product '%s'", product);
	sorted = calloc(n, sizeof(*sorted));
	if (!sorted)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		sorted[i] = &targets[i];
	qsort(sorted, n, sizeof(*sorted), cmp_target);
	for (size_t i = 0; i < n && r >= 0;) {
		const char *name = custom_str(sorted[i], "patchset");
		size_t j = i;
		while (j < n && name && custom_str(sorted[j], "patchset") &&
		       !strcmp(custom_str(sorted[j], "patchset"), name))
			j++;
		if (!name || kc_patchset_check_name(name, pp, NULL) < 0 ||
		    custom_int(sorted[i], "released") < 0) {
			r = kc_err_set(err, -EBADMSG, "upstream entry '%s' has no valid patchset",
				       sorted[i]->path);
			break;
		}
		r = known(ep, name, err);
		if (r == 0) {
			unsigned char **blobs = calloc(j - i, sizeof(*blobs));
			size_t *lens = calloc(j - i, sizeof(*lens));
			r = blobs && lens ? 0 : kc_err_set(err, -ENOMEM, "out of memory");
			for (size_t k = 0; r >= 0 && k < j - i; k++)
				r = kc_trust_client_fetch_target(fetch, repo, sorted[i + k],
								 &blobs[k], &lens[k], err);
			if (r >= 0)
				r = store_group(ep, product, origin, sorted + i, j - i, blobs, lens,
						err);
			if (r >= 0)
				(*added)++;
			for (size_t k = 0; blobs && k < j - i; k++)
				free(blobs[k]);
			free(blobs);
			free(lens);
			if (r < 0)
				kc_err_prefix(err, "upstream patchset '%s'", name);
		}
		i = j;
	}
	free(sorted);
	return r < 0 ? r : 0;
}

int kc_ep_mirror_fetch(struct kc_ep *ep, const char *product, int64_t *added, struct kc_err *err)
{
	struct kc_trust_feed_ref wanted[4];
	struct kc_trust_client *c = NULL;
	struct kc_http_opts ho = {.timeout = FETCH_TIMEOUT, .user_agent = "eportal-mirror"};
	struct kc_http_repo repo = {0};
	char base[1024], dir[4096];
	size_t nw = 0;
	int r;

	*added = 0;
	r = kc_ep_setting_get(ep, "upstream_url", base, sizeof(base), err);
	if (r < 0)
		return r;
	if (!base[0])
		return kc_err_set(err, -ENOENT, "no upstream is set (kc.eportal upstream set)");
	for (int i = 0; i < 4; i++)
		if (!product || !strcmp(product, kc_ep_products[i]))
			wanted[nw++] = (struct kc_trust_feed_ref){"main", kc_ep_products[i]};
	if (nw == 0)
		return kc_err_set(err, -EINVAL, "unknown product '%.40s'", product);
	state_dir(ep, dir, sizeof(dir));
	repo.base_url = base;
	r = kc_http_new(&ho, &repo.http, err);
	if (r == 0)
		r = kc_trust_client_open(dir, &c, err);
	if (r == 0)
		r = kc_trust_client_update(c, fetch, &repo, wanted, nw, ep->now(), err);
	for (size_t i = 0; r == 0 && i < nw; i++)
		r = mirror_product(ep, c, &repo, wanted[i].product, base, added, err);
	kc_trust_client_free(c);
	kc_http_free(repo.http);
	if (r < 0)
		kc_err_prefix(err, "mirror of '%s'", base);
	return r;
}
