// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The signed envelope: {"payload_type", "payload" (base64 of the exact
 * payload bytes), "signatures": [{"keyid", "sig"}]}. Signatures cover a
 * pre-authentication encoding of type and payload, so no JSON has to be
 * canonicalised and a payload of one role cannot pass as another's.
 * The payload is handed on only after a threshold of valid signatures.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "trust-int.h"

const char *kc_trust_payload_type(enum kc_trust_role role)
{
	static const char *const types[KC_TRUST_NROLES] = {
	    [KC_TRUST_ROOT] = "application/vnd.kcare.root+json",
	    [KC_TRUST_TIMESTAMP] = "application/vnd.kcare.timestamp+json",
	    [KC_TRUST_SNAPSHOT] = "application/vnd.kcare.snapshot+json",
	    [KC_TRUST_TARGETS] = "application/vnd.kcare.targets+json",
	};

	if ((unsigned int)role >= KC_TRUST_NROLES)
		return NULL;
	return types[role];
}

/* "KCARE1 <len(type)> <type> <len(payload)> <payload>", lengths in decimal. */
static unsigned char *pae(const char *type, const unsigned char *payload, size_t len,
			  size_t *out_len)
{
	char head[64];
	size_t tlen = strlen(type);
	int h1 = snprintf(head, sizeof(head), "KCARE1 %zu ", tlen);
	char mid[32];
	int h2 = snprintf(mid, sizeof(mid), " %zu ", len);
	size_t total = (size_t)h1 + tlen + (size_t)h2 + len;
	unsigned char *buf = malloc(total ? total : 1);

	if (!buf)
		return NULL;
	memcpy(buf, head, (size_t)h1);
	memcpy(buf + h1, type, tlen);
	memcpy(buf + h1 + tlen, mid, (size_t)h2);
	if (len)
		memcpy(buf + h1 + tlen + h2, payload, len);
	*out_len = total;
	return buf;
}

void kc_trust_envelope_release(struct kc_trust_envelope *env)
{
	if (!env)
		return;
	free(env->payload_type);
	free(env->payload);
	free(env->sigs);
	memset(env, 0, sizeof(*env));
}

static int bad(struct kc_err *err, const char *what)
{
	return kc_err_set(err, -EBADMSG, "malformed signed file: %s", what);
}

int kc_trust_envelope_parse(const void *buf, size_t len, struct kc_trust_envelope *env,
			    struct kc_err *err)
{
	struct json_object *doc = NULL, *sigs, *v;
	const char *type, *payload;
	size_t nsigs;
	int rc;

	memset(env, 0, sizeof(*env));
	rc = kc_trust_json_parse(buf, len, &doc);
	if (rc == -EFBIG)
		return kc_err_set(err, rc, "signed file too large");
	if (rc == -ENOMEM)
		return kc_err_set(err, rc, "out of memory");
	if (rc)
		return bad(err, "not a JSON object");
	if (json_object_object_length(doc) != 3) {
		rc = bad(err, "expected exactly payload_type, payload and signatures");
		goto out;
	}
	type = kc_trust_json_str(doc, "payload_type");
	payload = kc_trust_json_str(doc, "payload");
	if (!type || !payload) {
		rc = bad(err, "payload_type and payload must be strings");
		goto out;
	}
	if (!json_object_object_get_ex(doc, "signatures", &sigs) ||
	    !json_object_is_type(sigs, json_type_array)) {
		rc = bad(err, "signatures must be an array");
		goto out;
	}
	nsigs = json_object_array_length(sigs);
	if (nsigs > KC_TRUST_MAX_SIGS) {
		rc = bad(err, "too many signatures");
		goto out;
	}
	env->payload_type = strdup(type);
	env->sigs = calloc(nsigs ? nsigs : 1, sizeof(*env->sigs));
	if (!env->payload_type || !env->sigs) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = kc_trust_unb64(payload, strlen(payload), &env->payload, &env->payload_len);
	if (rc == -ENOMEM) {
		rc = kc_err_set(err, rc, "out of memory");
		goto out;
	}
	if (rc) {
		rc = bad(err, "payload is not base64");
		goto out;
	}
	for (size_t i = 0; i < nsigs; i++) {
		struct json_object *s = json_object_array_get_idx(sigs, i);
		const char *keyid, *sig;

		if (!json_object_is_type(s, json_type_object) ||
		    json_object_object_length(s) != 2) {
			rc = bad(err, "a signature must be {keyid, sig}");
			goto out;
		}
		keyid = kc_trust_json_str(s, "keyid");
		sig = kc_trust_json_str(s, "sig");
		if (!keyid || !sig || !kc_trust_keyid_ok(keyid)) {
			rc = bad(err, "a signature has no valid keyid or sig");
			goto out;
		}
		if (kc_trust_unb64_exact(sig, strlen(sig), env->sigs[i].sig, KC_TRUST_SIG_BYTES)) {
			rc = bad(err, "a signature is not 64 bytes of base64");
			goto out;
		}
		memcpy(env->sigs[i].keyid, keyid, KC_TRUST_KEYID_LEN + 1);
	}
	env->nsigs = nsigs;
	(void)v;
	rc = 0;
out:
	json_object_put(doc);
	if (rc)
		kc_trust_envelope_release(env);
	return rc;
}

