// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The repository writer of the patch server: root creation and rotation,
 * and publishing feed files, snapshot and timestamp into a directory that
 * any HTTP server can serve. Order on disk (each file atomic): feed files,
 * then the snapshot, then the timestamp, so a reader never sees a timestamp
 * naming a snapshot (or a snapshot naming a feed file) that is not there
 * yet; versioned names keep the last few versions readable for clients in
 * the middle of an update. Versions come from the files already in the
 * directory, so the caller keeps no counters.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "trust-int.h"

#define KEEP_VERSIONS 4 /* versioned snapshot/feed files kept behind the newest */

#define DEFAULT_TIMESTAMP_TTL (24 * 3600)
#define DEFAULT_SNAPSHOT_TTL  (7 * 24 * 3600)
#define DEFAULT_TARGETS_TTL   (30 * 24 * 3600)

static int join(char *out, size_t outsz, const char *dir, const char *name, struct kc_err *err)
{
	if ((size_t)snprintf(out, outsz, "%s/%s", dir, name) >= outsz)
		return kc_err_set(err, -ENAMETOOLONG, "path too long '%s/%s'", dir, name);
	return 0;
}

/* Writes DIR/@name (creating its parent directories), world-readable: it is served. */
static int put(const char *dir, const char *name, const void *buf, size_t len, struct kc_err *err)
{
	char path[PATH_MAX];
	char *slash;
	int rc = join(path, sizeof(path), dir, name, err);

	if (rc)
		return rc;
	slash = strrchr(path, '/');
	*slash = '\0';
	rc = kc_trust_mkdirs(path, 0755, err);
	*slash = '/';
	if (rc)
		return rc;
	return kc_file_write_atomic(path, buf, len, 0644, err);
}

/* Reads DIR/@name; -ENOENT (with no message) if absent. */
static int get(const char *dir, const char *name, size_t max, unsigned char **buf, size_t *len,
	       struct kc_err *err)
{
	char path[PATH_MAX];
	int rc = join(path, sizeof(path), dir, name, err);

	if (rc)
		return rc;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return -ENOENT;
	return kc_trust_read_file(path, max, buf, len, err);
}

static int check_desc(const struct kc_trust_root_desc *desc, struct kc_err *err)
{
	for (int r = 0; r < KC_TRUST_NROLES; r++) {
		const struct kc_trust_role_keys *rk = &desc->roles[r];

		if (rk->nkeys == 0 || rk->nkeys > KC_TRUST_MAX_KEYS || rk->threshold == 0 ||
		    rk->threshold > rk->nkeys || !rk->keys)
			return kc_err_set(err, -EINVAL,
					  "role '%s' needs 1 to %d keys and a threshold",
					  kc_trust_role_name(r), KC_TRUST_MAX_KEYS);
		for (size_t i = 0; i < rk->nkeys; i++)
			for (size_t j = 0; j < i; j++)
				if (!memcmp(rk->keys[i].pk, rk->keys[j].pk, KC_TRUST_KEY_BYTES))
					return kc_err_set(err, -EINVAL,
							  "role '%s' lists a key twice",
							  kc_trust_role_name(r));
	}
	return 0;
}

/* The newest root in DIR, verified against itself (the writer trusts its own directory). */
static int load_root(const char *dir, struct kc_trust_root *root, bool *found, struct kc_err *err)
{
	unsigned char *buf;
	size_t len;
	int rc = get(dir, "root.json", KC_TRUST_MAX_ROOT, &buf, &len, err);

	*found = false;
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = kc_trust_root_verify(buf, len, NULL, root, err);
	free(buf);
	if (rc)
		return kc_err_prefix(err, "repository '%s'", dir);
	*found = true;
	return 0;
}

