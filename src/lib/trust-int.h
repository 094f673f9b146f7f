/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to src/lib/trust-*.c (and their tests and fuzz targets): the
 * envelope, the decoded metadata of each role, the encoders the writer
 * uses, and small helpers (hex, base64, times, names, files).
 * Public API and error table: include/kcare/trust.h.
 */
#ifndef KCARE_TRUST_INT_H
#define KCARE_TRUST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kcare/conf.h"
#include "kcare/trust.h"

#define KC_TRUST_SIG_BYTES    64
#define KC_TRUST_MAX_SIGS     64   /* signatures per envelope */
#define KC_TRUST_MAX_KEYS     64   /* keys per role */
#define KC_TRUST_MAX_FEEDS    4096 /* feed files per snapshot */
#define KC_TRUST_MAX_TARGETS  (1u << 20)
#define KC_TRUST_JSON_DEPTH   32
#define KC_TRUST_SPEC_VERSION "1"

/* trust-enc.c: encodings, names, times. */

void kc_trust_hex(const unsigned char *bin, size_t n, char *out);
/* Exactly 2*@n lowercase or uppercase hex digits. */
int kc_trust_unhex(const char *hex, unsigned char *bin, size_t n);
/* Caller frees the result (NUL-terminated); NULL on allocation failure. */
char *kc_trust_b64(const unsigned char *bin, size_t n);
/* Decodes strict standard base64 (padding required) into a malloc'd buffer. */
int kc_trust_unb64(const char *b64, size_t b64len, unsigned char **bin, size_t *n);
/* Same into a fixed buffer that must be filled exactly. */
int kc_trust_unb64_exact(const char *b64, size_t b64len, unsigned char *bin, size_t n);
/* "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with NUL). */
void kc_trust_time_fmt(int64_t t, char out[32]);
int kc_trust_time_parse(const char *s, int64_t *t);
bool kc_trust_name_ok(const char *s);
bool kc_trust_path_ok(const char *s);
bool kc_trust_keyid_ok(const char *s);
/*
 * Parses one JSON object filling all of @buf (whitespace may follow), depth
 * limited; -EBADMSG otherwise. Caller puts *@out.
 */
int kc_trust_json_parse(const void *buf, size_t len, struct json_object **out);
/* The string member @key of @obj, without embedded NUL; NULL if absent or not a string. */
const char *kc_trust_json_str(struct json_object *obj, const char *key);

/* trust-io.c: files. */
/* Reads at most @max bytes (-EFBIG if longer). Caller frees *buf. */
int kc_trust_read_file(const char *path, size_t max, unsigned char **buf, size_t *len,
		       struct kc_err *err);
int kc_trust_read_fd(int fd, size_t max, unsigned char **buf, size_t *len, struct kc_err *err);
/* mkdir -p with @mode for the created components. */
int kc_trust_mkdirs(const char *path, unsigned int mode, struct kc_err *err);
int kc_trust_fsync_dir(const char *path, struct kc_err *err);
/* Opens and flocks DIR/@name exclusively; returns the fd (close to unlock). */
int kc_trust_lock(const char *dir, const char *name, struct kc_err *err);
/* rm -rf without following symlinks; a missing path is fine. */
int kc_trust_remove_tree(const char *path, struct kc_err *err);

/* trust-envelope.c: the signed envelope. */

struct kc_trust_sig {
	char keyid[KC_TRUST_KEYID_LEN + 1];
	unsigned char sig[KC_TRUST_SIG_BYTES];
};

struct kc_trust_envelope {
	char *payload_type;	/* owned */
	unsigned char *payload; /* owned, decoded; NUL-terminated for the JSON parser */
	size_t payload_len;
	struct kc_trust_sig *sigs; /* owned */
	size_t nsigs;
};

/* A role's keys as the verifier sees them (owned by the struct holding it). */
struct kc_trust_rolekeys {
	struct kc_trust_pubkey *keys;
	size_t nkeys;
	unsigned int threshold;
};

const char *kc_trust_payload_type(enum kc_trust_role role);

/* Parses the envelope JSON only (no signature check). -EBADMSG, -EFBIG, -ENOMEM. */
int kc_trust_envelope_parse(const void *buf, size_t len, struct kc_trust_envelope *env,
			    struct kc_err *err);
void kc_trust_envelope_release(struct kc_trust_envelope *env);

/*
 * Counts distinct keys of @keys with a valid signature over the envelope's
 * payload; -EKEYREJECTED if fewer than the threshold. @what names the file
 * in messages.
 */
int kc_trust_envelope_verify(const struct kc_trust_envelope *env,
			     const struct kc_trust_rolekeys *keys, const char *what,
			     struct kc_err *err);

/* Signs @payload as @role with every key; caller frees *@out (NUL-terminated JSON). */
int kc_trust_envelope_sign(enum kc_trust_role role, const void *payload, size_t len,
			   const struct kc_trust_key *const *keys, size_t nkeys, char **out,
			   size_t *out_len, struct kc_err *err);

/* trust-meta.c: payloads of each role. */

/* What a file says about the file it names (timestamp->snapshot, snapshot->feed). */
struct kc_trust_metaref {
	uint64_t version;
	uint64_t length;
	unsigned char sha256[KC_TRUST_SHA256_BYTES];
};

struct kc_trust_root {
	uint64_t version;
	int64_t expires;
	struct kc_trust_rolekeys roles[KC_TRUST_NROLES];
};

