// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Decoding the payloads of the four roles into plain structs. The input
 * may be hostile (a root is decoded before its self-signature can be
 * checked, and the fuzz targets feed anything), so every field is type
 * and range checked; unknown fields are ignored for forward compatibility.
 * Encoding (what the writer emits) is in trust-meta-enc.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "trust-int.h"

static int bad(struct kc_err *err, const char *role, const char *what)
{
	return kc_err_set(err, -EBADMSG, "malformed %s metadata: %s", role, what);
}

static struct json_object *member(struct json_object *obj, const char *key, enum json_type type)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

/* A JSON integer in [min, INT64_MAX]. */
static int get_uint(struct json_object *obj, const char *key, uint64_t min, uint64_t *out)
{
	struct json_object *v = member(obj, key, json_type_int);
	int64_t x;

	if (!v)
		return -EBADMSG;
	x = json_object_get_int64(v);
	if (x < 0 || (uint64_t)x < min)
		return -EBADMSG;
	*out = (uint64_t)x;
	return 0;
}

static int get_sha(struct json_object *obj, const char *key, unsigned char *sha)
{
	const char *s = kc_trust_json_str(obj, key);

	if (!s || kc_trust_unhex(s, sha, KC_TRUST_SHA256_BYTES))
		return -EBADMSG;
	return 0;
}

/* _type, spec_version, version and expires: the header every role shares. */
static int common(struct json_object *doc, enum kc_trust_role role, uint64_t *version,
		  int64_t *expires, struct kc_err *err)
{
	const char *name = kc_trust_role_name(role);
	const char *type = kc_trust_json_str(doc, "_type");
	const char *spec = kc_trust_json_str(doc, "spec_version");
	const char *exp = kc_trust_json_str(doc, "expires");

	if (!type || strcmp(type, name) != 0)
		return bad(err, name, "_type does not name the role");
	if (!spec || strcmp(spec, KC_TRUST_SPEC_VERSION) != 0)
		return bad(err, name, "unsupported spec_version");
	if (get_uint(doc, "version", 1, version))
		return bad(err, name, "version must be a positive integer");
	if (!exp || kc_trust_time_parse(exp, expires))
		return bad(err, name, "expires must be YYYY-MM-DDTHH:MM:SSZ");
	return 0;
}

static int parse_doc(const unsigned char *payload, size_t len, const char *role,
		     struct json_object **doc, struct kc_err *err)
{
	int rc = kc_trust_json_parse(payload, len, doc);

	if (rc == -ENOMEM)
		return kc_err_set(err, rc, "out of memory");
	if (rc)
		return bad(err, role, "not a JSON object");
	return 0;
}

static int metaref(struct json_object *obj, struct kc_trust_metaref *m)
{
	if (!json_object_is_type(obj, json_type_object) ||
	    get_uint(obj, "version", 1, &m->version) || get_uint(obj, "length", 0, &m->length) ||
	    get_sha(obj, "sha256", m->sha256))
		return -EBADMSG;
	return 0;
}

void kc_trust_root_release(struct kc_trust_root *root)
{
	if (!root)
		return;
	for (int r = 0; r < KC_TRUST_NROLES; r++)
		free(root->roles[r].keys);
	memset(root, 0, sizeof(*root));
}

/* keys: {"<keyid>": {"keytype": "ed25519", "public": "<base64>"}}; the id must be the key's. */
static int lookup_key(struct json_object *keys, const char *keyid, struct kc_trust_pubkey *pub)
{
	struct json_object *k;
	const char *type, *b64;

	if (!kc_trust_keyid_ok(keyid) || !json_object_object_get_ex(keys, keyid, &k) ||
	    !json_object_is_type(k, json_type_object))
		return -EBADMSG;
	type = kc_trust_json_str(k, "keytype");
	b64 = kc_trust_json_str(k, "public");
	if (!type || strcmp(type, "ed25519") != 0 || !b64 ||
	    kc_trust_unb64_exact(b64, strlen(b64), pub->pk, KC_TRUST_KEY_BYTES))
		return -EBADMSG;
	kc_trust_pubkey_set_keyid(pub);
	if (strcmp(pub->keyid, keyid) != 0)
		return -EBADMSG;
	return 0;
}

int kc_trust_root_decode(const unsigned char *payload, size_t len, struct kc_trust_root *root,
			 struct kc_err *err)
{
	struct json_object *doc, *keys, *roles;
	int rc;