int kc_trust_repo_write_root(const char *dir, const struct kc_trust_root_desc *desc,
			     const struct kc_trust_key *const *signers, size_t nsigners,
			     uint64_t *version, struct kc_err *err)
{
	struct kc_trust_root prev = {0}, check = {0};
	char *payload = NULL, *signed_ = NULL, name[48];
	size_t plen, slen;
	bool have_prev;
	int lock, rc;

	if (nsigners == 0 || nsigners > KC_TRUST_MAX_SIGS)
		return kc_err_set(err, -EINVAL, "a root needs 1 to %d signers", KC_TRUST_MAX_SIGS);
	rc = check_desc(desc, err);
	if (rc)
		return rc;
	rc = kc_trust_mkdirs(dir, 0755, err);
	if (rc)
		return rc;
	lock = kc_trust_lock(dir, ".lock", err);
	if (lock < 0)
		return lock;
	rc = load_root(dir, &prev, &have_prev, err);
	if (rc)
		goto out;
	uint64_t v = have_prev ? prev.version + 1 : 1;

	rc = kc_trust_root_encode(desc, v, &payload, &plen, err);
	if (rc)
		goto out;
	rc = kc_trust_envelope_sign(KC_TRUST_ROOT, payload, plen, signers, nsigners, &signed_,
				    &slen, err);
	if (rc)
		goto out;
	if (slen > KC_TRUST_MAX_ROOT) {
		rc = kc_err_set(err, -EFBIG, "root metadata of %zu bytes is over the limit", slen);
		goto out;
	}
	/* refuse to publish a root that clients would refuse */
	rc = kc_trust_root_verify(signed_, slen, have_prev ? &prev : NULL, &check, err);
	if (rc) {
		kc_err_prefix(err, "new root version %llu", (unsigned long long)v);
		goto out;
	}
	snprintf(name, sizeof(name), "%llu.root.json", (unsigned long long)v);
	rc = put(dir, name, signed_, slen, err);
	if (!rc)
		rc = put(dir, "root.json", signed_, slen, err);
	if (!rc && version)
		*version = v;
out:
	kc_trust_root_release(&check);
	kc_trust_root_release(&prev);
	free(payload);
	free(signed_);
	close(lock);
	return rc;
}

static bool role_has(const struct kc_trust_root *root, enum kc_trust_role role,
		     const struct kc_trust_key *key)
{
	const struct kc_trust_rolekeys *rk = &root->roles[role];

	if (rk->threshold != 1)
		return false;
	for (size_t i = 0; i < rk->nkeys; i++)
		if (!memcmp(rk->keys[i].pk, key->pub.pk, KC_TRUST_KEY_BYTES))
			return true;
	return false;
}

static int check_feeds(const struct kc_trust_feed_desc *feeds, size_t nfeeds, struct kc_err *err)
{
	if (nfeeds > KC_TRUST_MAX_FEEDS)
		return kc_err_set(err, -EINVAL, "more than %d feed files", KC_TRUST_MAX_FEEDS);
	for (size_t i = 0; i < nfeeds; i++) {
		const struct kc_trust_feed_desc *f = &feeds[i];

		if (!f->feed || !f->product || !kc_trust_name_ok(f->feed) ||
		    !kc_trust_name_ok(f->product))
			return kc_err_set(err, -EINVAL, "bad feed or product name '%s/%s'",
					  f->feed ? f->feed : "", f->product ? f->product : "");
		if (f->ntargets > KC_TRUST_MAX_TARGETS || (f->ntargets && !f->targets))
			return kc_err_set(err, -EINVAL, "feed '%s/%s': bad target list", f->feed,
					  f->product);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(feeds[j].feed, f->feed) &&
			    !strcmp(feeds[j].product, f->product))
				return kc_err_set(err, -EINVAL, "feed '%s/%s' given twice", f->feed,
						  f->product);
		for (size_t t = 0; t < f->ntargets; t++) {
			const struct kc_trust_target *tg = &f->targets[t];

			if (!tg->path || !kc_trust_path_ok(tg->path) || tg->length > INT64_MAX)
				return kc_err_set(err, -EINVAL,
						  "feed '%s/%s': bad target path '%s'", f->feed,
						  f->product, tg->path ? tg->path : "");
			if (tg->custom && !json_object_is_type(tg->custom, json_type_object))
				return kc_err_set(err, -EINVAL,
						  "feed '%s/%s': custom of '%s' is not an object",
						  f->feed, f->product, tg->path);
		}
	}
	return 0;
}

