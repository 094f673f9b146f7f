// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Signed feed metadata, end to end with real crypto: a repository written
 * by the writer, a client updating from it through a file-backed fetch
 * callback, and every refusal made on purpose (tampered payload and
 * signature, wrong keys, replays, expiry, mix-and-match, oversize files),
 * each leaving the client's state byte for byte as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <sodium.h>

#include "kcare/trust.h"
#include "lib/trust-int.h"

#define T0  1767225600 /* 2026-01-01T00:00:00Z */
#define DAY 86400

struct override {
	char name[128];
	unsigned char *buf; /* owned */
	size_t len;
	int rc; /* returned instead when non-zero */
};

struct fx {
	char tmp[64], repo[128], state[128];
	struct kc_trust_key root, ts, snap, tgt;
	unsigned char blob[2][100];
	char blob_path[2][KC_TRUST_PATH_MAX + 1];
	struct kc_trust_target targets[2];
	struct override ovr[4];
	int novr;
	bool ignore_max; /* a careless fetch source that returns more than asked */
	int fetches;
};

/* Fixture. */

static int fetch_file(void *ctx, const char *name, size_t max_len, unsigned char **buf, size_t *len,
		      struct kc_err *err)
{
	struct fx *f = ctx;
	char path[512];
	FILE *fp;
	long n;

	f->fetches++;
	for (int i = 0; i < f->novr; i++) {
		if (strcmp(f->ovr[i].name, name) != 0)
			continue;
		if (f->ovr[i].rc)
			return kc_err_set(err, f->ovr[i].rc, "override");
		if (f->ovr[i].len > max_len && !f->ignore_max)
			return -EFBIG;
		*buf = malloc(f->ovr[i].len + 1);
		memcpy(*buf, f->ovr[i].buf, f->ovr[i].len);
		*len = f->ovr[i].len;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", f->repo, name);
	fp = fopen(path, "rb");
	if (!fp)
		return -ENOENT;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	if ((size_t)n > max_len && !f->ignore_max) {
		fclose(fp);
		return -EFBIG;
	}
	*buf = malloc((size_t)n + 1);
	assert_int_equal(fread(*buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return 0;
}

static void override(struct fx *f, const char *name, const void *buf, size_t len)
{
	struct override *o = &f->ovr[f->novr++];

	assert_true(f->novr <= 4);
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->buf = malloc(len + 1);
	memcpy(o->buf, buf, len);
	o->len = len;
	o->rc = 0;
}

static void clear_overrides(struct fx *f)
{
	for (int i = 0; i < f->novr; i++)
		free(f->ovr[i].buf);
	f->novr = 0;
}

static unsigned char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[512];
	unsigned char *buf;
	struct kc_err err = KC_ERR_INIT;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(kc_trust_read_file(path, 1 << 26, &buf, len, &err), 0);
	return buf;
}

static void root_desc(struct kc_trust_root_desc *d, const struct kc_trust_key *root,
		      const struct kc_trust_key *ts, const struct kc_trust_key *snap,
		      const struct kc_trust_key *tgt, int64_t expires)
{
	memset(d, 0, sizeof(*d));
	d->roles[KC_TRUST_ROOT] = (struct kc_trust_role_keys){&root->pub, 1, 1};
	d->roles[KC_TRUST_TIMESTAMP] = (struct kc_trust_role_keys){&ts->pub, 1, 1};
	d->roles[KC_TRUST_SNAPSHOT] = (struct kc_trust_role_keys){&snap->pub, 1, 1};
	d->roles[KC_TRUST_TARGETS] = (struct kc_trust_role_keys){&tgt->pub, 1, 1};
	d->expires = expires;
}

static void publish(struct fx *f, int64_t now, int nblobs)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_online_keys keys = {&f->ts, &f->snap, &f->tgt};
	struct kc_trust_feed_desc feeds[2] = {
	    {"main", "libs", f->targets, (size_t)nblobs},
	    {"main", "kernel", f->targets + 1, 1},
	};
	struct kc_trust_publish_opts o = {.now = now};
	int rc = kc_trust_repo_publish(f->repo, &keys, feeds, 2, &o, &err);

	if (rc)
		fail_msg("publish: %s", err.msg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_root_desc d;
	const struct kc_trust_key *signers[1];
	uint64_t v = 0;

	snprintf(f->tmp, sizeof(f->tmp), "/tmp/kc-test-trust-XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->repo, sizeof(f->repo), "%s/repo", f->tmp);
	snprintf(f->state, sizeof(f->state), "%s/state", f->tmp);
	assert_int_equal(kc_trust_key_generate(&f->root, &err), 0);
	assert_int_equal(kc_trust_key_generate(&f->ts, &err), 0);
	assert_int_equal(kc_trust_key_generate(&f->snap, &err), 0);
	assert_int_equal(kc_trust_key_generate(&f->tgt, &err), 0);
	root_desc(&d, &f->root, &f->ts, &f->snap, &f->tgt, T0 + 365 * DAY);
	signers[0] = &f->root;
	assert_int_equal(kc_trust_repo_write_root(f->repo, &d, signers, 1, &v, &err), 0);
	assert_int_equal(v, 1);
	for (int i = 0; i < 2; i++) {
		memset(f->blob[i], 'a' + i, sizeof(f->blob[i]));
		assert_int_equal(kc_trust_blob_put(f->repo, f->blob[i], sizeof(f->blob[i]),
						   &f->targets[i], f->blob_path[i], &err),
				 0);
		f->targets[i].custom = json_object_new_object();
		json_object_object_add(f->targets[i].custom, "patchset",
				       json_object_new_string(i ? "K20260115_01" : "U20260115_01"));
		json_object_object_add(f->targets[i].custom, "level", json_object_new_int(i + 1));
	}
	publish(f, T0, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	clear_overrides(f);
	for (int i = 0; i < 2; i++)
		json_object_put(f->targets[i].custom);
	kc_trust_key_wipe(&f->root);
	kc_trust_key_wipe(&f->ts);
	kc_trust_key_wipe(&f->snap);
	kc_trust_key_wipe(&f->tgt);
	kc_trust_remove_tree(f->tmp, NULL);
	free(f);
	return 0;
}

static struct kc_trust_client *client_from_root1(struct fx *f)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = NULL;
	size_t len;
	unsigned char *root = slurp(f->repo, "1.root.json", &len);

	assert_int_equal(kc_trust_client_init(f->state, root, len, 0, &err), 0);
	free(root);
	assert_int_equal(kc_trust_client_open(f->state, &c, &err), 0);
	return c;
}

static const struct kc_trust_feed_ref want_libs[] = {{"main", "libs"}};

static int update(struct fx *f, struct kc_trust_client *c, int64_t now, struct kc_err *err)
{
	kc_err_clear(err);
	return kc_trust_client_update(c, fetch_file, f, want_libs, 1, now, err);
}

/* Hash of every name, link target and byte under the state directory. */
static crypto_hash_sha256_state *digest_st;

static int digest_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	crypto_hash_sha256_update(digest_st, (const unsigned char *)path, strlen(path) + 1);
	if (flag == FTW_SL) {
		char target[256];
		ssize_t n = readlink(path, target, sizeof(target));

		crypto_hash_sha256_update(digest_st, (const unsigned char *)target, (size_t)n);
	} else if (flag == FTW_F && !strstr(path, "/lock")) {
		unsigned char *buf;
		size_t len;
		struct kc_err err = KC_ERR_INIT;

		assert_int_equal(kc_trust_read_file(path, 1 << 26, &buf, &len, &err), 0);
		crypto_hash_sha256_update(digest_st, buf, len);
		free(buf);
	}
	(void)st;
	return 0;
}

static void state_digest(struct fx *f, char out[65])
{
	crypto_hash_sha256_state st;
	unsigned char sha[32];

	crypto_hash_sha256_init(&st);
	digest_st = &st;
	/* readdir order of an unchanged directory is stable, which is all this needs */
	assert_int_equal(nftw(f->state, digest_one, 16, FTW_PHYS), 0);
	crypto_hash_sha256_final(&st, sha);
	kc_trust_hex(sha, 32, out);
}

/* Runs an update that must fail with @code and must leave the state as it was. */
static void expect_refused(struct fx *f, struct kc_trust_client *c, int64_t now, int code,
			   const char *msg_part)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_status before, after;
	char d1[65], d2[65];
	int rc;

	state_digest(f, d1);
	kc_trust_client_status(c, &before);
	rc = update(f, c, now, &err);
	if (rc != code)
		fail_msg("expected %d, got %d: %s", code, rc, err.msg);
	assert_int_equal(err.code, code);
	if (msg_part && !strstr(err.msg, msg_part))
		fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
	state_digest(f, d2);
	assert_string_equal(d1, d2);
	kc_trust_client_status(c, &after);
	assert_memory_equal(&before, &after, sizeof(before));
}

/* Re-signs @payload as @role with @key into a full signed file; caller frees. */
static char *sign_as(enum kc_trust_role role, const char *payload, const struct kc_trust_key *key,
		     size_t *len)
{
	struct kc_err err = KC_ERR_INIT;
	char *out;

	assert_int_equal(
	    kc_trust_envelope_sign(role, payload, strlen(payload), &key, 1, &out, len, &err), 0);
	return out;
}

/* The payload of a signed file in the repository, as a string; caller frees. */
static char *payload_of(struct fx *f, const char *name)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_envelope env;
	size_t len;
	unsigned char *buf = slurp(f->repo, name, &len);
	char *p;