	memset(root, 0, sizeof(*root));
	rc = parse_doc(payload, len, "root", &doc, err);
	if (rc)
		return rc;
	rc = common(doc, KC_TRUST_ROOT, &root->version, &root->expires, err);
	if (rc)
		goto out;
	keys = member(doc, "keys", json_type_object);
	roles = member(doc, "roles", json_type_object);
	if (!keys || !roles) {
		rc = bad(err, "root", "keys and roles must be objects");
		goto out;
	}
	for (int r = 0; r < KC_TRUST_NROLES; r++) {
		const char *name = kc_trust_role_name(r);
		struct json_object *role = member(roles, name, json_type_object), *ids;
		struct kc_trust_rolekeys *rk = &root->roles[r];
		uint64_t threshold;
		size_t n;

		ids = role ? member(role, "keyids", json_type_array) : NULL;
		if (!ids || get_uint(role, "threshold", 1, &threshold)) {
			rc = kc_err_set(
			    err, -EBADMSG,
			    "malformed root metadata: role '%s' needs keyids and threshold", name);
			goto out;
		}
		n = json_object_array_length(ids);
		if (n == 0 || n > KC_TRUST_MAX_KEYS || threshold > n) {
			rc = kc_err_set(
			    err, -EBADMSG,
			    "malformed root metadata: role '%s' has %zu keys for threshold %llu",
			    name, n, (unsigned long long)threshold);
			goto out;
		}
		rk->keys = calloc(n, sizeof(*rk->keys));
		if (!rk->keys) {
			rc = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		rk->threshold = (unsigned int)threshold;
		for (size_t i = 0; i < n; i++) {
			struct json_object *id = json_object_array_get_idx(ids, i);

			if (!json_object_is_type(id, json_type_string) ||
			    lookup_key(keys, json_object_get_string(id), &rk->keys[i])) {
				rc = kc_err_set(
				    err, -EBADMSG,
				    "malformed root metadata: role '%s' names a bad key", name);
				goto out;
			}
			for (size_t j = 0; j < i; j++) {
				if (strcmp(rk->keys[j].keyid, rk->keys[i].keyid) == 0) {
					rc = kc_err_set(
					    err, -EBADMSG,
					    "malformed root metadata: role '%s' lists a key twice",
					    name);
					goto out;
				}
			}
		}
		rk->nkeys = n;
	}
	rc = 0;
out:
	json_object_put(doc);
	if (rc)
		kc_trust_root_release(root);
	return rc;
}

int kc_trust_timestamp_decode(const unsigned char *payload, size_t len,
			      struct kc_trust_timestamp *ts, struct kc_err *err)
{
	struct json_object *doc, *snap;
	int rc;

	memset(ts, 0, sizeof(*ts));
	rc = parse_doc(payload, len, "timestamp", &doc, err);
	if (rc)
		return rc;
	rc = common(doc, KC_TRUST_TIMESTAMP, &ts->version, &ts->expires, err);
	if (rc)
		goto out;
	snap = member(doc, "snapshot", json_type_object);
	if (!snap || metaref(snap, &ts->snapshot))
		rc = bad(err, "timestamp", "snapshot needs version, length and sha256");
out:
	json_object_put(doc);
	return rc;
}

void kc_trust_snapshot_release(struct kc_trust_snapshot *snap)
{
	if (!snap)
		return;
	for (size_t i = 0; i < snap->nfeeds; i++)
		free(snap->feeds[i].name);
	free(snap->feeds);
	memset(snap, 0, sizeof(*snap));
}

/* "feeds/<feed>/<product>.json" with valid names; optionally split into the two. */
static bool split_feed_name(const char *name, char *feed, char *product)
{
	char f[KC_TRUST_NAME_MAX + 1], p[KC_TRUST_NAME_MAX + 1];
	const char *rest, *slash;
	size_t flen, plen;

	if (strncmp(name, "feeds/", 6) != 0)
		return false;
	rest = name + 6;
	slash = strchr(rest, '/');
	if (!slash)
		return false;
	flen = (size_t)(slash - rest);
	plen = strlen(slash + 1);
	if (flen == 0 || flen > KC_TRUST_NAME_MAX || plen <= 5 || plen - 5 > KC_TRUST_NAME_MAX ||
	    strcmp(slash + 1 + plen - 5, ".json") != 0)
		return false;
	memcpy(f, rest, flen);
	f[flen] = '\0';
	memcpy(p, slash + 1, plen - 5);
	p[plen - 5] = '\0';
	if (!kc_trust_name_ok(f) || !kc_trust_name_ok(p))
		return false;
	if (feed)
		strcpy(feed, f);
	if (product)
		strcpy(product, p);
	return true;
}

static int snapentry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kc_trust_snapentry *)a)->name,
		      ((const struct kc_trust_snapentry *)b)->name);
}

