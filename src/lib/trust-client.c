// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The client update in TUF order: root chain, timestamp, snapshot, the
 * wanted feed files. Each step builds a new trusted set out of what was
 * fetched and what the old set may still vouch for; only when every check
 * passed is the new set written (trust-state.c) and swapped in, so a
 * refusal changes nothing on disk or in memory. Which errno each refusal
 * returns is the table in include/kcare/trust.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "trust-int.h"

struct kc_trust_client {
	char *dir;			 /* owned */
	struct kc_trust_set set;	 /* what is trusted, as on disk */
	struct kc_trust_pubkey *anchors; /* owned */
	size_t nanchors;
};

int kc_trust_fetch(kc_trust_fetch_fn fetch, void *ctx, const char *name, size_t max,
		   unsigned char **buf, size_t *len, struct kc_err *err)
{
	unsigned char *data = NULL;
	size_t n = 0;
	int rc;

	kc_err_clear(err);
	rc = fetch(ctx, name, max, &data, &n, err);
	if (rc > 0)
		rc = -rc;
	if (rc == -EFBIG)
		return kc_err_set(err, rc, "'%s' is longer than %zu bytes", name, max);
	if (rc == -ENOENT)
		return kc_err_set(err, rc, "'%s' not found on the server", name);
	if (rc) {
		if (err && err->code == rc && err->msg[0])
			return kc_err_prefix(err, "cannot fetch '%s'", name);
		return kc_err_set(err, rc, "cannot fetch '%s': %s", name, strerror(-rc));
	}
	if (!data && n)
		return kc_err_set(err, -EIO, "cannot fetch '%s': no data", name);
	if (n > max) {
		free(data);
		return kc_err_set(err, -EFBIG, "'%s' is longer than %zu bytes", name, max);
	}
	if (!data) {
		data = malloc(1);
		if (!data)
			return kc_err_set(err, -ENOMEM, "out of memory");
	}
	*buf = data;
	*len = n;
	return 0;
}