static void metaref_of(const void *buf, size_t len, uint64_t version, struct kc_trust_metaref *m)
{
	m->version = version;
	m->length = len;
	kc_trust_sha256(buf, len, m->sha256);
}

/* Whether @env carries a valid signature of @key (the file was signed by the current key). */
static bool signed_by(const struct kc_trust_envelope *env, const struct kc_trust_key *key)
{
	struct kc_trust_rolekeys rk = {(struct kc_trust_pubkey *)&key->pub, 1, 1};

	return kc_trust_envelope_verify(env, &rk, "", NULL) == 0;
}

/*
 * One feed file: kept as it is when nothing changed and it is not due,
 * otherwise rewritten with the next version. Fills @m for the snapshot.
 */
static int publish_feed(const char *dir, const struct kc_trust_feed_desc *fd,
			const struct kc_trust_key *key, const struct kc_trust_publish_opts *o,
			struct kc_trust_metaref *m, struct kc_err *err)
{
	char name[PATH_MAX], vname[PATH_MAX];
	unsigned char *old = NULL;
	size_t oldlen = 0, plen, slen;
	char *payload = NULL, *signed_ = NULL;
	struct kc_trust_envelope env = {0};
	struct kc_trust_targets tg = {0};
	uint64_t version = 1;
	int rc;

	kc_trust_feed_name(fd->feed, fd->product, name, sizeof(name));
	rc = get(dir, name, KC_TRUST_MAX_FEED, &old, &oldlen, err);
	if (rc && rc != -ENOENT)
		goto out;
	/* an unreadable old file only costs a version bump; never trust its content */
	if (!rc && kc_trust_envelope_parse(old, oldlen, &env, NULL) == 0 &&
	    kc_trust_targets_decode(env.payload, env.payload_len, &tg, NULL) == 0) {
		version = tg.version + 1;
		rc = kc_trust_targets_encode(fd, tg.version, tg.expires, &payload, &plen, err);
		if (rc)
			goto out;
		if (plen == env.payload_len && !memcmp(payload, env.payload, plen) &&
		    signed_by(&env, key) && tg.expires - o->now > o->targets_ttl / 2) {
			kc_trust_feed_vname(fd->feed, fd->product, tg.version, vname,
					    sizeof(vname));
			metaref_of(old, oldlen, tg.version, m);
			/* the versioned copy is what clients fetch: make sure it is there */
			char path[PATH_MAX];

			rc = join(path, sizeof(path), dir, vname, err);
			if (!rc && access(path, F_OK) < 0)
				rc = put(dir, vname, old, oldlen, err);
			goto out;
		}
		free(payload);
		payload = NULL;
	}
	rc = kc_trust_targets_encode(fd, version, o->now + o->targets_ttl, &payload, &plen, err);
	if (rc)
		goto out;
	rc = kc_trust_envelope_sign(KC_TRUST_TARGETS, payload, plen, &key, 1, &signed_, &slen, err);
	if (rc)
		goto out;
	if (slen > KC_TRUST_MAX_FEED) {
		rc = kc_err_set(err, -EFBIG, "feed '%s/%s': %zu bytes is over the limit", fd->feed,
				fd->product, slen);
		goto out;
	}
	kc_trust_feed_vname(fd->feed, fd->product, version, vname, sizeof(vname));
	rc = put(dir, vname, signed_, slen, err);
	if (!rc)
		rc = put(dir, name, signed_, slen, err);
	if (!rc)
		metaref_of(signed_, slen, version, m);
out:
	kc_trust_targets_release(&tg);
	kc_trust_envelope_release(&env);
	free(old);
	free(payload);
	free(signed_);
	return rc;
}

