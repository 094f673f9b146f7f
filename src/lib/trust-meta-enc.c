// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Encoding the payloads the writer signs. The exact bytes produced here
 * are what gets signed and served (the envelope carries them in base64),
 * so no canonical form is needed; json-c's plain output is used as is.
 * Decoding is in trust-meta.c.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "trust-int.h"

/* Adds @val to @obj under @key; consumes @val even on failure. */
static int add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static int add_str(struct json_object *obj, const char *key, const char *s)
{
	return add(obj, key, json_object_new_string(s));
}

static int add_int(struct json_object *obj, const char *key, uint64_t v)
{
	if (v > INT64_MAX)
		return -EOVERFLOW;
	return add(obj, key, json_object_new_int64((int64_t)v));
}

static int add_sha(struct json_object *obj, const char *key, const unsigned char *sha)
{
	char hex[2 * KC_TRUST_SHA256_BYTES + 1];

	return add_str(obj, key, kc_trust_sha256_hex(sha, hex));
}

static struct json_object *header(enum kc_trust_role role, uint64_t version, int64_t expires)
{
	struct json_object *doc = json_object_new_object();
	char when[32];

	if (!doc)
		return NULL;
	kc_trust_time_fmt(expires, when);
	if (add_str(doc, "_type", kc_trust_role_name(role)) ||
	    add_str(doc, "spec_version", KC_TRUST_SPEC_VERSION) ||
	    add_int(doc, "version", version) || add_str(doc, "expires", when)) {
		json_object_put(doc);
		return NULL;
	}
	return doc;
}

/* Serialises and consumes @doc. */
static int finish(struct json_object *doc, int rc, char **out, size_t *len, const char *role,
		  struct kc_err *err)
{
	const char *text = NULL;

	if (!rc) {
		text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE);
		*out = text ? strdup(text) : NULL;
		if (!*out)
			rc = -ENOMEM;
		else
			*len = strlen(*out);
	}
	json_object_put(doc);
	if (rc)
		return kc_err_set(err, rc, "cannot encode %s metadata: %s", role, strerror(-rc));
	return 0;
}

static int metaref(struct json_object *parent, const char *key, const struct kc_trust_metaref *m)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return -ENOMEM;
	if (add_int(o, "version", m->version) || add_int(o, "length", m->length) ||
	    add_sha(o, "sha256", m->sha256)) {
		json_object_put(o);
		return -ENOMEM;
	}
	return add(parent, key, o);
}

int kc_trust_root_encode(const struct kc_trust_root_desc *desc, uint64_t version, char **out,
			 size_t *len, struct kc_err *err)
{
	struct json_object *doc = header(KC_TRUST_ROOT, version, desc->expires), *keys, *roles;
	int rc = -ENOMEM;

	if (!doc)
		return kc_err_set(err, -ENOMEM, "out of memory");
	keys = json_object_new_object();
	roles = json_object_new_object();
	if (add(doc, "keys", keys) || add(doc, "roles", roles))
		goto out;
	for (int r = 0; r < KC_TRUST_NROLES; r++) {
		const struct kc_trust_role_keys *rk = &desc->roles[r];
		struct json_object *role = json_object_new_object(), *ids = json_object_new_array();

		if (add(roles, kc_trust_role_name(r), role) || add(role, "keyids", ids) ||
		    add_int(role, "threshold", rk->threshold))
			goto out;
		for (size_t i = 0; i < rk->nkeys; i++) {
			struct kc_trust_pubkey pub = rk->keys[i];
			struct json_object *k;
			char *b64;

			/* ids are recomputed: a stale keyid in the caller's struct cannot leak out
			 */
			kc_trust_pubkey_set_keyid(&pub);
			if (json_object_array_add(ids, json_object_new_string(pub.keyid)))
				goto out;
			if (json_object_object_get_ex(keys, pub.keyid, NULL))
				continue;
			k = json_object_new_object();
			b64 = kc_trust_b64(pub.pk, sizeof(pub.pk));
			if (!b64 || add(keys, pub.keyid, k) || add_str(k, "keytype", "ed25519") ||
			    add_str(k, "public", b64)) {
				free(b64);
				goto out;
			}
			free(b64);
		}
	}
	rc = 0;
out:
	return finish(doc, rc, out, len, "root", err);
}

int kc_trust_timestamp_encode(const struct kc_trust_timestamp *ts, char **out, size_t *len,
			      struct kc_err *err)
{
	struct json_object *doc = header(KC_TRUST_TIMESTAMP, ts->version, ts->expires);

	if (!doc)
		return kc_err_set(err, -ENOMEM, "out of memory");
	return finish(doc, metaref(doc, "snapshot", &ts->snapshot), out, len, "timestamp", err);
}

int kc_trust_snapshot_encode(const struct kc_trust_snapshot *snap, char **out, size_t *len,
			     struct kc_err *err)
{
	struct json_object *doc = header(KC_TRUST_SNAPSHOT, snap->version, snap->expires), *meta;
	int rc;

	if (!doc)
		return kc_err_set(err, -ENOMEM, "out of memory");
	meta = json_object_new_object();
	rc = add(doc, "meta", meta);
	for (size_t i = 0; !rc && i < snap->nfeeds; i++)
		rc = metaref(meta, snap->feeds[i].name, &snap->feeds[i].meta);
	return finish(doc, rc, out, len, "snapshot", err);
}

int kc_trust_targets_encode(const struct kc_trust_feed_desc *fd, uint64_t version, int64_t expires,
			    char **out, size_t *len, struct kc_err *err)
{
	struct json_object *doc = header(KC_TRUST_TARGETS, version, expires), *list;
	int rc;

	if (!doc)
		return kc_err_set(err, -ENOMEM, "out of memory");
	list = json_object_new_array();
	rc = add_str(doc, "feed", fd->feed);
	if (!rc)
		rc = add_str(doc, "product", fd->product);
	if (!rc)
		rc = add(doc, "targets", list);
	else
		json_object_put(list);
	for (size_t i = 0; !rc && i < fd->ntargets; i++) {
		const struct kc_trust_target *t = &fd->targets[i];
		struct json_object *o = json_object_new_object();

		rc = json_object_array_add(list, o) ? -ENOMEM : 0;
		if (rc) {
			json_object_put(o);
			break;
		}
		rc = add_str(o, "path", t->path);
		if (!rc)
			rc = add_int(o, "length", t->length);
		if (!rc)
			rc = add_sha(o, "sha256", t->sha256);
		/* the caller keeps its reference: take one of our own */
		if (!rc)
			rc = add(o, "custom",
				 t->custom ? json_object_get(t->custom) : json_object_new_object());
	}
	return finish(doc, rc, out, len, "targets", err);
}
