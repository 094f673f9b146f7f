/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signed feed metadata after The Update Framework's model: Ed25519 keys and
 * key files, the repository writer the patch server uses to publish signed
 * root/timestamp/snapshot/feed files, and the client that verifies them in
 * TUF order and keeps what it trusts in a state directory. docs/trust.md
 * describes the model, the file formats and every refusal.
 * Not here: HTTP (the client takes a fetch callback), databases (the writer
 * takes plain structs), patch file parsing (patch.h).
 */
#ifndef KCARE_TRUST_H
#define KCARE_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "kcare/err.h"

struct json_object;

/*
 * Error codes of this module (also used by every function below):
 *   -EBADMSG      malformed file: not JSON, a missing or mistyped field, bad
 *                 base64/hex, wrong payload type or role, a bad name or path
 *   -EKEYREJECTED not signed by a threshold of the role's keys: unsigned,
 *                 wrong signature, too few signatures, key of another role;
 *                 a key file whose halves do not match
 *   -ESTALE       rollback: a version lower than one already trusted (root,
 *                 timestamp, snapshot, any feed), or a version reused with
 *                 different content
 *   -EKEYEXPIRED  expired metadata (freeze attack or a server that stopped
 *                 re-signing): expires <= now
 *   -EILSEQ       mix-and-match: a file that differs from what the file
 *                 naming it says (length, sha256, version, feed/product),
 *                 including a blob whose length or sha256 differs from its entry
 *   -EFBIG        a file longer than its limit (KC_TRUST_MAX_* or the length
 *                 announced by the naming file)
 *   -ENOENT       a file the server does not have, or a wanted feed the
 *                 snapshot does not list
 *   -ENOKEY       the client has no trusted root and no imported root key
 *   -EEXIST       kc_trust_client_init() on an initialised state without
 *                 KC_TRUST_INIT_REPLACE
 *   other         -errno of the file system, or of the fetch callback
 */

#define KC_TRUST_KEY_BYTES    32 /* Ed25519 public key */
#define KC_TRUST_SECRET_BYTES 64 /* libsodium secret key: seed || public key */
#define KC_TRUST_SHA256_BYTES 32
#define KC_TRUST_KEYID_LEN    64  /* hex sha256 of the public key, without NUL */
#define KC_TRUST_NAME_MAX     64  /* feed and product names, without NUL */
#define KC_TRUST_PATH_MAX     255 /* target paths, without NUL */

/* Hard limits on what the client fetches (the server never writes more). */
#define KC_TRUST_MAX_ROOT      (512u * 1024)
#define KC_TRUST_MAX_TIMESTAMP (64u * 1024)
#define KC_TRUST_MAX_SNAPSHOT  (16u * 1024 * 1024)
#define KC_TRUST_MAX_FEED      (64u * 1024 * 1024)
#define KC_TRUST_MAX_ROOT_WALK 1024 /* root versions walked per update */

enum kc_trust_role {
	KC_TRUST_ROOT,
	KC_TRUST_TIMESTAMP,
	KC_TRUST_SNAPSHOT,
	KC_TRUST_TARGETS, /* signs every feed file */
	KC_TRUST_NROLES,
};

/* "root", "timestamp", "snapshot", "targets"; NULL when out of range. */
const char *kc_trust_role_name(enum kc_trust_role role);

/* Keys and key files. */

struct kc_trust_pubkey {
	unsigned char pk[KC_TRUST_KEY_BYTES];
	char keyid[KC_TRUST_KEYID_LEN + 1]; /* filled by every function that fills pk */
};

/* A signing key pair. Wipe with kc_trust_key_wipe() when done. */
struct kc_trust_key {
	struct kc_trust_pubkey pub;
	unsigned char sk[KC_TRUST_SECRET_BYTES];
};

/* Fresh random key pair. -EIO only if libsodium cannot initialise. */
int kc_trust_key_generate(struct kc_trust_key *key, struct kc_err *err);

/* Zeroes the secret half (explicit, not optimised away). NULL is a no-op. */
void kc_trust_key_wipe(struct kc_trust_key *key);