int kc_trust_client_open(const char *state_dir, struct kc_trust_client **out, struct kc_err *err)
{
	struct kc_trust_client *c;
	int rc;

	if (access(state_dir, F_OK) < 0)
		return kc_err_set(err, -ENOKEY, "no trusted root: '%s' does not exist", state_dir);
	c = calloc(1, sizeof(*c));
	if (!c || !(c->dir = strdup(state_dir))) {
		free(c);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	rc = kc_trust_state_load(state_dir, &c->set, &c->anchors, &c->nanchors, err);
	if (rc)
		goto fail;
	if (!c->set.root_f.raw && c->nanchors == 0) {
		rc = kc_err_set(err, -ENOKEY, "no trusted root and no imported root key in '%s'",
				state_dir);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	kc_trust_client_free(c);
	return rc;
}

void kc_trust_client_free(struct kc_trust_client *c)
{
	if (!c)
		return;
	kc_trust_set_release(&c->set);
	free(c->anchors);
	free(c->dir);
	free(c);
}

static bool expired(int64_t expires, int64_t now)
{
	return expires <= now;
}

static int refuse_expired(const char *what, int64_t expires, struct kc_err *err)
{
	char when[32];

	kc_trust_time_fmt(expires, when);
	return kc_err_set(err, -EKEYEXPIRED, "%s expired at %s", what, when);
}

static void move_file(struct kc_trust_file *dst, struct kc_trust_file *src)
{
	*dst = *src;
	src->raw = NULL;
	src->len = 0;
}

/* Whether @f is exactly the file @m describes. */
static bool matches(const struct kc_trust_file *f, const struct kc_trust_metaref *m)
{
	unsigned char sha[KC_TRUST_SHA256_BYTES];

	if (!f->raw || f->len != m->length)
		return false;
	kc_trust_sha256(f->raw, f->len, sha);
	return sodium_memcmp(sha, m->sha256, sizeof(sha)) == 0;
}

/* Fetches @name, which the naming file says is @m (length and sha256). */
static int fetch_named(kc_trust_fetch_fn fetch, void *ctx, const char *name, size_t limit,
		       const struct kc_trust_metaref *m, struct kc_trust_file *f,
		       struct kc_err *err)
{
	int rc;

	if (m->length > limit)
		return kc_err_set(err, -EFBIG, "'%s' is announced with %llu bytes, over the limit",
				  name, (unsigned long long)m->length);
	rc = kc_trust_fetch(fetch, ctx, name, (size_t)m->length, &f->raw, &f->len, err);
	if (rc)
		return rc;
	if (!matches(f, m)) {
		kc_trust_file_release(f);
		return kc_err_set(err, -EILSEQ,
				  "'%s' differs in length or sha256 from what names it", name);
	}
	return 0;
}

/*
 * Step 1. Starts from the trusted root (or, with none, from "root.json"
 * vouched for by an anchor) and walks <N+1>.root.json upwards. Fills
 * @next->root/root_f.
 */
static int update_root(struct kc_trust_client *c, struct kc_trust_set *base,
		       kc_trust_fetch_fn fetch, void *ctx, struct kc_trust_set *next,
		       struct kc_err *err)
{
	int rc;

	if (base->root_f.raw) {
		/* a copy: @base keeps its root to compare role keys after the walk */
		next->root_f.raw = malloc(base->root_f.len);
		if (!next->root_f.raw)
			return kc_err_set(err, -ENOMEM, "out of memory");
		memcpy(next->root_f.raw, base->root_f.raw, base->root_f.len);
		next->root_f.len = base->root_f.len;
		rc = kc_trust_root_verify(next->root_f.raw, next->root_f.len, NULL, &next->root,
					  err);
		if (rc)
			return rc;
	} else {
		struct kc_trust_rolekeys anchored = {0};

		if (c->nanchors == 0)
			return kc_err_set(err, -ENOKEY, "no trusted root and no imported root key");
		rc = kc_trust_fetch(fetch, ctx, "root.json", KC_TRUST_MAX_ROOT, &next->root_f.raw,
				    &next->root_f.len, err);
		if (rc)
			return rc;
		rc = kc_trust_root_verify(next->root_f.raw, next->root_f.len, NULL, &next->root,
					  err);
		if (rc)
			return rc;
		/* anchors the root lists as its own keys; one valid signature of them is enough */
		anchored.keys = calloc(c->nanchors, sizeof(*anchored.keys));
		if (!anchored.keys)
			return kc_err_set(err, -ENOMEM, "out of memory");
		anchored.threshold = 1;
		const struct kc_trust_rolekeys *rk = &next->root.roles[KC_TRUST_ROOT];

		for (size_t a = 0; a < c->nanchors; a++)
			for (size_t k = 0; k < rk->nkeys; k++)
				if (!strcmp(c->anchors[a].keyid, rk->keys[k].keyid))
					anchored.keys[anchored.nkeys++] = c->anchors[a];
		struct kc_trust_envelope env;

		rc = kc_trust_envelope_parse(next->root_f.raw, next->root_f.len, &env, err);
		if (!rc) {
			rc = anchored.nkeys
				 ? kc_trust_envelope_verify(&env, &anchored, "root.json", err)
				 : kc_err_set(err, -EKEYREJECTED,
					      "'root.json' is not signed by an imported root key");
			kc_trust_envelope_release(&env);
		}
		free(anchored.keys);
		if (rc)
			return rc;
	}
	for (int i = 0; i < KC_TRUST_MAX_ROOT_WALK; i++) {
		struct kc_trust_file f = {0};
		struct kc_trust_root r;
		char name[48];

		snprintf(name, sizeof(name), "%llu.root.json",
			 (unsigned long long)next->root.version + 1);
		rc = kc_trust_fetch(fetch, ctx, name, KC_TRUST_MAX_ROOT, &f.raw, &f.len, err);
		if (rc == -ENOENT)
			break;
		if (rc)
			return rc;
		rc = kc_trust_root_verify(f.raw, f.len, &next->root, &r, err);
		if (rc) {
			kc_trust_file_release(&f);
			return rc;
		}
		kc_trust_root_release(&next->root);
		kc_trust_file_release(&next->root_f);
		next->root = r;
		move_file(&next->root_f, &f);
	}
	kc_err_clear(err);
	return 0;
}

/*
 * After a root rotation, files signed by keys the new root no longer gives
 * their role cannot vouch for anything: dropping them is how a client
 * recovers from a compromised online key (the attacker could have pushed
 * versions up to the maximum). New timestamp or snapshot keys drop both
 * files (as TUF does); new targets keys drop the feed files and the
 * snapshot, whose feed versions would otherwise block the recovery.
 */
static void drop_rotated(const struct kc_trust_root *newroot, struct kc_trust_set *base)
{
	const struct kc_trust_rolekeys *o = base->root.roles, *n = newroot->roles;

	if (!kc_trust_rolekeys_equal(&o[KC_TRUST_TIMESTAMP], &n[KC_TRUST_TIMESTAMP]) ||
	    !kc_trust_rolekeys_equal(&o[KC_TRUST_SNAPSHOT], &n[KC_TRUST_SNAPSHOT])) {
		kc_trust_file_release(&base->ts_f);
		memset(&base->ts, 0, sizeof(base->ts));
		kc_trust_file_release(&base->snap_f);
		kc_trust_snapshot_release(&base->snap);
	}
	if (!kc_trust_rolekeys_equal(&o[KC_TRUST_TARGETS], &n[KC_TRUST_TARGETS])) {
		kc_trust_file_release(&base->snap_f);
		kc_trust_snapshot_release(&base->snap);
		for (size_t i = 0; i < base->nfeeds; i++) {
			free(base->feeds[i].name);
			kc_trust_targets_release(&base->feeds[i].tg);
			kc_trust_file_release(&base->feeds[i].f);
		}
		base->nfeeds = 0;
	}
}

/* Step 2: timestamp.json, newest of all, naming the snapshot. */
static int update_timestamp(struct kc_trust_set *base, kc_trust_fetch_fn fetch, void *ctx,
			    int64_t now, struct kc_trust_set *next, struct kc_err *err)
{
	struct kc_trust_envelope env;
	int rc;

	rc = kc_trust_fetch(fetch, ctx, "timestamp.json", KC_TRUST_MAX_TIMESTAMP, &next->ts_f.raw,
			    &next->ts_f.len, err);
	if (rc)
		return rc;
	rc = kc_trust_open_signed(next->ts_f.raw, next->ts_f.len, KC_TRUST_TIMESTAMP,
				  &next->root.roles[KC_TRUST_TIMESTAMP], "timestamp.json", &env,
				  err);
	if (rc)
		return rc;
	rc = kc_trust_timestamp_decode(env.payload, env.payload_len, &next->ts, err);
	kc_trust_envelope_release(&env);
	if (rc)
		return kc_err_prefix(err, "'timestamp.json'");
	if (base->ts_f.raw) {
		const struct kc_trust_timestamp *old = &base->ts;

		if (next->ts.version < old->version)
			return kc_err_set(
			    err, -ESTALE, "timestamp version %llu is older than the trusted %llu",
			    (unsigned long long)next->ts.version, (unsigned long long)old->version);
		if (next->ts.version == old->version &&
		    (next->ts_f.len != base->ts_f.len ||
		     memcmp(next->ts_f.raw, base->ts_f.raw, next->ts_f.len)))
			return kc_err_set(err, -ESTALE,
					  "timestamp version %llu reused with different content",
					  (unsigned long long)old->version);
		if (next->ts.snapshot.version < old->snapshot.version)
			return kc_err_set(
			    err, -ESTALE,
			    "timestamp names snapshot version %llu, older than the trusted %llu",
			    (unsigned long long)next->ts.snapshot.version,
			    (unsigned long long)old->snapshot.version);
	}
	if (expired(next->ts.expires, now))
		return refuse_expired("timestamp", next->ts.expires, err);
	return 0;
}

static int snap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kc_trust_snapentry *)a)->name,
		      ((const struct kc_trust_snapentry *)b)->name);
}