/* Version of the current timestamp and snapshot in DIR (0 if none or unreadable). */
static void current_versions(const char *dir, uint64_t *ts_version, uint64_t *snap_version)
{
	static const char *const names[2] = {"timestamp.json", "snapshot.json"};
	uint64_t *out[2] = {ts_version, snap_version};

	for (int i = 0; i < 2; i++) {
		struct kc_trust_envelope env;
		unsigned char *buf;
		size_t len;

		*out[i] = 0;
		if (get(dir, names[i], KC_TRUST_MAX_SNAPSHOT, &buf, &len, NULL))
			continue;
		if (!kc_trust_envelope_parse(buf, len, &env, NULL)) {
			if (i == 0) {
				struct kc_trust_timestamp ts;

				if (!kc_trust_timestamp_decode(env.payload, env.payload_len, &ts,
							       NULL)) {
					*ts_version = ts.version;
					/* the snapshot it names counts even if snapshot.json lags
					 */
					if (ts.snapshot.version > *snap_version)
						*snap_version = ts.snapshot.version;
				}
			} else {
				struct kc_trust_snapshot snap;

				if (!kc_trust_snapshot_decode(env.payload, env.payload_len, &snap,
							      NULL)) {
					if (snap.version > *snap_version)
						*snap_version = snap.version;
					kc_trust_snapshot_release(&snap);
				}
			}
			kc_trust_envelope_release(&env);
		}
		free(buf);
	}
}

/* Removes "<v><suffix>" files of @subdir with v + KEEP_VERSIONS <= @newest. */
static void prune(const char *dir, const char *subdir, const char *suffix, uint64_t newest)
{
	char path[PATH_MAX], file[PATH_MAX * 2];
	size_t slen = strlen(suffix);
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, subdir);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long long v;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		v = strtoull(de->d_name, &end, 10);
		if (strcmp(end, suffix) != 0 || strlen(end) != slen)
			continue;
		if (v + KEEP_VERSIONS <= newest) {
			snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
			unlink(file);
		}
	}
	closedir(d);
}

static int feed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kc_trust_snapentry *)a)->name,
		      ((const struct kc_trust_snapentry *)b)->name);
}