/* Sets pub->keyid from pub->pk (for callers that filled pk themselves). */
void kc_trust_pubkey_set_keyid(struct kc_trust_pubkey *pub);

/*
 * Key files are one text line: "kcare-ed25519-public <base64 of 32 bytes>"
 * or "kcare-ed25519-secret <base64 of 64 bytes>". Saving is atomic (temp
 * file, fsync, rename); secret files are created 0600, public ones 0644.
 * Loading refuses other contents with -EBADMSG, and a secret whose public
 * half does not match its seed with -EKEYREJECTED.
 */
int kc_trust_pubkey_save(const struct kc_trust_pubkey *pub, const char *path, struct kc_err *err);
int kc_trust_pubkey_load(const char *path, struct kc_trust_pubkey *pub, struct kc_err *err);
int kc_trust_key_save(const struct kc_trust_key *key, const char *path, struct kc_err *err);
int kc_trust_key_load(const char *path, struct kc_trust_key *key, struct kc_err *err);

/* Same formats from/to memory (no trailing newline needed on input). */
int kc_trust_pubkey_parse(const char *text, size_t len, struct kc_trust_pubkey *pub,
			  struct kc_err *err);

/* Hashes and blobs. */

void kc_trust_sha256(const void *buf, size_t len, unsigned char out[KC_TRUST_SHA256_BYTES]);
/* Lowercase hex into @out (65 bytes). Returns @out. */
char *kc_trust_sha256_hex(const unsigned char sha[KC_TRUST_SHA256_BYTES],
			  char out[2 * KC_TRUST_SHA256_BYTES + 1]);

/*
 * One entry of a feed: a blob as served and what the server says about it.
 * Writer side: every pointer is borrowed from the caller. Client side: owned
 * by the client, valid until its next update or kc_trust_client_free().
 */
struct kc_trust_target {
	const char *path; /* relative, e.g. "blobs/<sha256 hex>"; [A-Za-z0-9._-] components */
	uint64_t length;
	unsigned char sha256[KC_TRUST_SHA256_BYTES];
	/*
	 * Free-form JSON object the server fills (patchset, product, build-id,
	 * level, CVEs, released time, kpatch-* ...). Writer: may be NULL for {}.
	 * Client: never NULL, do not modify; json_object_get() it to keep it
	 * past the client's next update.
	 */
	struct json_object *custom;
};

/*
 * Stores @buf as DIR/blobs/<sha256 hex> (immutable: an existing file is left
 * alone), atomically. Fills @t->path (pointing into @path_buf, which must
 * hold KC_TRUST_PATH_MAX + 1 bytes), @t->length and @t->sha256; @t->custom
 * is left untouched.
 */
int kc_trust_blob_put(const char *dir, const void *buf, size_t len, struct kc_trust_target *t,
		      char *path_buf, struct kc_err *err);

/* Checks a downloaded blob against its entry. -EILSEQ on length or hash mismatch. */
int kc_trust_target_verify(const struct kc_trust_target *t, const void *buf, size_t len,
			   struct kc_err *err);
/* Same, reading @fd from its current offset to EOF (for blobs saved to disk). */
int kc_trust_target_verify_fd(const struct kc_trust_target *t, int fd, struct kc_err *err);

/* Server side: the repository writer. */

/*
 * A repository is a directory served as is over HTTP:
 *   root.json, <N>.root.json         every root version, root.json = newest
 *   timestamp.json                   the only file clients fetch unversioned
 *   <V>.snapshot.json, snapshot.json
 *   feeds/<feed>/<V>.<product>.json, feeds/<feed>/<product>.json
 *   blobs/<sha256 hex>
 * Versioned names let a client that read timestamp N fetch exactly the files
 * it names while the server publishes N+1; the writer keeps the last few
 * versions. Writers serialise on an flock of DIR/.lock.
 */

struct kc_trust_role_keys {
	const struct kc_trust_pubkey *keys; /* borrowed array of @nkeys */
	size_t nkeys;
	unsigned int threshold; /* 1 <= threshold <= nkeys */
};

struct kc_trust_root_desc {
	struct kc_trust_role_keys roles[KC_TRUST_NROLES]; /* by enum kc_trust_role */
	int64_t expires;				  /* unix seconds */
};