static const struct kc_trust_snapentry *snap_find(const struct kc_trust_snapshot *snap,
						  const char *name)
{
	struct kc_trust_snapentry key = {(char *)name, {0}};

	if (!snap->nfeeds)
		return NULL;
	return bsearch(&key, snap->feeds, snap->nfeeds, sizeof(key), snap_cmp);
}

/* Step 3: the snapshot the timestamp names, checked against the trusted one. */
static int update_snapshot(struct kc_trust_set *base, kc_trust_fetch_fn fetch, void *ctx,
			   int64_t now, struct kc_trust_set *next, struct kc_err *err)
{
	const struct kc_trust_metaref *m = &next->ts.snapshot;
	struct kc_trust_envelope env;
	char name[48];
	int rc;

	snprintf(name, sizeof(name), "%llu.snapshot.json", (unsigned long long)m->version);
	if (base->snap_f.raw && base->snap.version == m->version && matches(&base->snap_f, m)) {
		/* unchanged: the trusted copy is the file the timestamp names */
		move_file(&next->snap_f, &base->snap_f);
		next->snap = base->snap;
		memset(&base->snap, 0, sizeof(base->snap));
	} else {
		rc = fetch_named(fetch, ctx, name, KC_TRUST_MAX_SNAPSHOT, m, &next->snap_f, err);
		if (rc)
			return rc;
		rc = kc_trust_open_signed(next->snap_f.raw, next->snap_f.len, KC_TRUST_SNAPSHOT,
					  &next->root.roles[KC_TRUST_SNAPSHOT], name, &env, err);
		if (rc)
			return rc;
		rc = kc_trust_snapshot_decode(env.payload, env.payload_len, &next->snap, err);
		kc_trust_envelope_release(&env);
		if (rc)
			return kc_err_prefix(err, "'%s'", name);
		if (next->snap.version != m->version)
			return kc_err_set(err, -EILSEQ, "'%s' holds snapshot version %llu", name,
					  (unsigned long long)next->snap.version);
	}
	if (base->snap_f.raw) {
		if (next->snap.version < base->snap.version)
			return kc_err_set(err, -ESTALE,
					  "snapshot version %llu is older than the trusted %llu",
					  (unsigned long long)next->snap.version,
					  (unsigned long long)base->snap.version);
		/* reaching here with an equal version means the bytes differ */
		if (next->snap.version == base->snap.version)
			return kc_err_set(err, -ESTALE,
					  "snapshot version %llu reused with different content",
					  (unsigned long long)next->snap.version);
		for (size_t i = 0; i < base->snap.nfeeds; i++) {
			const struct kc_trust_snapentry *o = &base->snap.feeds[i];
			const struct kc_trust_snapentry *e = snap_find(&next->snap, o->name);

			if (e && e->meta.version < o->meta.version)
				return kc_err_set(
				    err, -ESTALE,
				    "snapshot lists '%s' version %llu, older than the trusted %llu",
				    o->name, (unsigned long long)e->meta.version,
				    (unsigned long long)o->meta.version);
		}
	}
	if (expired(next->snap.expires, now))
		return refuse_expired("snapshot", next->snap.expires, err);
	return 0;
}