/* Called with DIR/.lock held. */
static int publish_locked(const char *dir, const struct kc_trust_online_keys *keys,
			  const struct kc_trust_feed_desc *feeds, size_t nfeeds,
			  const struct kc_trust_publish_opts *o, struct kc_err *err)
{
	struct kc_trust_root root = {0};
	struct kc_trust_snapshot snap = {0};
	struct kc_trust_timestamp ts = {0};
	char *payload = NULL, *signed_ = NULL, name[64];
	size_t plen, slen;
	uint64_t ts_version, snap_version;
	bool have_root;
	int rc;

	rc = load_root(dir, &root, &have_root, err);
	if (rc)
		return rc;
	if (!have_root)
		return kc_err_set(err, -ENOKEY, "repository '%s' has no root.json", dir);
	const struct kc_trust_key *by_role[KC_TRUST_NROLES] = {
	    [KC_TRUST_TIMESTAMP] = keys->timestamp,
	    [KC_TRUST_SNAPSHOT] = keys->snapshot,
	    [KC_TRUST_TARGETS] = keys->targets,
	};
	for (int r = KC_TRUST_TIMESTAMP; r < KC_TRUST_NROLES; r++) {
		if (!by_role[r] || !role_has(&root, r, by_role[r])) {
			rc = kc_err_set(err, -EKEYREJECTED,
					"%s key '%.16s' is not the one root version %llu lists",
					kc_trust_role_name(r),
					by_role[r] ? by_role[r]->pub.keyid : "",
					(unsigned long long)root.version);
			goto out;
		}
	}
	current_versions(dir, &ts_version, &snap_version);

	snap.version = snap_version + 1;
	snap.expires = o->now + o->snapshot_ttl;
	snap.feeds = calloc(nfeeds ? nfeeds : 1, sizeof(*snap.feeds));
	if (!snap.feeds) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* phase 1: feed files, so that the snapshot below names only files on disk */
	for (size_t i = 0; i < nfeeds; i++) {
		char fname[PATH_MAX];

		kc_trust_feed_name(feeds[i].feed, feeds[i].product, fname, sizeof(fname));
		snap.feeds[i].name = strdup(fname);
		snap.nfeeds = i + 1;
		if (!snap.feeds[i].name) {
			rc = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		rc = publish_feed(dir, &feeds[i], keys->targets, o, &snap.feeds[i].meta, err);
		if (rc)
			goto out;
	}
	qsort(snap.feeds, snap.nfeeds, sizeof(*snap.feeds), feed_cmp);

	/* phase 2: the snapshot */
	rc = kc_trust_snapshot_encode(&snap, &payload, &plen, err);
	if (!rc)
		rc = kc_trust_envelope_sign(KC_TRUST_SNAPSHOT, payload, plen, &keys->snapshot, 1,
					    &signed_, &slen, err);
	if (rc)
		goto out;
	if (slen > KC_TRUST_MAX_SNAPSHOT) {
		rc = kc_err_set(err, -EFBIG, "snapshot of %zu bytes is over the limit", slen);
		goto out;
	}
	snprintf(name, sizeof(name), "%llu.snapshot.json", (unsigned long long)snap.version);
	rc = put(dir, name, signed_, slen, err);
	if (!rc)
		rc = put(dir, "snapshot.json", signed_, slen, err);
	if (rc)
		goto out;
	ts.version = ts_version + 1;
	ts.expires = o->now + o->timestamp_ttl;
	metaref_of(signed_, slen, snap.version, &ts.snapshot);
	free(payload);
	free(signed_);
	payload = signed_ = NULL;

	/* phase 3: the timestamp, last: from here on clients see the new state */
	rc = kc_trust_timestamp_encode(&ts, &payload, &plen, err);
	if (!rc)
		rc = kc_trust_envelope_sign(KC_TRUST_TIMESTAMP, payload, plen, &keys->timestamp, 1,
					    &signed_, &slen, err);
	if (!rc)
		rc = put(dir, "timestamp.json", signed_, slen, err);
	if (rc)
		goto out;

	/* old versions go only after the timestamp moved past them */
	prune(dir, ".", ".snapshot.json", snap.version);
	for (size_t i = 0; i < nfeeds; i++) {
		char sub[PATH_MAX], suffix[KC_TRUST_NAME_MAX + 8];
		const struct kc_trust_snapentry *e = NULL;
		char fname[PATH_MAX];

		kc_trust_feed_name(feeds[i].feed, feeds[i].product, fname, sizeof(fname));
		for (size_t j = 0; j < snap.nfeeds && !e; j++)
			if (!strcmp(snap.feeds[j].name, fname))
				e = &snap.feeds[j];
		snprintf(sub, sizeof(sub), "feeds/%s", feeds[i].feed);
		snprintf(suffix, sizeof(suffix), ".%s.json", feeds[i].product);
		prune(dir, sub, suffix, e->meta.version);
	}
out:
	kc_trust_snapshot_release(&snap);
	kc_trust_root_release(&root);
	free(payload);
	free(signed_);
	return rc;
}

static int fill_opts(const struct kc_trust_publish_opts *in, struct kc_trust_publish_opts *o,
		     struct kc_err *err)
{
	*o = *in;
	if (!o->timestamp_ttl)
		o->timestamp_ttl = DEFAULT_TIMESTAMP_TTL;
	if (!o->snapshot_ttl)
		o->snapshot_ttl = DEFAULT_SNAPSHOT_TTL;
	if (!o->targets_ttl)
		o->targets_ttl = DEFAULT_TARGETS_TTL;
	if (o->timestamp_ttl < 0 || o->snapshot_ttl < 0 || o->targets_ttl < 0 || o->now < 0)
		return kc_err_set(err, -EINVAL, "negative time or lifetime");
	return 0;
}

int kc_trust_repo_publish(const char *dir, const struct kc_trust_online_keys *keys,
			  const struct kc_trust_feed_desc *feeds, size_t nfeeds,
			  const struct kc_trust_publish_opts *opts, struct kc_err *err)
{
	struct kc_trust_publish_opts o;
	int lock, rc;

	rc = fill_opts(opts, &o, err);
	if (!rc)
		rc = check_feeds(feeds, nfeeds, err);
	if (rc)
		return rc;
	if (access(dir, F_OK) < 0)
		return kc_err_set(err, -ENOKEY, "repository '%s' has no root.json", dir);
	lock = kc_trust_lock(dir, ".lock", err);
	if (lock < 0)
		return lock;
	rc = publish_locked(dir, keys, feeds, nfeeds, &o, err);
	close(lock);
	return rc;
}

/* The feeds of the current snapshot, decoded back into descriptions. */
static int read_current_feeds(const char *dir, struct kc_trust_targets **out, size_t *n,
			      struct kc_err *err)
{
	struct kc_trust_envelope env = {0};
	struct kc_trust_snapshot snap = {0};
	struct kc_trust_targets *tgs = NULL;
	unsigned char *buf = NULL;
	size_t len;
	int rc;

	*out = NULL;
	*n = 0;
	rc = get(dir, "snapshot.json", KC_TRUST_MAX_SNAPSHOT, &buf, &len, err);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = kc_trust_envelope_parse(buf, len, &env, err);
	if (!rc)
		rc = kc_trust_snapshot_decode(env.payload, env.payload_len, &snap, err);
	free(buf);
	buf = NULL;
	if (rc)
		goto out;
	tgs = calloc(snap.nfeeds ? snap.nfeeds : 1, sizeof(*tgs));
	if (!tgs) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < snap.nfeeds; i++) {
		struct kc_trust_envelope fe;

		rc = get(dir, snap.feeds[i].name, KC_TRUST_MAX_FEED, &buf, &len, err);
		if (rc == -ENOENT)
			rc = kc_err_set(err, rc, "'%s' is missing", snap.feeds[i].name);
		if (rc)
			goto out;
		rc = kc_trust_envelope_parse(buf, len, &fe, err);
		if (!rc) {
			rc = kc_trust_targets_decode(fe.payload, fe.payload_len, &tgs[*n], err);
			kc_trust_envelope_release(&fe);
		}
		free(buf);
		buf = NULL;
		if (rc)
			goto out;
		(*n)++;
	}
	*out = tgs;
	tgs = NULL;
out:
	if (rc)
		kc_err_prefix(err, "repository '%s'", dir);
	if (tgs) {
		for (size_t i = 0; i < *n; i++)
			kc_trust_targets_release(&tgs[i]);
		free(tgs);
		*n = 0;
	}
	kc_trust_snapshot_release(&snap);
	kc_trust_envelope_release(&env);
	return rc;
}

