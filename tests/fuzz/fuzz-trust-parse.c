// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the parsers of signed metadata: the envelope, the
 * payload decoders of all four roles (fed the input itself and, when the
 * input is an envelope, its payload), root self-verification, key lines
 * and times. Beyond "no crash, no leak": whatever a decoder accepts must
 * encode and decode again to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "kcare/trust.h"
#include "lib/trust-int.h"

static void check_timestamp(const struct kc_trust_timestamp *a)
{
	struct kc_trust_timestamp b;
	char *out;
	size_t len;

	if (kc_trust_timestamp_encode(a, &out, &len, NULL))
		abort();
	if (kc_trust_timestamp_decode((unsigned char *)out, len, &b, NULL) ||
	    memcmp(a, &b, sizeof(b)) != 0)
		abort();
	free(out);
}

static void check_snapshot(const struct kc_trust_snapshot *a)
{
	struct kc_trust_snapshot b;
	char *out;
	size_t len;

	if (kc_trust_snapshot_encode(a, &out, &len, NULL))
		abort();
	if (kc_trust_snapshot_decode((unsigned char *)out, len, &b, NULL) ||
	    b.version != a->version || b.expires != a->expires || b.nfeeds != a->nfeeds)
		abort();
	for (size_t i = 0; i < a->nfeeds; i++)
		if (strcmp(a->feeds[i].name, b.feeds[i].name) ||
		    memcmp(&a->feeds[i].meta, &b.feeds[i].meta, sizeof(a->feeds[i].meta)))
			abort();
	kc_trust_snapshot_release(&b);
	free(out);
}

static void check_root(const struct kc_trust_root *a)
{
	struct kc_trust_root_desc d = {.expires = a->expires};
	struct kc_trust_root b;
	char *out;
	size_t len;

	for (int r = 0; r < KC_TRUST_NROLES; r++)
		d.roles[r] = (struct kc_trust_role_keys){a->roles[r].keys, a->roles[r].nkeys,
							 a->roles[r].threshold};
	if (kc_trust_root_encode(&d, a->version, &out, &len, NULL))
		abort();
	if (kc_trust_root_decode((unsigned char *)out, len, &b, NULL) || b.version != a->version ||
	    b.expires != a->expires)
		abort();
	for (int r = 0; r < KC_TRUST_NROLES; r++)
		if (!kc_trust_rolekeys_equal(&a->roles[r], &b.roles[r]))
			abort();
	kc_trust_root_release(&b);
	free(out);
}

static void check_targets(const struct kc_trust_targets *a)
{
	struct kc_trust_feed_desc d = {a->feed, a->product, a->targets, a->ntargets};
	struct kc_trust_targets b;
	char *out;
	size_t len;

	if (kc_trust_targets_encode(&d, a->version, a->expires, &out, &len, NULL))
		abort();
	if (kc_trust_targets_decode((unsigned char *)out, len, &b, NULL) ||
	    b.version != a->version || b.ntargets != a->ntargets || strcmp(a->feed, b.feed) ||
	    strcmp(a->product, b.product))
		abort();
	for (size_t i = 0; i < a->ntargets; i++)
		if (strcmp(a->targets[i].path, b.targets[i].path) ||
		    a->targets[i].length != b.targets[i].length ||
		    memcmp(a->targets[i].sha256, b.targets[i].sha256, KC_TRUST_SHA256_BYTES) ||
		    !json_object_equal(a->targets[i].custom, b.targets[i].custom))
			abort();
	kc_trust_targets_release(&b);
	free(out);
}

static void decode_all(const unsigned char *p, size_t len)
{
	struct kc_trust_root root;
	struct kc_trust_timestamp ts;
	struct kc_trust_snapshot snap;
	struct kc_trust_targets tg;

	if (!kc_trust_root_decode(p, len, &root, NULL)) {
		check_root(&root);
		kc_trust_root_release(&root);
	}
	if (!kc_trust_timestamp_decode(p, len, &ts, NULL))
		check_timestamp(&ts);
	if (!kc_trust_snapshot_decode(p, len, &snap, NULL)) {
		check_snapshot(&snap);
		kc_trust_snapshot_release(&snap);
	}
	if (!kc_trust_targets_decode(p, len, &tg, NULL)) {
		check_targets(&tg);
		kc_trust_targets_release(&tg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_envelope env;
	struct kc_trust_root root;
	struct kc_trust_pubkey pub;
	char *text;
	int64_t t;

	if (size > 1 << 20)
		return 0;
	decode_all(data, size);
	if (!kc_trust_envelope_parse(data, size, &env, &err)) {
		decode_all(env.payload, env.payload_len);
		kc_trust_envelope_release(&env);
	}
	if (!kc_trust_root_verify(data, size, NULL, &root, &err))
		kc_trust_root_release(&root);
	kc_trust_pubkey_parse((const char *)data, size, &pub, &err);
	text = strndup((const char *)data, size);
	if (text) {
		if (!kc_trust_time_parse(text, &t)) {
			char back[32];

			kc_trust_time_fmt(t, back);
			if (strcmp(back, text))
				abort();
		}
		kc_trust_path_ok(text);
		kc_trust_name_ok(text);
		free(text);
	}
	return 0;
}