static struct kc_trust_cfeed *feed_find(struct kc_trust_set *s, const char *name)
{
	for (size_t i = 0; i < s->nfeeds; i++)
		if (!strcmp(s->feeds[i].name, name))
			return &s->feeds[i];
	return NULL;
}

/* Step 4: one wanted feed file, with the length, hash and version the snapshot gives. */
static int update_feed(struct kc_trust_set *base, kc_trust_fetch_fn fetch, void *ctx,
		       const struct kc_trust_feed_ref *ref, int64_t now, struct kc_trust_set *next,
		       struct kc_err *err)
{
	struct kc_trust_cfeed *old, *cf;
	const struct kc_trust_snapentry *e;
	struct kc_trust_envelope env;
	char name[KC_TRUST_PATH_MAX + 1], vname[KC_TRUST_PATH_MAX + 32];
	int rc;

	if (!ref->feed || !ref->product ||
	    kc_trust_feed_name(ref->feed, ref->product, name, sizeof(name)))
		return kc_err_set(err, -EINVAL, "bad feed or product name '%s/%s'",
				  ref->feed ? ref->feed : "", ref->product ? ref->product : "");
	if (feed_find(next, name))
		return 0; /* wanted twice */
	e = snap_find(&next->snap, name);
	if (!e)
		return kc_err_set(err, -ENOENT, "snapshot does not list '%s'", name);
	cf = &next->feeds[next->nfeeds];
	memset(cf, 0, sizeof(*cf));
	cf->name = strdup(name);
	if (!cf->name)
		return kc_err_set(err, -ENOMEM, "out of memory");
	next->nfeeds++;
	old = feed_find(base, name);
	if (old && old->tg.version == e->meta.version && matches(&old->f, &e->meta)) {
		move_file(&cf->f, &old->f);
		cf->tg = old->tg;
		memset(&old->tg, 0, sizeof(old->tg));
	} else {
		kc_trust_feed_vname(ref->feed, ref->product, e->meta.version, vname, sizeof(vname));
		rc = fetch_named(fetch, ctx, vname, KC_TRUST_MAX_FEED, &e->meta, &cf->f, err);
		if (rc)
			return rc;
		rc = kc_trust_open_signed(cf->f.raw, cf->f.len, KC_TRUST_TARGETS,
					  &next->root.roles[KC_TRUST_TARGETS], vname, &env, err);
		if (rc)
			return rc;
		rc = kc_trust_targets_decode(env.payload, env.payload_len, &cf->tg, err);
		kc_trust_envelope_release(&env);
		if (rc)
			return kc_err_prefix(err, "'%s'", vname);
		if (cf->tg.version != e->meta.version)
			return kc_err_set(err, -EILSEQ,
					  "'%s' holds version %llu, the snapshot says %llu", vname,
					  (unsigned long long)cf->tg.version,
					  (unsigned long long)e->meta.version);
		if (strcmp(cf->tg.feed, ref->feed) || strcmp(cf->tg.product, ref->product))
			return kc_err_set(err, -EILSEQ, "'%s' is the feed file of '%s/%s'", vname,
					  cf->tg.feed, cf->tg.product);
		if (old && cf->tg.version < old->tg.version)
			return kc_err_set(err, -ESTALE,
					  "'%s' version %llu is older than the trusted %llu", name,
					  (unsigned long long)cf->tg.version,
					  (unsigned long long)old->tg.version);
		if (old && cf->tg.version == old->tg.version)
			return kc_err_set(err, -ESTALE,
					  "'%s' version %llu reused with different content", name,
					  (unsigned long long)cf->tg.version);
	}
	if (expired(cf->tg.expires, now)) {
		char what[KC_TRUST_PATH_MAX + 16];

		snprintf(what, sizeof(what), "'%s'", name);
		return refuse_expired(what, cf->tg.expires, err);
	}
	return 0;
}