/*
 * Writes the next root version (1 if DIR has none) as <N>.root.json and
 * root.json, signed by every key in @signers. Before writing, the result is
 * verified as a client would: a threshold of its own root keys and, for a
 * rotation, a threshold of the previous root's keys (-EKEYREJECTED if not).
 * So a rotation passes the old and the new root keys as @signers.
 * @version (may be NULL) receives N.
 */
int kc_trust_repo_write_root(const char *dir, const struct kc_trust_root_desc *desc,
			     const struct kc_trust_key *const *signers, size_t nsigners,
			     uint64_t *version, struct kc_err *err);

/* The online keys, one per role; they must be the ones the newest root lists. */
struct kc_trust_online_keys {
	const struct kc_trust_key *timestamp;
	const struct kc_trust_key *snapshot;
	const struct kc_trust_key *targets;
};

/* What one feed file lists. Everything is borrowed from the caller. */
struct kc_trust_feed_desc {
	const char *feed;    /* "main", "12h", ...: [A-Za-z0-9._-], 1-64, no leading dot */
	const char *product; /* "kernel", "libs", "qemu", "db": same rule */
	const struct kc_trust_target *targets;
	size_t ntargets;
};

struct kc_trust_publish_opts {
	int64_t now;	       /* unix seconds */
	int64_t timestamp_ttl; /* seconds until expiry; 0: 1 day */
	int64_t snapshot_ttl;  /* 0: 7 days */
	int64_t targets_ttl;   /* 0: 30 days */
};

/*
 * Publishes exactly @feeds (a feed absent from @feeds disappears from the
 * snapshot; its old files stay so that its version keeps rising if it comes
 * back). A feed file is rewritten with version+1 when its content or signing
 * key changed or it expires within half of targets_ttl; otherwise the file is
 * kept. Writes feed files, then the snapshot (always version+1), then the
 * timestamp (version+1) last, each atomically. Requires a root in DIR
 * (-ENOKEY otherwise) whose timestamp/snapshot/targets roles list @keys
 * (-EKEYREJECTED otherwise). -EINVAL for a bad name or path, a duplicate
 * feed/product or a custom value that is not an object; -EFBIG for a file
 * over its KC_TRUST_MAX_* limit.
 */
int kc_trust_repo_publish(const char *dir, const struct kc_trust_online_keys *keys,
			  const struct kc_trust_feed_desc *feeds, size_t nfeeds,
			  const struct kc_trust_publish_opts *opts, struct kc_err *err);

/*
 * Re-signs without new content: the feeds of the current snapshot are
 * published again as by kc_trust_repo_publish() (so the timestamp always gets
 * a new version and expiry, the rest only when due). Call it periodically,
 * well within timestamp_ttl, and after a rotation of online keys.
 */
int kc_trust_repo_refresh(const char *dir, const struct kc_trust_online_keys *keys,
			  const struct kc_trust_publish_opts *opts, struct kc_err *err);

/* Client side: verification and the trusted state. */

/*
 * The state directory holds `anchors` (imported root public keys) and
 * `current`, a symlink to a generation directory with the trusted root.json,
 * timestamp.json, snapshot.json and feeds/<feed>/<product>.json. An update
 * builds a new generation and swaps the symlink with rename(2), so the state
 * is either wholly old or wholly new, also after a crash. Writers serialise on
 * an flock of STATE/lock; readers (kc_trust_client_open) never wait.
 */

#define KC_TRUST_INIT_REPLACE 0x1u /* kc_trust_client_init: drop an existing state */

/*
 * Starts trust from a root file the admin placed: @root must be signed by a
 * threshold of its own root keys (its expiry is checked only after the next
 * update walks the root chain). Creates @state_dir (0700) if needed.
 * -EEXIST if a trusted root exists and @flags lacks KC_TRUST_INIT_REPLACE.
 */
int kc_trust_client_init(const char *state_dir, const void *root, size_t len, unsigned int flags,
			 struct kc_err *err);