int kc_trust_snapshot_decode(const unsigned char *payload, size_t len,
			     struct kc_trust_snapshot *snap, struct kc_err *err)
{
	struct json_object *doc, *meta;
	size_t n, i = 0;
	int rc;

	memset(snap, 0, sizeof(*snap));
	rc = parse_doc(payload, len, "snapshot", &doc, err);
	if (rc)
		return rc;
	rc = common(doc, KC_TRUST_SNAPSHOT, &snap->version, &snap->expires, err);
	if (rc)
		goto out;
	meta = member(doc, "meta", json_type_object);
	if (!meta) {
		rc = bad(err, "snapshot", "meta must be an object");
		goto out;
	}
	n = (size_t)json_object_object_length(meta);
	if (n > KC_TRUST_MAX_FEEDS) {
		rc = bad(err, "snapshot", "too many feed files");
		goto out;
	}
	snap->feeds = calloc(n ? n : 1, sizeof(*snap->feeds));
	if (!snap->feeds) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	json_object_object_foreach(meta, key, val)
	{
		struct kc_trust_snapentry *e = &snap->feeds[i];

		if (i >= n || !split_feed_name(key, NULL, NULL) || metaref(val, &e->meta)) {
			rc = bad(err, "snapshot", "a feed entry is malformed");
			goto out;
		}
		e->name = strdup(key);
		if (!e->name) {
			rc = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		snap->nfeeds = ++i;
	}
	qsort(snap->feeds, snap->nfeeds, sizeof(*snap->feeds), snapentry_cmp);
	rc = 0;
out:
	json_object_put(doc);
	if (rc)
		kc_trust_snapshot_release(snap);
	return rc;
}

void kc_trust_targets_release(struct kc_trust_targets *tg)
{
	if (!tg)
		return;
	for (size_t i = 0; i < tg->ntargets; i++) {
		free((char *)tg->targets[i].path);
		json_object_put(tg->targets[i].custom);
	}
	free(tg->targets);
	free(tg->feed);
	free(tg->product);
	json_object_put(tg->doc);
	memset(tg, 0, sizeof(*tg));
}

static int target_decode(struct json_object *obj, struct kc_trust_target *t)
{
	const char *path;
	struct json_object *custom = NULL;

	if (!json_object_is_type(obj, json_type_object))
		return -EBADMSG;
	path = kc_trust_json_str(obj, "path");
	if (!path || !kc_trust_path_ok(path) || get_uint(obj, "length", 0, &t->length) ||
	    get_sha(obj, "sha256", t->sha256))
		return -EBADMSG;
	if (json_object_object_get_ex(obj, "custom", &custom) &&
	    !json_object_is_type(custom, json_type_object))
		return -EBADMSG;
	t->custom = custom ? json_object_get(custom) : json_object_new_object();
	t->path = strdup(path);
	if (!t->custom || !t->path)
		return -ENOMEM;
	return 0;
}

int kc_trust_targets_decode(const unsigned char *payload, size_t len, struct kc_trust_targets *tg,
			    struct kc_err *err)
{
	struct json_object *list;
	const char *feed, *product;
	size_t n;
	int rc;