int kc_trust_repo_refresh(const char *dir, const struct kc_trust_online_keys *keys,
			  const struct kc_trust_publish_opts *opts, struct kc_err *err)
{
	struct kc_trust_publish_opts o;
	struct kc_trust_feed_desc *descs = NULL;
	struct kc_trust_targets *tgs = NULL;
	size_t n = 0;
	int lock, rc;

	rc = fill_opts(opts, &o, err);
	if (rc)
		return rc;
	if (access(dir, F_OK) < 0)
		return kc_err_set(err, -ENOKEY, "repository '%s' has no root.json", dir);
	lock = kc_trust_lock(dir, ".lock", err);
	if (lock < 0)
		return lock;
	rc = read_current_feeds(dir, &tgs, &n, err);
	if (rc)
		goto out;
	descs = calloc(n ? n : 1, sizeof(*descs));
	if (!descs) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		descs[i] = (struct kc_trust_feed_desc){tgs[i].feed, tgs[i].product, tgs[i].targets,
						       tgs[i].ntargets};
	rc = publish_locked(dir, keys, descs, n, &o, err);
out:
	for (size_t i = 0; i < n; i++)
		kc_trust_targets_release(&tgs[i]);
	free(tgs);
	free(descs);
	close(lock);
	return rc;
}