int kc_trust_envelope_verify(const struct kc_trust_envelope *env,
			     const struct kc_trust_rolekeys *keys, const char *what,
			     struct kc_err *err)
{
	size_t mlen;
	unsigned char *msg;
	unsigned int valid = 0;

	if (sodium_init() < 0)
		return kc_err_set(err, -EIO, "cannot initialise libsodium");
	if (keys->threshold == 0)
		return kc_err_set(err, -EKEYREJECTED, "'%s': role has a zero threshold", what);
	msg = pae(env->payload_type, env->payload, env->payload_len, &mlen);
	if (!msg)
		return kc_err_set(err, -ENOMEM, "out of memory");
	/* each key counts once however many signatures name it */
	for (size_t k = 0; k < keys->nkeys; k++) {
		const struct kc_trust_pubkey *pk = &keys->keys[k];

		for (size_t s = 0; s < env->nsigs; s++) {
			if (strcmp(env->sigs[s].keyid, pk->keyid) != 0)
				continue;
			if (crypto_sign_verify_detached(env->sigs[s].sig, msg, mlen, pk->pk) == 0) {
				valid++;
				break;
			}
		}
	}
	free(msg);
	if (valid < keys->threshold)
		return kc_err_set(err, -EKEYREJECTED,
				  "'%s': %u valid signature(s) of the expected keys, %u needed",
				  what, valid, keys->threshold);
	return 0;
}

int kc_trust_envelope_sign(enum kc_trust_role role, const void *payload, size_t len,
			   const struct kc_trust_key *const *keys, size_t nkeys, char **out,
			   size_t *out_len, struct kc_err *err)
{
	const char *type = kc_trust_payload_type(role);
	struct json_object *doc = NULL, *sigs;
	unsigned char *msg = NULL;
	char *b64 = NULL;
	size_t mlen;
	int rc = -ENOMEM;

	KC_BUG_ON(!type || nkeys == 0 || nkeys > KC_TRUST_MAX_SIGS);
	if (sodium_init() < 0)
		return kc_err_set(err, -EIO, "cannot initialise libsodium");
	msg = pae(type, payload, len, &mlen);
	doc = json_object_new_object();
	sigs = json_object_new_array();
	b64 = kc_trust_b64(payload, len);
	if (!msg || !doc || !sigs || !b64) {
		json_object_put(sigs);
		goto out;
	}
	if (json_object_object_add(doc, "payload_type", json_object_new_string(type)) ||
	    json_object_object_add(doc, "payload", json_object_new_string(b64)) ||
	    json_object_object_add(doc, "signatures", sigs))
		goto out;
	for (size_t i = 0; i < nkeys; i++) {
		unsigned char sig[KC_TRUST_SIG_BYTES];
		struct json_object *s = json_object_new_object();
		char *sb;

		crypto_sign_detached(sig, NULL, msg, mlen, keys[i]->sk);
		sb = kc_trust_b64(sig, sizeof(sig));
		if (!s || !sb || json_object_array_add(sigs, s)) {
			json_object_put(s);
			free(sb);
			goto out;
		}
		if (json_object_object_add(s, "keyid",
					   json_object_new_string(keys[i]->pub.keyid)) ||
		    json_object_object_add(s, "sig", json_object_new_string(sb))) {
			free(sb);
			goto out;
		}
		free(sb);
	}
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!text)
		goto out;
	*out = strdup(text);
	if (!*out)
		goto out;
	*out_len = strlen(*out);
	rc = 0;
out:
	json_object_put(doc);
	free(msg);
	free(b64);
	if (rc)
		return kc_err_set(err, rc, "out of memory signing %s metadata",
				  kc_trust_role_name(role));
	return 0;
}

int kc_trust_open_signed(const void *buf, size_t len, enum kc_trust_role role,
			 const struct kc_trust_rolekeys *keys, const char *what,
			 struct kc_trust_envelope *env, struct kc_err *err)
{
	int rc = kc_trust_envelope_parse(buf, len, env, err);

	if (rc)
		return kc_err_prefix(err, "'%s'", what);
	if (strcmp(env->payload_type, kc_trust_payload_type(role)) != 0) {
		rc = kc_err_set(err, -EBADMSG, "'%s': payload type is not %s metadata", what,
				kc_trust_role_name(role));
		goto fail;
	}
	rc = kc_trust_envelope_verify(env, keys, what, err);
	if (rc)
		goto fail;
	return 0;
fail:
	kc_trust_envelope_release(env);
	return rc;
}