	memset(tg, 0, sizeof(*tg));
	rc = parse_doc(payload, len, "targets", &tg->doc, err);
	if (rc)
		return rc;
	rc = common(tg->doc, KC_TRUST_TARGETS, &tg->version, &tg->expires, err);
	if (rc)
		goto out;
	feed = kc_trust_json_str(tg->doc, "feed");
	product = kc_trust_json_str(tg->doc, "product");
	list = member(tg->doc, "targets", json_type_array);
	if (!feed || !product || !kc_trust_name_ok(feed) || !kc_trust_name_ok(product) || !list) {
		rc = bad(err, "targets", "feed, product and targets are required");
		goto out;
	}
	tg->feed = strdup(feed);
	tg->product = strdup(product);
	n = json_object_array_length(list);
	if (n > KC_TRUST_MAX_TARGETS) {
		rc = bad(err, "targets", "too many entries");
		goto out;
	}
	tg->targets = calloc(n ? n : 1, sizeof(*tg->targets));
	if (!tg->feed || !tg->product || !tg->targets) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = target_decode(json_object_array_get_idx(list, i), &tg->targets[i]);
		/* counted before the check so that release frees a half-filled entry */
		tg->ntargets = i + 1;
		if (rc == -ENOMEM) {
			rc = kc_err_set(err, rc, "out of memory");
			goto out;
		}
		if (rc) {
			rc = kc_err_set(err, -EBADMSG, "malformed targets metadata: entry %zu", i);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc)
		kc_trust_targets_release(tg);
	return rc;
}

int kc_trust_feed_name(const char *feed, const char *product, char *out, size_t outsz)
{
	if (!kc_trust_name_ok(feed) || !kc_trust_name_ok(product))
		return -EINVAL;
	if ((size_t)snprintf(out, outsz, "feeds/%s/%s.json", feed, product) >= outsz)
		return -ENAMETOOLONG;
	return 0;
}

int kc_trust_feed_vname(const char *feed, const char *product, uint64_t version, char *out,
			size_t outsz)
{
	if (!kc_trust_name_ok(feed) || !kc_trust_name_ok(product))
		return -EINVAL;
	if ((size_t)snprintf(out, outsz, "feeds/%s/%llu.%s.json", feed, (unsigned long long)version,
			     product) >= outsz)
		return -ENAMETOOLONG;
	return 0;
}

/* Same threshold and the same set of keys (order does not matter). */
bool kc_trust_rolekeys_equal(const struct kc_trust_rolekeys *a, const struct kc_trust_rolekeys *b)
{
	if (a->threshold != b->threshold || a->nkeys != b->nkeys)
		return false;
	for (size_t i = 0; i < a->nkeys; i++) {
		bool found = false;

		for (size_t j = 0; j < b->nkeys && !found; j++)
			found = strcmp(a->keys[i].keyid, b->keys[j].keyid) == 0;
		if (!found)
			return false;
	}
	return true;
}

int kc_trust_root_verify(const void *buf, size_t len, const struct kc_trust_root *prev,
			 struct kc_trust_root *root, struct kc_err *err)
{
	struct kc_trust_envelope env;
	char what[48];
	int rc;

	if (prev)
		snprintf(what, sizeof(what), "%llu.root.json",
			 (unsigned long long)prev->version + 1);
	else
		snprintf(what, sizeof(what), "root.json");
	/* a rotation must first satisfy the keys already trusted */
	if (prev)
		rc = kc_trust_open_signed(buf, len, KC_TRUST_ROOT, &prev->roles[KC_TRUST_ROOT],
					  what, &env, err);
	else
		rc = kc_trust_envelope_parse(buf, len, &env, err);
	if (rc)
		return prev ? rc : kc_err_prefix(err, "'%s'", what);
	if (strcmp(env.payload_type, kc_trust_payload_type(KC_TRUST_ROOT)) != 0) {
		rc = kc_err_set(err, -EBADMSG, "'%s': payload type is not root metadata", what);
		goto out;
	}
	rc = kc_trust_root_decode(env.payload, env.payload_len, root, err);
	if (rc) {
		kc_err_prefix(err, "'%s'", what);
		goto out;
	}
	rc = kc_trust_envelope_verify(&env, &root->roles[KC_TRUST_ROOT], what, err);
	if (rc)
		goto out_root;
	if (prev && root->version <= prev->version) {
		rc = kc_err_set(err, -ESTALE, "'%s': root version %llu is not newer than %llu",
				what, (unsigned long long)root->version,
				(unsigned long long)prev->version);
		goto out_root;
	}
	if (prev && root->version != prev->version + 1) {
		rc = kc_err_set(err, -EILSEQ, "'%s': holds root version %llu", what,
				(unsigned long long)root->version);
		goto out_root;
	}
	rc = 0;
	goto out;
out_root:
	kc_trust_root_release(root);
out:
	kc_trust_envelope_release(&env);
	return rc;
}
