// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for kc_trust_client_update() against a hostile server.
 * A genuine repository (fixed keys, so runs are reproducible) is built
 * once; each input then replaces some of its files, either with raw bytes
 * or with a payload the harness signs with the right (or a wrong) key so
 * that the fuzzer gets past the signature checks, or makes the fetch fail.
 * Every run starts from the same trusted state (1.root.json).
 *
 * Input: byte 0 picks `now` (12 h steps from the publish time), byte 1 bit 0
 * bootstraps from an imported root key instead; then records of
 * [file index][mode][length: 2 bytes little-endian][bytes].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "kcare/trust.h"
#include "lib/trust-int.h"

#define T0 1767225600

enum { MODE_RAW, MODE_SIGNED, MODE_WRONG_KEY, MODE_ENOENT, MODE_EIO, MODE_EFBIG, NMODES };

static const char *const names[] = {
    "root.json",
    "2.root.json",
    "timestamp.json",
    "1.snapshot.json",
    "2.snapshot.json",
    "feeds/main/1.libs.json",
    "feeds/main/2.libs.json",
    "blob", /* replaced by the blob's path */
};
#define NFILES (sizeof(names) / sizeof(names[0]))
static const enum kc_trust_role roles[NFILES] = {
    KC_TRUST_ROOT,     KC_TRUST_ROOT,	 KC_TRUST_TIMESTAMP, KC_TRUST_SNAPSHOT,
    KC_TRUST_SNAPSHOT, KC_TRUST_TARGETS, KC_TRUST_TARGETS,   KC_TRUST_TARGETS,
};

struct served {
	const unsigned char *buf;
	size_t len;
	int mode;
	bool oversize;
	bool set;
};

static char top[128], repo[160], state[160];
static struct kc_trust_key keys[KC_TRUST_NROLES], wrong;
static unsigned char *root1;
static size_t root1_len;
static struct served files[NFILES];
static char blob_path[KC_TRUST_PATH_MAX + 1];

static void seeded(struct kc_trust_key *k, unsigned char n)
{
	unsigned char seed[32];

	memset(seed, n, sizeof(seed));
	crypto_sign_seed_keypair(k->pub.pk, k->sk, seed);
	kc_trust_pubkey_set_keyid(&k->pub);
}

static void cleanup(void)
{
	kc_trust_remove_tree(top, NULL);
}

static void build_repo(void)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_root_desc d = {.expires = T0 + 365 * 86400};
	const struct kc_trust_key *signer = &keys[KC_TRUST_ROOT];
	struct kc_trust_target t = {0};
	unsigned char blob[64];
	char path[256];

	if (sodium_init() < 0)
		abort();
	/* tmpfs when there is one: every run fsyncs a new state generation */
	snprintf(top, sizeof(top), "%s/kc-fuzz-trust-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(top))
		abort();
	atexit(cleanup);
	snprintf(repo, sizeof(repo), "%s/repo", top);
	snprintf(state, sizeof(state), "%s/state", top);
	for (int r = 0; r < KC_TRUST_NROLES; r++) {
		seeded(&keys[r], (unsigned char)(r + 1));
		d.roles[r] = (struct kc_trust_role_keys){&keys[r].pub, 1, 1};
	}
	seeded(&wrong, 99);
	memset(blob, 'b', sizeof(blob));
	struct kc_trust_online_keys ok = {&keys[KC_TRUST_TIMESTAMP], &keys[KC_TRUST_SNAPSHOT],
					  &keys[KC_TRUST_TARGETS]};
	struct kc_trust_target two[2];
	struct kc_trust_feed_desc feeds[2] = {{"main", "libs", &t, 1}, {"main", "kernel", &t, 1}};
	struct kc_trust_feed_desc feeds2[2] = {{"main", "libs", two, 2}, {"main", "kernel", &t, 1}};
	struct kc_trust_publish_opts o = {.now = T0};

	if (kc_trust_repo_write_root(repo, &d, &signer, 1, NULL, &err) ||
	    kc_trust_blob_put(repo, blob, sizeof(blob), &t, blob_path, &err) ||
	    kc_trust_repo_publish(repo, &ok, feeds, 2, &o, &err)) {
		fprintf(stderr, "fuzz setup: %s\n", err.msg);
		abort();
	}
	/* a second version of everything but the kernel feed */
	two[0] = two[1] = t;
	if (kc_trust_repo_publish(repo, &ok, feeds2, 2, &o, &err)) {
		fprintf(stderr, "fuzz setup: %s\n", err.msg);
		abort();
	}
	snprintf(path, sizeof(path), "%s/1.root.json", repo);
	if (kc_trust_read_file(path, KC_TRUST_MAX_ROOT, &root1, &root1_len, &err))
		abort();
}