	assert_int_equal(kc_trust_envelope_parse(buf, len, &env, &err), 0);
	p = strdup((const char *)env.payload);
	kc_trust_envelope_release(&env);
	free(buf);
	return p;
}

/* Replaces the first @from in @s by @to (same or any length); caller frees. */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n = strlen(s) - strlen(from) + strlen(to);
	char *out = malloc(n + 1);

	assert_non_null(at);
	snprintf(out, n + 1, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return out;
}

/* Builds timestamp v@tsv -> snapshot (payload @snap_payload) and serves both. */
static void serve_chain(struct fx *f, uint64_t tsv, const char *snap_payload, uint64_t snapv,
			int64_t ts_expires)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_timestamp ts = {tsv, ts_expires, {snapv, 0, {0}}};
	char *ss, *tp, *tsg, name[64];
	size_t sl, tl, pl;

	ss = sign_as(KC_TRUST_SNAPSHOT, snap_payload, &f->snap, &sl);
	ts.snapshot.length = sl;
	kc_trust_sha256(ss, sl, ts.snapshot.sha256);
	assert_int_equal(kc_trust_timestamp_encode(&ts, &tp, &pl, &err), 0);
	tsg = sign_as(KC_TRUST_TIMESTAMP, tp, &f->ts, &tl);
	snprintf(name, sizeof(name), "%llu.snapshot.json", (unsigned long long)snapv);
	override(f, "timestamp.json", tsg, tl);
	override(f, name, ss, sl);
	free(ss);
	free(tp);
	free(tsg);
}

/* Keys, encodings, envelope. */