/*
 * Adds a root public key to STATE/anchors (kcarectl --import-key). Anchors
 * matter only while no root is trusted: the first update then fetches
 * "root.json" and accepts it if it is signed by a threshold of its own root
 * keys, at least one of which is an anchor. kc_trust_client_reset() drops
 * the trusted state to re-anchor a client whose server was re-created.
 */
int kc_trust_client_import_key(const char *state_dir, const struct kc_trust_pubkey *key,
			       struct kc_err *err);
int kc_trust_client_reset(const char *state_dir, struct kc_err *err);

/*
 * Fetch callback. Stores into *@buf (malloc'd; the library frees it) the
 * content of @name, a relative path in the repository ("timestamp.json",
 * "3.root.json", "12.snapshot.json", "feeds/main/5.libs.json",
 * "blobs/<hex>"), and returns 0; or returns -ENOENT if there is no such file,
 * -EFBIG if it is longer than @max_len (returning more is also refused), or
 * another negative errno with @err filled.
 */
typedef int (*kc_trust_fetch_fn)(void *ctx, const char *name, size_t max_len, unsigned char **buf,
				 size_t *len, struct kc_err *err);

struct kc_trust_client;

/*
 * Loads the trusted state. The stored files are verified again against the
 * stored root. -ENOKEY if there is neither a root nor an anchor.
 * Caller owns the result; free with kc_trust_client_free().
 */
int kc_trust_client_open(const char *state_dir, struct kc_trust_client **out, struct kc_err *err);
void kc_trust_client_free(struct kc_trust_client *c);

struct kc_trust_feed_ref {
	const char *feed;
	const char *product;
};

/*
 * One TUF update at time @now (unix seconds): walk <N+1>.root.json upwards,
 * then timestamp.json, <V>.snapshot.json (length and sha256 from the
 * timestamp), then each of @wanted (length, sha256 and version from the
 * snapshot; fetched only if changed). Every check of the error table above
 * applies; on any failure nothing in memory or on disk changes. On success
 * the state holds the new files; feeds not in @wanted are kept only if the
 * new snapshot still names them unchanged. A root rotation that changes the
 * keys of an online role drops the trusted files that role vouched for
 * (recovery from a stolen online key; see docs/trust.md).
 */
int kc_trust_client_update(struct kc_trust_client *c, kc_trust_fetch_fn fetch, void *ctx,
			   const struct kc_trust_feed_ref *wanted, size_t nwanted, int64_t now,
			   struct kc_err *err);

/*
 * The verified entries of one feed file. *@targets is owned by @c (valid
 * until its next update or free). -ENOENT if the state has no such feed,
 * -EKEYEXPIRED if it, the snapshot, the timestamp or the root expired at
 * @now: a client that cannot update must not go on trusting old metadata.
 */
int kc_trust_client_feed(const struct kc_trust_client *c, const char *feed, const char *product,
			 int64_t now, const struct kc_trust_target **targets, size_t *ntargets,
			 struct kc_err *err);

/*
 * Fetches and verifies one blob of a verified entry: -EFBIG if the source
 * has more than t->length bytes, -EILSEQ if fewer or another sha256,
 * -EBADMSG for an unsafe path. Caller owns *@buf (free()).
 */
int kc_trust_client_fetch_target(kc_trust_fetch_fn fetch, void *ctx,
				 const struct kc_trust_target *t, unsigned char **buf, size_t *len,
				 struct kc_err *err);

/*
 * Makes @path a verified copy of @t's blob: keeps the file when its length
 * and sha256 match, otherwise removes it, fetches the blob, verifies it and
 * writes it atomically (0600). Errors as kc_trust_client_fetch_target(),
 * or -errno writing @path.
 */
int kc_trust_client_cache_target(kc_trust_fetch_fn fetch, void *ctx,
				 const struct kc_trust_target *t, const char *path,
				 struct kc_err *err);

/* Versions and expiry times of the trusted files (0 when not held), for status output. */
struct kc_trust_status {
	uint64_t root_version, timestamp_version, snapshot_version;
	int64_t root_expires, timestamp_expires, snapshot_expires;
};
void kc_trust_client_status(const struct kc_trust_client *c, struct kc_trust_status *st);

#endif