static int fetch(void *ctx, const char *name, size_t max_len, unsigned char **buf, size_t *len,
		 struct kc_err *err)
{
	char path[512];

	(void)ctx;
	for (size_t i = 0; i < NFILES; i++) {
		const char *n = i == NFILES - 1 ? blob_path : names[i];
		struct served *s = &files[i];

		if (!s->set || strcmp(n, name) != 0)
			continue;
		if (s->mode == MODE_ENOENT)
			return -ENOENT;
		if (s->mode == MODE_EIO)
			return kc_err_set(err, -EIO, "connection reset");
		if (s->mode == MODE_EFBIG || (s->len > max_len && !s->oversize))
			return -EFBIG;
		*buf = malloc(s->len + 1);
		if (!*buf)
			return -ENOMEM;
		memcpy(*buf, s->buf, s->len);
		*len = s->len;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", repo, name);
	if (access(path, F_OK) < 0)
		return -ENOENT;
	return kc_trust_read_file(path, max_len, buf, len, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kc_trust_feed_ref want[] = {{"main", "libs"}, {"main", "kernel"}};
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = NULL;
	char *owned[NFILES] = {0};
	int64_t now;
	size_t pos = 2;

	if (!root1)
		build_repo();
	if (size < 2)
		return 0;
	now = T0 + (int64_t)data[0] * 12 * 3600;
	memset(files, 0, sizeof(files));
	while (pos + 4 <= size) {
		size_t idx = data[pos] % NFILES,
		       len = (size_t)data[pos + 2] | (size_t)data[pos + 3] << 8;
		struct served *s = &files[idx];

		s->mode = (data[pos + 1] & 0x7f) % NMODES;
		s->oversize = data[pos + 1] & 0x80;
		pos += 4;
		if (len > size - pos)
			len = size - pos;
		s->set = true;
		s->buf = data + pos;
		s->len = len;
		if (s->mode == MODE_SIGNED || s->mode == MODE_WRONG_KEY) {
			const struct kc_trust_key *k =
			    s->mode == MODE_SIGNED ? &keys[roles[idx]] : &wrong;
			size_t slen;

			free(owned[idx]);
			owned[idx] = NULL;
			if (!kc_trust_envelope_sign(roles[idx], data + pos, len, &k, 1, &owned[idx],
						    &slen, NULL)) {
				s->buf = (unsigned char *)owned[idx];
				s->len = slen;
			}
		}
		pos += len;
	}

	if (data[1] & 1) {
		if (kc_trust_client_reset(state, &err) ||
		    kc_trust_client_import_key(state, &keys[KC_TRUST_ROOT].pub, &err))
			abort();
	} else if (kc_trust_client_init(state, root1, root1_len, KC_TRUST_INIT_REPLACE, &err)) {
		abort();
	}
	if (kc_trust_client_open(state, &c, &err))
		abort();
	if (kc_trust_client_update(c, fetch, NULL, want, 2, now, &err) == 0) {
		const struct kc_trust_target *t;
		size_t n;

		for (int i = 0; i < 2; i++) {
			if (kc_trust_client_feed(c, want[i].feed, want[i].product, now, &t, &n,
						 &err))
				continue;
			for (size_t j = 0; j < n; j++) {
				unsigned char *blob;
				size_t blen;

				if (!kc_trust_client_fetch_target(fetch, NULL, &t[j], &blob, &blen,
								  &err))
					free(blob);
			}
		}
	} else if (err.code == 0 || !err.msg[0]) {
		abort(); /* every refusal carries a code and a message */
	}
	kc_trust_client_free(c);
	for (size_t i = 0; i < NFILES; i++)
		free(owned[i]);
	return 0;
}