static void test_trust__key_files_round_trip(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_key k, back;
	struct kc_trust_pubkey pub;
	char sec[256], pubp[256];
	struct stat st;
	unsigned char *text;
	size_t len;

	snprintf(sec, sizeof(sec), "%s/k.secret", f->tmp);
	snprintf(pubp, sizeof(pubp), "%s/k.pub", f->tmp);
	assert_int_equal(kc_trust_key_generate(&k, &err), 0);
	assert_int_equal(kc_trust_key_save(&k, sec, &err), 0);
	assert_int_equal(kc_trust_pubkey_save(&k.pub, pubp, &err), 0);
	assert_int_equal(stat(sec, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pubp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(kc_trust_key_load(sec, &back, &err), 0);
	assert_memory_equal(back.sk, k.sk, sizeof(k.sk));
	assert_string_equal(back.pub.keyid, k.pub.keyid);
	assert_int_equal(kc_trust_pubkey_load(pubp, &pub, &err), 0);
	assert_memory_equal(pub.pk, k.pub.pk, sizeof(pub.pk));
	assert_string_equal(pub.keyid, k.pub.keyid);
	text = slurp(f->tmp, "k.pub", &len);
	assert_true(!strncmp((char *)text, "kcare-ed25519-public ", 21));
	assert_int_equal(text[len - 1], '\n');
	free(text);

	/* a secret file whose public half is another key's */
	text = slurp(f->tmp, "k.secret", &len);
	struct kc_trust_key other;

	assert_int_equal(kc_trust_key_generate(&other, &err), 0);
	memcpy(k.sk + 32, other.pub.pk, 32);
	assert_int_equal(kc_trust_key_save(&k, sec, &err), 0);
	assert_int_equal(kc_trust_key_load(sec, &back, &err), -EKEYREJECTED);
	free(text);

	assert_int_equal(kc_trust_pubkey_parse("kcare-ed25519-public AAAA", 25, &pub, &err),
			 -EBADMSG);
	assert_int_equal(kc_trust_pubkey_parse("ssh-ed25519 AAAA", 16, &pub, &err), -EBADMSG);
	assert_int_equal(kc_trust_key_load(pubp, &back, &err), -EBADMSG);
	kc_trust_key_wipe(&k);
	kc_trust_key_wipe(&other);
	kc_trust_key_wipe(&back);
}

static void test_trust__encodings(void **state)
{
	int64_t t;
	char buf[32];
	unsigned char bin[4], *dec;
	size_t n;

	(void)state;
	assert_int_equal(kc_trust_time_parse("2026-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, T0);
	kc_trust_time_fmt(T0 + 61, buf);
	assert_string_equal(buf, "2026-01-01T00:01:01Z");
	assert_int_equal(kc_trust_time_parse("2026-02-31T00:00:00Z", &t), -EINVAL);
	assert_int_equal(kc_trust_time_parse("2026-01-01 00:00:00Z", &t), -EINVAL);
	assert_int_equal(kc_trust_time_parse("2026-01-01T00:00:00", &t), -EINVAL);
	assert_int_equal(kc_trust_time_parse("+026-01-01T00:00:00Z", &t), -EINVAL);
	assert_true(kc_trust_name_ok("main"));
	assert_true(kc_trust_name_ok("12h"));
	assert_false(kc_trust_name_ok(".."));
	assert_false(kc_trust_name_ok("a/b"));
	assert_false(kc_trust_name_ok(""));
	assert_true(kc_trust_path_ok("blobs/abc"));
	assert_false(kc_trust_path_ok("/etc/passwd"));
	assert_false(kc_trust_path_ok("blobs/../x"));
	assert_false(kc_trust_path_ok("blobs//x"));
	assert_false(kc_trust_path_ok("blobs/x/"));
	assert_false(kc_trust_path_ok("blobs/a b"));
	assert_int_equal(kc_trust_unhex("0aFf", bin, 2), 0);
	assert_int_equal(bin[1], 0xff);
	assert_int_equal(kc_trust_unhex("0a", bin, 2), -EINVAL);
	assert_int_equal(kc_trust_unhex("zz", bin, 1), -EINVAL);
	assert_int_equal(kc_trust_unb64("YWJj", 4, &dec, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(dec, "abc", 3);
	free(dec);
	assert_int_equal(kc_trust_unb64("YWJ", 3, &dec, &n), -EINVAL);
	assert_int_equal(kc_trust_unb64("YWJk=", 5, &dec, &n), -EINVAL);
	assert_int_equal(kc_trust_unb64("YR==", 4, &dec, &n), -EINVAL); /* stray bits */
}

static void test_trust__envelope_threshold_and_tamper(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	const struct kc_trust_key *two[] = {&f->ts, &f->snap, &f->ts};
	struct kc_trust_pubkey pubs[3] = {f->ts.pub, f->snap.pub, f->tgt.pub};
	struct kc_trust_rolekeys rk = {pubs, 3, 2};
	struct kc_trust_envelope env;
	char *out, *bad;
	size_t len;

	assert_int_equal(
	    kc_trust_envelope_sign(KC_TRUST_SNAPSHOT, "{}", 2, two, 3, &out, &len, &err), 0);
	assert_int_equal(kc_trust_open_signed(out, len, KC_TRUST_SNAPSHOT, &rk, "x", &env, &err),
			 0);
	assert_int_equal(env.payload_len, 2);
	kc_trust_envelope_release(&env);
	/* a payload of one role never passes as another's */
	assert_int_equal(kc_trust_open_signed(out, len, KC_TRUST_TIMESTAMP, &rk, "x", &env, &err),
			 -EBADMSG);
	/* two signatures by one key count once */
	rk.threshold = 3;
	assert_int_equal(kc_trust_open_signed(out, len, KC_TRUST_SNAPSHOT, &rk, "x", &env, &err),
			 -EKEYREJECTED);
	assert_non_null(strstr(err.msg, "2 valid signature(s)"));
	rk.threshold = 1;
	free(out);

	assert_int_equal(
	    kc_trust_envelope_sign(KC_TRUST_SNAPSHOT, "{\"a\":1}", 7, two, 1, &out, &len, &err), 0);
	/* "eyJhIjoxfQ==" is {"a":1}; "eyJhIjoyfQ==" is {"a":2} */
	bad = replace(out, "eyJhIjoxfQ==", "eyJhIjoyfQ==");
	assert_int_equal(
	    kc_trust_open_signed(bad, strlen(bad), KC_TRUST_SNAPSHOT, &rk, "x", &env, &err),
	    -EKEYREJECTED);
	free(bad);
	bad = strdup(out);
	char *sig = strstr(bad, "\"sig\":\"") + 7;

	sig[5] = sig[5] == 'A' ? 'B' : 'A';
	assert_int_equal(
	    kc_trust_open_signed(bad, strlen(bad), KC_TRUST_SNAPSHOT, &rk, "x", &env, &err),
	    -EKEYREJECTED);
	free(bad);
	bad = replace(out, "\"signatures\":[{", "\"signatures\":[],\"x\":[{");
	assert_int_equal(
	    kc_trust_open_signed(bad, strlen(bad), KC_TRUST_SNAPSHOT, &rk, "x", &env, &err),
	    -EBADMSG);
	free(bad);
	{
		const char *unsigned_ = "{\"payload_type\":\"application/vnd.kcare.snapshot+json\","
					"\"payload\":\"e30=\",\"signatures\":[]}";

		assert_int_equal(kc_trust_open_signed(unsigned_, strlen(unsigned_),
						      KC_TRUST_SNAPSHOT, &rk, "x", &env, &err),
				 -EKEYREJECTED);
	}
	assert_int_equal(kc_trust_open_signed("[1]", 3, KC_TRUST_SNAPSHOT, &rk, "x", &env, &err),
			 -EBADMSG);
	assert_int_equal(
	    kc_trust_open_signed(out, len - 1, KC_TRUST_SNAPSHOT, &rk, "x", &env, &err), -EBADMSG);
	free(out);
}

/* Repository -> client. */

static void test_trust__round_trip(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = client_from_root1(f);
	const struct kc_trust_target *t;
	struct kc_trust_status st;
	unsigned char *blob;
	size_t n, len;
	struct json_object *v;

	assert_int_equal(update(f, c, T0 + 60, &err), 0);
	assert_int_equal(kc_trust_client_feed(c, "main", "libs", T0 + 60, &t, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].path, f->targets[0].path);
	assert_int_equal(t[0].length, 100);
	assert_memory_equal(t[0].sha256, f->targets[0].sha256, 32);
	assert_true(json_object_object_get_ex(t[0].custom, "patchset", &v));
	assert_string_equal(json_object_get_string(v), "U20260115_01");
	assert_int_equal(kc_trust_client_fetch_target(fetch_file, f, &t[0], &blob, &len, &err), 0);
	assert_int_equal(len, 100);
	assert_memory_equal(blob, f->blob[0], 100);
	free(blob);
	/* only wanted feeds are held */
	assert_int_equal(kc_trust_client_feed(c, "main", "kernel", T0 + 60, &t, &n, &err), -ENOENT);
	kc_trust_client_status(c, &st);
	assert_int_equal(st.root_version, 1);
	assert_int_equal(st.timestamp_version, 1);
	assert_int_equal(st.snapshot_version, 1);
	assert_int_equal(st.timestamp_expires, T0 + DAY);

	/* a second client instance sees the same state from disk */
	struct kc_trust_client *c2;

	assert_int_equal(kc_trust_client_open(f->state, &c2, &err), 0);
	assert_int_equal(kc_trust_client_feed(c2, "main", "libs", T0 + 60, &t, &n, &err), 0);
	assert_int_equal(n, 1);
	kc_trust_client_free(c2);

	/* nothing new: only the timestamp is fetched again (snapshot and feed reused) */
	publish(f, T0 + 120, 1);
	f->fetches = 0;
	assert_int_equal(update(f, c, T0 + 180, &err), 0);
	assert_int_equal(f->fetches, 3); /* 2.root.json (absent), timestamp, snapshot v2 */
	kc_trust_client_status(c, &st);
	assert_int_equal(st.snapshot_version, 2);

	/* a new entry: the feed file gets a new version */
	publish(f, T0 + 240, 2);
	assert_int_equal(update(f, c, T0 + 300, &err), 0);
	assert_int_equal(kc_trust_client_feed(c, "main", "libs", T0 + 300, &t, &n, &err), 0);
	assert_int_equal(n, 2);
	/* held metadata goes stale for callers too */
	assert_int_equal(kc_trust_client_feed(c, "main", "libs", T0 + 240 + DAY, &t, &n, &err),
			 -EKEYEXPIRED);
	assert_non_null(strstr(err.msg, "timestamp expired"));
	kc_trust_client_free(c);
}

static void test_trust__publish_versions(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_snapshot snap;
	struct kc_trust_targets tg;
	char *p;
	unsigned char *buf;
	size_t len;

	publish(f, T0 + 10, 1); /* unchanged */
	p = payload_of(f, "snapshot.json");
	assert_int_equal(kc_trust_snapshot_decode((unsigned char *)p, strlen(p), &snap, &err), 0);
	assert_int_equal(snap.version, 2);
	assert_int_equal(snap.nfeeds, 2);
	assert_string_equal(snap.feeds[0].name, "feeds/main/kernel.json");
	assert_int_equal(snap.feeds[1].meta.version, 1); /* kept */
	kc_trust_snapshot_release(&snap);
	free(p);
	publish(f, T0 + 20, 2); /* libs changed */
	p = payload_of(f, "feeds/main/libs.json");
	assert_int_equal(kc_trust_targets_decode((unsigned char *)p, strlen(p), &tg, &err), 0);
	assert_int_equal(tg.version, 2);
	assert_int_equal(tg.ntargets, 2);
	assert_string_equal(tg.feed, "main");
	kc_trust_targets_release(&tg);
	free(p);
	/* both versions served under versioned names; the timestamp is always new */
	buf = slurp(f->repo, "feeds/main/1.libs.json", &len);
	free(buf);
	buf = slurp(f->repo, "feeds/main/2.libs.json", &len);
	free(buf);
	p = payload_of(f, "timestamp.json");
	assert_non_null(strstr(p, "\"version\":3"));
	free(p);
	/* refresh re-signs the timestamp and keeps the feeds */
	struct kc_trust_online_keys keys = {&f->ts, &f->snap, &f->tgt};
	struct kc_trust_publish_opts o = {.now = T0 + 30};

	assert_int_equal(kc_trust_repo_refresh(f->repo, &keys, &o, &err), 0);
	p = payload_of(f, "timestamp.json");
	assert_non_null(strstr(p, "\"version\":4"));
	free(p);
	p = payload_of(f, "feeds/main/libs.json");
	assert_non_null(strstr(p, "\"version\":2"));
	free(p);
	/* old versions are pruned after a while */
	for (int i = 0; i < 6; i++)
		assert_int_equal(kc_trust_repo_refresh(f->repo, &keys, &o, &err), 0);
	char path[256];

	snprintf(path, sizeof(path), "%s/1.snapshot.json", f->repo);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/10.snapshot.json", f->repo);
	assert_int_equal(access(path, F_OK), 0);
}

static void test_trust__publish_refuses_bad_input(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_online_keys keys = {&f->ts, &f->snap, &f->tgt};
	struct kc_trust_online_keys wrong = {&f->snap, &f->snap, &f->tgt};
	struct kc_trust_publish_opts o = {.now = T0};
	struct kc_trust_feed_desc bad_name = {"../x", "libs", NULL, 0};
	struct kc_trust_feed_desc dup[2] = {{"main", "libs", NULL, 0}, {"main", "libs", NULL, 0}};
	struct kc_trust_target bad_path = {"../etc/passwd", 1, {0}, NULL};
	struct kc_trust_feed_desc with_bad_path = {"main", "libs", &bad_path, 1};
	char empty[256];

	assert_int_equal(kc_trust_repo_publish(f->repo, &wrong, dup, 1, &o, &err), -EKEYREJECTED);
	assert_non_null(strstr(err.msg, "timestamp key"));
	assert_int_equal(kc_trust_repo_publish(f->repo, &keys, &bad_name, 1, &o, &err), -EINVAL);
	assert_int_equal(kc_trust_repo_publish(f->repo, &keys, dup, 2, &o, &err), -EINVAL);
	assert_int_equal(kc_trust_repo_publish(f->repo, &keys, &with_bad_path, 1, &o, &err),
			 -EINVAL);
	snprintf(empty, sizeof(empty), "%s/empty", f->tmp);
	assert_int_equal(kc_trust_repo_publish(empty, &keys, dup, 1, &o, &err), -ENOKEY);
	assert_int_equal(mkdir(empty, 0700), 0);
	assert_int_equal(kc_trust_repo_publish(empty, &keys, dup, 1, &o, &err), -ENOKEY);
}

static void test_trust__refuses_tampered_and_wrongly_signed(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = client_from_root1(f);
	size_t len;
	char *p, *q, *signed_;
	unsigned char *raw;

	assert_int_equal(update(f, c, T0 + 60, &err), 0);
	publish(f, T0 + 120, 2);

	/* a byte of the timestamp payload changed, signature kept */
	raw = slurp(f->repo, "timestamp.json", &len);
	{
		struct kc_trust_envelope env;
		char *b64, *orig_b64, *doc;

		assert_int_equal(kc_trust_envelope_parse(raw, len, &env, &err), 0);
		orig_b64 = kc_trust_b64(env.payload, env.payload_len);
		env.payload[env.payload_len - 3] ^= 1; /* inside the snapshot's sha256 */
		b64 = kc_trust_b64(env.payload, env.payload_len);
		doc = replace((char *)raw, orig_b64, b64);
		override(f, "timestamp.json", doc, strlen(doc));
		expect_refused(f, c, T0 + 180, -EKEYREJECTED, "timestamp.json");
		clear_overrides(f);
		free(doc);
		free(b64);
		free(orig_b64);
		kc_trust_envelope_release(&env);
	}
	/* a byte of the signature changed */
	q = strdup((char *)raw);
	p = strstr(q, "\"sig\":\"") + 10;
	*p = *p == 'A' ? 'B' : 'A';
	override(f, "timestamp.json", q, strlen(q));
	expect_refused(f, c, T0 + 180, -EKEYREJECTED, NULL);
	clear_overrides(f);
	free(q);
	/* unsigned */
	q = strdup((char *)raw);
	p = strstr(q, "\"signatures\":[");
	strcpy(p, "\"signatures\":[]}");
	override(f, "timestamp.json", q, strlen(q));
	expect_refused(f, c, T0 + 180, -EKEYREJECTED, "0 valid signature");
	clear_overrides(f);
	free(q);
	/* garbage */
	override(f, "timestamp.json", "{\"x\":", 5);
	expect_refused(f, c, T0 + 180, -EBADMSG, "malformed");
	clear_overrides(f);
	free(raw);

	/* the right payload signed by the key of another role */
	p = payload_of(f, "timestamp.json");
	signed_ = sign_as(KC_TRUST_TIMESTAMP, p, &f->snap, &len);
	override(f, "timestamp.json", signed_, len);
	expect_refused(f, c, T0 + 180, -EKEYREJECTED, NULL);
	clear_overrides(f);
	free(signed_);
	free(p);
	/* a feed file signed by the root key instead of the targets key, named by a snapshot */
	for (int round = 0; round < 2; round++) {
		const struct kc_trust_key *key = round ? &f->tgt : &f->root;
		char *snapp, *a, *b, hex[65], ref[256];
		const char *e;
		unsigned char sha[32];

		p = payload_of(f, "feeds/main/2.libs.json");
		q = replace(p, "\"version\":2", "\"version\":3");
		signed_ = sign_as(KC_TRUST_TARGETS, q, key, &len);
		free(p);
		free(q);
		kc_trust_sha256(signed_, len, sha);
		snprintf(ref, sizeof(ref), "{\"version\":3,\"length\":%zu,\"sha256\":\"%s\"}", len,
			 kc_trust_sha256_hex(sha, hex));
		snapp = payload_of(f, "2.snapshot.json");
		e = strstr(snapp, "\"feeds/main/libs.json\":") + 23;
		a = strndup(e, (size_t)(strchr(e, '}') - e + 1));
		b = replace(snapp, a, ref);
		free(snapp);
		snapp = replace(b, "\"version\":2", "\"version\":3"); /* the snapshot's own */
		serve_chain(f, 5, snapp, 3, T0 + DAY);
		override(f, "feeds/main/3.libs.json", signed_, len);
		if (round == 0) {
			expect_refused(f, c, T0 + 180, -EKEYREJECTED, "3.libs.json");
		} else {
			/* the same chain with the targets key passes: the refusal was the key */
			char d[65];

			state_digest(f, d);
			if (update(f, c, T0 + 180, &err))
				fail_msg("%s", err.msg);
		}
		clear_overrides(f);
		free(a);
		free(b);
		free(snapp);
		free(signed_);
	}
	/* the real files are older than the chain just accepted: a rollback now */
	expect_refused(f, c, T0 + 180, -ESTALE, "timestamp version 2");
	kc_trust_client_free(c);
}

static void test_trust__refuses_rollback(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = client_from_root1(f);
	unsigned char *old_ts, *old_snap;
	size_t ots_len, osnap_len;
	char *p, *q;

	old_ts = slurp(f->repo, "timestamp.json", &ots_len);
	old_snap = slurp(f->repo, "1.snapshot.json", &osnap_len);
	publish(f, T0 + 60, 2);
	assert_int_equal(update(f, c, T0 + 120, &err), 0); /* trusts ts 2, snapshot 2, libs 2 */

	/* an older timestamp, validly signed */
	override(f, "timestamp.json", old_ts, ots_len);
	expect_refused(f, c, T0 + 120, -ESTALE, "timestamp version 1");
	clear_overrides(f);

	/* a newer timestamp naming an older snapshot */
	p = payload_of(f, "1.snapshot.json");
	serve_chain(f, 9, p, 1, T0 + DAY);
	expect_refused(f, c, T0 + 120, -ESTALE, "snapshot version 1");
	clear_overrides(f);
	free(p);

	/* a newer snapshot listing an older libs feed */
	p = payload_of(f, "2.snapshot.json");
	q = replace(p, "\"version\":2", "\"version\":7"); /* the snapshot's own version */
	free(p);
	{
		/* libs v1's entry as in snapshot 1 */
		char *s1 = payload_of(f, "1.snapshot.json");
		const char *e1 = strstr(s1, "\"feeds/main/libs.json\"");
		const char *e2 = strstr(q, "\"feeds/main/libs.json\"");
		size_t l1 = (size_t)(strchr(e1, '}') - e1), l2 = (size_t)(strchr(e2, '}') - e2);
		char *from = strndup(e2, l2), *to = strndup(e1, l1);

		p = replace(q, from, to);
		free(from);
		free(to);
		free(s1);
	}
	serve_chain(f, 9, p, 7, T0 + DAY);
	expect_refused(f, c, T0 + 120, -ESTALE, "feeds/main/libs.json");
	clear_overrides(f);
	free(p);
	free(q);

	/* the trusted snapshot version with other content */
	p = payload_of(f, "2.snapshot.json");
	q = replace(p, "T00:01:00Z", "T00:03:00Z");
	serve_chain(f, 9, q, 2, T0 + DAY);
	expect_refused(f, c, T0 + 120, -ESTALE, "snapshot version 2 reused");
	clear_overrides(f);
	free(p);
	free(q);

	/* the same timestamp version with other content (expires a minute later) */
	p = payload_of(f, "timestamp.json");
	q = replace(p, "T00:01:00Z", "T00:02:00Z");
	free(p);
	{
		size_t l;
		char *s = sign_as(KC_TRUST_TIMESTAMP, q, &f->ts, &l);

		override(f, "timestamp.json", s, l);
		free(s);
	}
	expect_refused(f, c, T0 + 120, -ESTALE, "reused");
	clear_overrides(f);
	free(q);
	free(old_ts);
	free(old_snap);
	kc_trust_client_free(c);
}

static void test_trust__refuses_expired(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = client_from_root1(f);

	/* timestamp lives 1 day, snapshot 7, feeds 30, root 365 */
	expect_refused(f, c, T0 + DAY, -EKEYEXPIRED, "timestamp expired");
	assert_int_equal(update(f, c, T0 + DAY - 1, &err), 0);
	/* a server that re-signs only the timestamp: the snapshot expires after 7 days */
	struct kc_trust_timestamp ts;
	char *p = payload_of(f, "timestamp.json");

	assert_int_equal(kc_trust_timestamp_decode((unsigned char *)p, strlen(p), &ts, &err), 0);
	free(p);
	ts.version = 2;
	ts.expires = T0 + 100 * DAY;
	{
		char *tp, *s;
		size_t pl, l;

		assert_int_equal(kc_trust_timestamp_encode(&ts, &tp, &pl, &err), 0);
		s = sign_as(KC_TRUST_TIMESTAMP, tp, &f->ts, &l);
		override(f, "timestamp.json", s, l);
		free(tp);
		free(s);
	}
	expect_refused(f, c, T0 + 7 * DAY, -EKEYEXPIRED, "snapshot expired");
	clear_overrides(f);
	/*
	 * The feed file after 30 days: timestamp and snapshot re-signed at day
	 * 20 for 30 more days; the feed file is kept (a 2 s lifetime makes it
	 * never due), so it still expires at day 30.
	 */
	struct kc_trust_online_keys keys = {&f->ts, &f->snap, &f->tgt};
	struct kc_trust_publish_opts o = {.now = T0 + 20 * DAY,
					  .timestamp_ttl = 30 * DAY,
					  .snapshot_ttl = 30 * DAY,
					  .targets_ttl = 2};

	assert_int_equal(kc_trust_repo_refresh(f->repo, &keys, &o, &err), 0);
	expect_refused(f, c, T0 + 30 * DAY, -EKEYEXPIRED, "libs.json");
	/* the root itself */
	assert_int_equal(update(f, c, T0 + 21 * DAY, &err), 0);
	expect_refused(f, c, T0 + 365 * DAY, -EKEYEXPIRED, "root expired");
	kc_trust_client_free(c);
}

static void test_trust__refuses_mix_and_match(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = client_from_root1(f);
	unsigned char *buf;
	size_t len;

	assert_int_equal(update(f, c, T0 + 10, &err), 0);
	publish(f, T0 + 20, 2);
	/* snapshot 2's name serves snapshot 1's bytes */
	buf = slurp(f->repo, "1.snapshot.json", &len);
	override(f, "2.snapshot.json", buf, len);
	expect_refused(f, c, T0 + 30, -EILSEQ, "2.snapshot.json");
	clear_overrides(f);
	free(buf);
	/* the libs feed file of version 2 replaced by the kernel's (other length/hash) */
	buf = slurp(f->repo, "feeds/main/1.kernel.json", &len);
	override(f, "feeds/main/2.libs.json", buf, len);
	expect_refused(f, c, T0 + 30, -EILSEQ, "2.libs.json");
	clear_overrides(f);
	free(buf);
	/* a snapshot whose libs entry points at the kernel file's exact bytes */
	{
		char *p = payload_of(f, "2.snapshot.json"), *q, *r;
		const char *k = strstr(p, "\"feeds/main/kernel.json\":") + 25;
		const char *l = strstr(p, "\"feeds/main/libs.json\":") + 23;
		char *kref = strndup(k, (size_t)(strchr(k, '}') - k + 1));
		char *lref = strndup(l, (size_t)(strchr(l, '}') - l + 1));

		q = replace(p, lref, kref);
		r = replace(q, "\"version\":2", "\"version\":8");
		serve_chain(f, 9, r, 8, T0 + DAY);
		buf = slurp(f->repo, "feeds/main/1.kernel.json", &len);
		override(f, "feeds/main/1.libs.json", buf, len);
		/* version 1 < trusted 1? equal: passes rollback, caught by the feed/product check
		 */
		expect_refused(f, c, T0 + 30, -EILSEQ, "main/kernel");
		clear_overrides(f);
		free(buf);
		free(p);
		free(q);
		free(r);
		free(kref);
		free(lref);
	}
	/* a wanted feed the snapshot does not list */
	{
		const struct kc_trust_feed_ref w[] = {{"main", "qemu"}};
		char d1[65], d2[65];

		state_digest(f, d1);
		assert_int_equal(kc_trust_client_update(c, fetch_file, f, w, 1, T0 + 30, &err),
				 -ENOENT);
		state_digest(f, d2);
		assert_string_equal(d1, d2);
	}
	assert_int_equal(update(f, c, T0 + 30, &err), 0);
	kc_trust_client_free(c);
}

static void test_trust__refuses_oversize(void **state)
{
	struct fx *f = *state;
	struct kc_trust_client *c = client_from_root1(f);
	size_t big = KC_TRUST_MAX_TIMESTAMP + 1;
	char *junk = malloc(big);

	memset(junk, ' ', big);
	override(f, "timestamp.json", junk, big);
	expect_refused(f, c, T0 + 10, -EFBIG, "timestamp.json");
	/* a source that ignores the limit is caught too */
	f->ignore_max = true;
	expect_refused(f, c, T0 + 10, -EFBIG, "timestamp.json");
	f->ignore_max = false;
	clear_overrides(f);
	/* a snapshot longer than the timestamp announces */
	{
		size_t len;
		unsigned char *buf = slurp(f->repo, "1.snapshot.json", &len);
		unsigned char *more = malloc(len + 1);

		memcpy(more, buf, len);
		more[len] = ' ';
		override(f, "1.snapshot.json", more, len + 1);
		expect_refused(f, c, T0 + 10, -EFBIG, "1.snapshot.json");
		f->ignore_max = true;
		expect_refused(f, c, T0 + 10, -EFBIG, "1.snapshot.json");
		f->ignore_max = false;
		clear_overrides(f);
		free(buf);
		free(more);
	}
	free(junk);
	kc_trust_client_free(c);
}

static void test_trust__blob_checks(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_target t = f->targets[0];
	unsigned char data[101], *buf;
	size_t len;
	char path[256];
	FILE *fp;

	memcpy(data, f->blob[0], 100);
	assert_int_equal(kc_trust_target_verify(&t, data, 100, &err), 0);
	assert_int_equal(kc_trust_target_verify(&t, data, 99, &err), -EILSEQ);
	assert_non_null(strstr(err.msg, "99 bytes"));
	data[7] ^= 1;
	assert_int_equal(kc_trust_target_verify(&t, data, 100, &err), -EILSEQ);
	assert_non_null(strstr(err.msg, "sha256"));
	data[7] ^= 1;
	/* served through the fetch callback */
	override(f, t.path, data, 99);
	assert_int_equal(kc_trust_client_fetch_target(fetch_file, f, &t, &buf, &len, &err),
			 -EILSEQ);
	clear_overrides(f);
	data[100] = 'x';
	override(f, t.path, data, 101);
	assert_int_equal(kc_trust_client_fetch_target(fetch_file, f, &t, &buf, &len, &err), -EFBIG);
	f->ignore_max = true;
	assert_int_equal(kc_trust_client_fetch_target(fetch_file, f, &t, &buf, &len, &err), -EFBIG);
	f->ignore_max = false;
	clear_overrides(f);
	/* from a file descriptor */
	snprintf(path, sizeof(path), "%s/%s", f->repo, t.path);
	fp = fopen(path, "rb");
	assert_int_equal(kc_trust_target_verify_fd(&t, fileno(fp), &err), 0);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/bad", f->tmp);
	fp = fopen(path, "w+b");
	fwrite(data, 1, 101, fp);
	rewind(fp);
	assert_int_equal(kc_trust_target_verify_fd(&t, fileno(fp), &err), -EILSEQ);
	fclose(fp);
	/* blobs are immutable: the same content again is a no-op with the same name */
	struct kc_trust_target again;
	char again_path[KC_TRUST_PATH_MAX + 1];

	assert_int_equal(kc_trust_blob_put(f->repo, f->blob[0], 100, &again, again_path, &err), 0);
	assert_string_equal(again.path, t.path);
	assert_int_equal(strncmp(again.path, "blobs/", 6), 0);
	assert_int_equal(strlen(again.path), 6 + 64);
}

static void rotate_root(struct fx *f, struct kc_trust_key *newroot,
			const struct kc_trust_key *const *signers, size_t n, int expect)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_root_desc d;

	root_desc(&d, newroot, &f->ts, &f->snap, &f->tgt, T0 + 365 * DAY);
	int rc = kc_trust_repo_write_root(f->repo, &d, signers, n, NULL, &err);

	if (rc != expect)
		fail_msg("rotate: expected %d, got %d: %s", expect, rc, err.msg);
}

static void test_trust__root_rotation(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = client_from_root1(f);
	struct kc_trust_key r2, r3, r4;
	struct kc_trust_status st;

	assert_int_equal(update(f, c, T0 + 10, &err), 0);
	assert_int_equal(kc_trust_key_generate(&r2, &err), 0);
	assert_int_equal(kc_trust_key_generate(&r3, &err), 0);
	assert_int_equal(kc_trust_key_generate(&r4, &err), 0);
	{
		const struct kc_trust_key *only_new[] = {&r2};
		const struct kc_trust_key *s12[] = {&f->root, &r2};
		const struct kc_trust_key *s23[] = {&r2, &r3};

		/* the writer refuses a rotation clients would refuse */
		rotate_root(f, &r2, only_new, 1, -EKEYREJECTED);
		rotate_root(f, &r2, s12, 2, 0);
		rotate_root(f, &r3, s23, 2, 0);
	}
	assert_int_equal(update(f, c, T0 + 20, &err), 0);
	kc_trust_client_status(c, &st);
	assert_int_equal(st.root_version, 3);

	/* 4.root.json signed only by the new key, placed by hand */
	{
		struct kc_trust_root_desc d;
		char *payload, *s;
		size_t pl, sl;
		char path[256];

		root_desc(&d, &r4, &f->ts, &f->snap, &f->tgt, T0 + 365 * DAY);
		assert_int_equal(kc_trust_root_encode(&d, 4, &payload, &pl, &err), 0);
		s = sign_as(KC_TRUST_ROOT, payload, &r4, &sl);
		override(f, "4.root.json", s, sl);
		expect_refused(f, c, T0 + 30, -EKEYREJECTED, "4.root.json");
		clear_overrides(f);
		/* signed by the old key only */
		free(s);
		s = sign_as(KC_TRUST_ROOT, payload, &r3, &sl);
		override(f, "4.root.json", s, sl);
		expect_refused(f, c, T0 + 30, -EKEYREJECTED, "4.root.json");
		clear_overrides(f);
		/* both keys, but claiming version 6 */
		free(s);
		free(payload);
		assert_int_equal(kc_trust_root_encode(&d, 6, &payload, &pl, &err), 0);
		const struct kc_trust_key *both[] = {&r3, &r4};

		assert_int_equal(
		    kc_trust_envelope_sign(KC_TRUST_ROOT, payload, pl, both, 2, &s, &sl, &err), 0);
		override(f, "4.root.json", s, sl);
		expect_refused(f, c, T0 + 30, -EILSEQ, "version 6");
		clear_overrides(f);
		free(s);
		/* an old root replayed as the next one */
		snprintf(path, sizeof(path), "2.root.json");
		size_t l2;
		unsigned char *two = slurp(f->repo, path, &l2);

		override(f, "4.root.json", two, l2);
		expect_refused(f, c, T0 + 30, -EKEYREJECTED, NULL);
		clear_overrides(f);
		free(two);
		free(payload);
	}
	/* a fresh client from 1.root.json walks 1 -> 2 -> 3 */
	{
		struct kc_trust_client *c2;
		size_t len;
		unsigned char *root = slurp(f->repo, "1.root.json", &len);

		assert_int_equal(kc_trust_client_init(f->state, root, len, 0, &err), -EEXIST);
		assert_int_equal(
		    kc_trust_client_init(f->state, root, len, KC_TRUST_INIT_REPLACE, &err), 0);
		free(root);
		assert_int_equal(kc_trust_client_open(f->state, &c2, &err), 0);
		assert_int_equal(update(f, c2, T0 + 40, &err), 0);
		kc_trust_client_status(c2, &st);
		assert_int_equal(st.root_version, 3);
		kc_trust_client_free(c2);
	}
	kc_trust_key_wipe(&r2);
	kc_trust_key_wipe(&r3);
	kc_trust_key_wipe(&r4);
	kc_trust_client_free(c);
}

static void test_trust__online_key_rotation(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = client_from_root1(f);
	struct kc_trust_key ts2, tgt2;
	struct kc_trust_root_desc d;
	const struct kc_trust_key *signers[] = {&f->root};
	struct kc_trust_online_keys keys;
	struct kc_trust_publish_opts o = {.now = T0 + 100};

	assert_int_equal(update(f, c, T0 + 10, &err), 0);
	assert_int_equal(kc_trust_key_generate(&ts2, &err), 0);
	assert_int_equal(kc_trust_key_generate(&tgt2, &err), 0);
	root_desc(&d, &f->root, &ts2, &f->snap, &tgt2, T0 + 365 * DAY);
	assert_int_equal(kc_trust_repo_write_root(f->repo, &d, signers, 1, NULL, &err), 0);
	/* the old online keys are no longer accepted by the writer */
	keys = (struct kc_trust_online_keys){&f->ts, &f->snap, &f->tgt};
	assert_int_equal(kc_trust_repo_refresh(f->repo, &keys, &o, &err), -EKEYREJECTED);
	keys = (struct kc_trust_online_keys){&ts2, &f->snap, &tgt2};
	assert_int_equal(kc_trust_repo_refresh(f->repo, &keys, &o, &err), 0);
	assert_int_equal(update(f, c, T0 + 200, &err), 0);
	/* feed files were re-signed with the new targets key (content unchanged) */
	const struct kc_trust_target *t;
	size_t n;

	assert_int_equal(kc_trust_client_feed(c, "main", "libs", T0 + 200, &t, &n, &err), 0);
	assert_int_equal(n, 1);
	kc_trust_key_wipe(&ts2);
	kc_trust_key_wipe(&tgt2);
	kc_trust_client_free(c);
}

static void test_trust__anchor_bootstrap(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c;
	struct kc_trust_key stranger;
	struct kc_trust_status st;

	assert_int_equal(kc_trust_client_open(f->state, &c, &err), -ENOKEY);
	assert_int_equal(kc_trust_key_generate(&stranger, &err), 0);
	assert_int_equal(kc_trust_client_import_key(f->state, &stranger.pub, &err), 0);
	assert_int_equal(kc_trust_client_open(f->state, &c, &err), 0);
	expect_refused(f, c, T0 + 10, -EKEYREJECTED, "imported root key");
	kc_trust_client_free(c);
	/* the server's root key, imported (twice: no duplicate) */
	assert_int_equal(kc_trust_client_import_key(f->state, &f->root.pub, &err), 0);
	assert_int_equal(kc_trust_client_import_key(f->state, &f->root.pub, &err), 0);
	{
		size_t len;
		unsigned char *a = slurp(f->state, "anchors", &len);
		int lines = 0;

		for (size_t i = 0; i < len; i++)
			lines += a[i] == '\n';
		assert_int_equal(lines, 2);
		free(a);
	}
	assert_int_equal(kc_trust_client_open(f->state, &c, &err), 0);
	assert_int_equal(update(f, c, T0 + 10, &err), 0);
	kc_trust_client_status(c, &st);
	assert_int_equal(st.root_version, 1);
	kc_trust_client_free(c);
	/* reset drops trust but keeps the anchors */
	assert_int_equal(kc_trust_client_reset(f->state, &err), 0);
	assert_int_equal(kc_trust_client_open(f->state, &c, &err), 0);
	kc_trust_client_status(c, &st);
	assert_int_equal(st.root_version, 0);
	kc_trust_client_free(c);
	kc_trust_key_wipe(&stranger);
}

static void test_trust__state_survives_litter(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = client_from_root1(f);
	char path[256];

	assert_int_equal(update(f, c, T0 + 10, &err), 0);
	/* a commit that crashed before its rename left a generation and a link behind */
	snprintf(path, sizeof(path), "%s/gen.99", f->state);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/current.tmp", f->state);
	assert_int_equal(symlink("gen.99", path), 0);
	kc_trust_client_free(c);
	assert_int_equal(kc_trust_client_open(f->state, &c, &err), 0);
	publish(f, T0 + 20, 2);
	assert_int_equal(update(f, c, T0 + 30, &err), 0);
	snprintf(path, sizeof(path), "%s/gen.99", f->state);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/current.tmp", f->state);
	assert_int_equal(access(path, F_OK), -1);
	/* a stored file changed behind the client's back is refused at open */
	kc_trust_client_free(c);
	snprintf(path, sizeof(path), "%s/current/timestamp.json", f->state);
	FILE *fp = fopen(path, "r+b");

	fseek(fp, 40, SEEK_SET);
	fputc('#', fp);
	fclose(fp);
	assert_true(kc_trust_client_open(f->state, &c, &err) < 0);
}

/* Each update swaps generations; a reader running meanwhile must never fail. */
static void test_trust__readers_race_updates(void **state)
{
	struct fx *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_client *c = client_from_root1(f);
	int status, opens = 0;
	pid_t pid;

	assert_int_equal(update(f, c, T0 + 10, &err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 40; i++)
			if (update(f, c, T0 + 10, &err))
				_exit(1);
		_exit(0);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct kc_trust_client *r;
		const struct kc_trust_target *t;
		size_t n;

		if (kc_trust_client_open(f->state, &r, &err))
			fail_msg("open during updates: %s", err.msg);
		assert_int_equal(kc_trust_client_feed(r, "main", "libs", T0 + 10, &t, &n, &err), 0);
		kc_trust_client_free(r);
		opens++;
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(opens > 0);
	print_message("%d opens during 40 updates\n", opens);
	kc_trust_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_trust__key_files_round_trip, setup, teardown),
	    cmocka_unit_test(test_trust__encodings),
	    cmocka_unit_test_setup_teardown(test_trust__envelope_threshold_and_tamper, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_trust__round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__publish_versions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__publish_refuses_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__refuses_tampered_and_wrongly_signed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_trust__refuses_rollback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__refuses_expired, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__refuses_mix_and_match, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__refuses_oversize, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__blob_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__root_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__online_key_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__anchor_bootstrap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__state_survives_litter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust__readers_race_updates, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