struct kc_trust_timestamp {
	uint64_t version;
	int64_t expires;
	struct kc_trust_metaref snapshot;
};

struct kc_trust_snapentry {
	char *name; /* "feeds/<feed>/<product>.json", owned */
	struct kc_trust_metaref meta;
};

struct kc_trust_snapshot {
	uint64_t version;
	int64_t expires;
	struct kc_trust_snapentry *feeds; /* owned, sorted by name */
	size_t nfeeds;
};

struct kc_trust_targets {
	uint64_t version;
	int64_t expires;
	char *feed, *product;		 /* owned */
	struct kc_trust_target *targets; /* owned: path strdup'd, custom a reference of @doc's */
	size_t ntargets;
	struct json_object *doc; /* owned: the parsed payload */
};

/* Decoders: -EBADMSG on any malformed field, -ENOMEM. */
int kc_trust_root_decode(const unsigned char *payload, size_t len, struct kc_trust_root *root,
			 struct kc_err *err);
int kc_trust_timestamp_decode(const unsigned char *payload, size_t len,
			      struct kc_trust_timestamp *ts, struct kc_err *err);
int kc_trust_snapshot_decode(const unsigned char *payload, size_t len,
			     struct kc_trust_snapshot *snap, struct kc_err *err);
int kc_trust_targets_decode(const unsigned char *payload, size_t len, struct kc_trust_targets *tg,
			    struct kc_err *err);

void kc_trust_root_release(struct kc_trust_root *root);
void kc_trust_snapshot_release(struct kc_trust_snapshot *snap);
void kc_trust_targets_release(struct kc_trust_targets *tg);

/* Same threshold and the same set of keys, in any order. */
bool kc_trust_rolekeys_equal(const struct kc_trust_rolekeys *a, const struct kc_trust_rolekeys *b);

/* Encoders: caller frees *@out (NUL-terminated JSON payload). */
int kc_trust_root_encode(const struct kc_trust_root_desc *desc, uint64_t version, char **out,
			 size_t *len, struct kc_err *err);
int kc_trust_timestamp_encode(const struct kc_trust_timestamp *ts, char **out, size_t *len,
			      struct kc_err *err);
int kc_trust_snapshot_encode(const struct kc_trust_snapshot *snap, char **out, size_t *len,
			     struct kc_err *err);
int kc_trust_targets_encode(const struct kc_trust_feed_desc *fd, uint64_t version, int64_t expires,
			    char **out, size_t *len, struct kc_err *err);

/* "feeds/<feed>/<product>.json" and the versioned "feeds/<feed>/<v>.<product>.json". */
int kc_trust_feed_name(const char *feed, const char *product, char *out, size_t outsz);
int kc_trust_feed_vname(const char *feed, const char *product, uint64_t version, char *out,
			size_t outsz);

/*
 * Opens a signed file of @role: envelope, payload type, threshold of @keys.
 * On success *@env holds the verified payload.
 */
int kc_trust_open_signed(const void *buf, size_t len, enum kc_trust_role role,
			 const struct kc_trust_rolekeys *keys, const char *what,
			 struct kc_trust_envelope *env, struct kc_err *err);

/*
 * Verifies @buf as root metadata: signed by a threshold of its own root keys
 * and, when @prev is not NULL, of @prev's root keys too; its version must
 * then be prev->version + 1. Fills @root.
 */
int kc_trust_root_verify(const void *buf, size_t len, const struct kc_trust_root *prev,
			 struct kc_trust_root *root, struct kc_err *err);

/* trust-client.c: the one caller of fetch callbacks. */

/*
 * Calls @fetch for @name with limit @max and turns its failures into
 * messages: -ENOENT stays -ENOENT, a reply over @max is -EFBIG.
 */
int kc_trust_fetch(kc_trust_fetch_fn fetch, void *ctx, const char *name, size_t max,
		   unsigned char **buf, size_t *len, struct kc_err *err);

/* trust-state.c: the client's trusted set and its directory. */

struct kc_trust_file {
	unsigned char *raw; /* owned: the signed file as fetched; NULL if not held */
	size_t len;
};

struct kc_trust_cfeed {
	char *name; /* owned, "feeds/<feed>/<product>.json" */
	struct kc_trust_targets tg;
	struct kc_trust_file f;
};

/* Everything a client trusts; each file verified, the set consistent. */
struct kc_trust_set {
	struct kc_trust_root root; /* valid when root_f.raw */
	struct kc_trust_file root_f;
	struct kc_trust_timestamp ts; /* valid when ts_f.raw */
	struct kc_trust_file ts_f;
	struct kc_trust_snapshot snap; /* valid when snap_f.raw */
	struct kc_trust_file snap_f;
	struct kc_trust_cfeed *feeds; /* owned array */
	size_t nfeeds;
};

void kc_trust_set_release(struct kc_trust_set *s);
void kc_trust_file_release(struct kc_trust_file *f);

/* Loads STATE/current (verifying every file) and STATE/anchors; no lock needed. */
int kc_trust_state_load(const char *dir, struct kc_trust_set *s, struct kc_trust_pubkey **anchors,
			size_t *nanchors, struct kc_err *err);
/* Writes @s as a new generation and swaps STATE/current to it. Caller holds the lock. */
int kc_trust_state_commit(const char *dir, const struct kc_trust_set *s, struct kc_err *err);

#endif