/* Feeds not asked for this time stay only if the new snapshot names them unchanged. */
static void keep_unwanted(struct kc_trust_set *base, struct kc_trust_set *next)
{
	for (size_t i = 0; i < base->nfeeds; i++) {
		struct kc_trust_cfeed *old = &base->feeds[i];
		const struct kc_trust_snapentry *e;

		if (!old->f.raw || feed_find(next, old->name))
			continue;
		e = snap_find(&next->snap, old->name);
		if (!e || old->tg.version != e->meta.version || !matches(&old->f, &e->meta))
			continue;
		next->feeds[next->nfeeds++] = *old;
		memset(old, 0, sizeof(*old));
	}
}

int kc_trust_client_update(struct kc_trust_client *c, kc_trust_fetch_fn fetch, void *ctx,
			   const struct kc_trust_feed_ref *wanted, size_t nwanted, int64_t now,
			   struct kc_err *err)
{
	struct kc_trust_set base = {0}, next = {0};
	struct kc_trust_pubkey *anchors = NULL;
	size_t nanchors = 0;
	int lock, rc;

	KC_BUG_ON(!c || !fetch || (nwanted && !wanted));
	lock = kc_trust_lock(c->dir, "lock", err);
	if (lock < 0)
		return lock;
	/* start from the disk, not from @c: another process may have updated since open */
	rc = kc_trust_state_load(c->dir, &base, &anchors, &nanchors, err);
	if (rc)
		goto out;
	free(c->anchors);
	c->anchors = anchors;
	c->nanchors = nanchors;

	rc = update_root(c, &base, fetch, ctx, &next, err);
	if (rc)
		goto out;
	if (expired(next.root.expires, now)) {
		rc = refuse_expired("root", next.root.expires, err);
		goto out;
	}
	if (base.root_f.raw && base.root.version != next.root.version)
		drop_rotated(&next.root, &base);
	rc = update_timestamp(&base, fetch, ctx, now, &next, err);
	if (!rc)
		rc = update_snapshot(&base, fetch, ctx, now, &next, err);
	if (rc)
		goto out;
	next.feeds = calloc(nwanted + base.nfeeds + 1, sizeof(*next.feeds));
	if (!next.feeds) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; !rc && i < nwanted; i++)
		rc = update_feed(&base, fetch, ctx, &wanted[i], now, &next, err);
	if (rc)
		goto out;
	keep_unwanted(&base, &next);

	rc = kc_trust_state_commit(c->dir, &next, err);
	if (rc)
		goto out;
	kc_trust_set_release(&c->set);
	c->set = next;
	memset(&next, 0, sizeof(next));
out:
	kc_trust_set_release(&next);
	kc_trust_set_release(&base);
	close(lock);
	return rc;
}

int kc_trust_client_feed(const struct kc_trust_client *c, const char *feed, const char *product,
			 int64_t now, const struct kc_trust_target **targets, size_t *ntargets,
			 struct kc_err *err)
{
	char name[KC_TRUST_PATH_MAX + 1];
	const struct kc_trust_cfeed *cf = NULL;

	if (kc_trust_feed_name(feed, product, name, sizeof(name)))
		return kc_err_set(err, -EINVAL, "bad feed or product name '%s/%s'", feed, product);
	for (size_t i = 0; i < c->set.nfeeds && !cf; i++)
		if (!strcmp(c->set.feeds[i].name, name))
			cf = &c->set.feeds[i];
	if (!cf || !c->set.ts_f.raw || !c->set.snap_f.raw)
		return kc_err_set(err, -ENOENT, "no verified metadata for feed '%s/%s'", feed,
				  product);
	if (expired(c->set.root.expires, now))
		return refuse_expired("root", c->set.root.expires, err);
	if (expired(c->set.ts.expires, now))
		return refuse_expired("timestamp", c->set.ts.expires, err);
	if (expired(c->set.snap.expires, now))
		return refuse_expired("snapshot", c->set.snap.expires, err);
	if (expired(cf->tg.expires, now))
		return refuse_expired(name, cf->tg.expires, err);
	*targets = cf->tg.targets;
	*ntargets = cf->tg.ntargets;
	return 0;
}

void kc_trust_client_status(const struct kc_trust_client *c, struct kc_trust_status *st)
{
	memset(st, 0, sizeof(*st));
	if (c->set.root_f.raw) {
		st->root_version = c->set.root.version;
		st->root_expires = c->set.root.expires;
	}
	if (c->set.ts_f.raw) {
		st->timestamp_version = c->set.ts.version;
		st->timestamp_expires = c->set.ts.expires;
	}
	if (c->set.snap_f.raw) {
		st->snapshot_version = c->set.snap.version;
		st->snapshot_expires = c->set.snap.expires;
	}
}
