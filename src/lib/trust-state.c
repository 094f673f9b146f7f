// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The client's state directory:
 *   STATE/lock       flock of writers (updates, init, import, reset); readers
 *                    take none and retry if `current` moved while they read
 *   STATE/anchors    imported root public keys, one key-file line each
 *   STATE/current -> gen.<N>   the trusted set: root.json, timestamp.json,
 *                    snapshot.json, feeds/<feed>/<product>.json
 * A change writes gen.<N+1> completely (every file fsync'd), then renames a
 * new symlink over `current`, then removes older generations. A crash
 * before the rename leaves the old set in force (the half-written
 * generation is removed by the next commit); after it, the new one.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "trust-int.h"

#define ANCHORS_MAX (64 * 1024)

void kc_trust_file_release(struct kc_trust_file *f)
{
	free(f->raw);
	f->raw = NULL;
	f->len = 0;
}

void kc_trust_set_release(struct kc_trust_set *s)
{
	if (!s)
		return;
	kc_trust_root_release(&s->root);
	kc_trust_file_release(&s->root_f);
	kc_trust_file_release(&s->ts_f);
	kc_trust_snapshot_release(&s->snap);
	kc_trust_file_release(&s->snap_f);
	for (size_t i = 0; i < s->nfeeds; i++) {
		free(s->feeds[i].name);
		kc_trust_targets_release(&s->feeds[i].tg);
		kc_trust_file_release(&s->feeds[i].f);
	}
	free(s->feeds);
	memset(s, 0, sizeof(*s));
}

static int path_of(char *out, const char *dir, const char *name, struct kc_err *err)
{
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return kc_err_set(err, -ENAMETOOLONG, "path too long '%s/%s'", dir, name);
	return 0;
}

/* Reads GEN/@name if it exists: 0 with f->raw NULL when absent. */
static int read_opt(const char *gen, const char *name, size_t max, struct kc_trust_file *f,
		    struct kc_err *err)
{
	char path[PATH_MAX];
	int rc = path_of(path, gen, name, err);

	f->raw = NULL;
	f->len = 0;
	if (rc)
		return rc;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	return kc_trust_read_file(path, max, &f->raw, &f->len, err);
}

static int load_anchors(const char *dir, struct kc_trust_pubkey **out, size_t *n,
			struct kc_err *err)
{
	struct kc_trust_file f;
	struct kc_trust_pubkey *keys = NULL;
	size_t nkeys = 0;
	char *line, *save = NULL;
	int rc = read_opt(dir, "anchors", ANCHORS_MAX, &f, err);

	*out = NULL;
	*n = 0;
	if (rc || !f.raw)
		return rc;
	for (line = strtok_r((char *)f.raw, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct kc_trust_pubkey *more;

		if (!*line)
			continue;
		more = realloc(keys, (nkeys + 1) * sizeof(*keys));
		if (!more) {
			rc = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		keys = more;
		rc = kc_trust_pubkey_parse(line, strlen(line), &keys[nkeys], err);
		if (rc) {
			kc_err_prefix(err, "'%s/anchors'", dir);
			goto out;
		}
		nkeys++;
	}
	*out = keys;
	*n = nkeys;
	keys = NULL;
out:
	free(keys);
	kc_trust_file_release(&f);
	return rc;
}

/* Opens a stored signed file with the keys the stored root gives its role. */
static int open_stored(const struct kc_trust_set *s, const struct kc_trust_file *f,
		       enum kc_trust_role role, const char *what, struct kc_trust_envelope *env,
		       struct kc_err *err)
{
	return kc_trust_open_signed(f->raw, f->len, role, &s->root.roles[role], what, env, err);
}

static int load_set(const char *gen, struct kc_trust_set *s, struct kc_err *err)
{
	struct kc_trust_envelope env;
	int rc;

	rc = read_opt(gen, "root.json", KC_TRUST_MAX_ROOT, &s->root_f, err);
	if (rc)
		return rc;
	if (!s->root_f.raw)
		return kc_err_set(err, -ENOKEY, "'%s' has no root.json", gen);
	rc = kc_trust_root_verify(s->root_f.raw, s->root_f.len, NULL, &s->root, err);
	if (rc)
		return rc;

	rc = read_opt(gen, "timestamp.json", KC_TRUST_MAX_TIMESTAMP, &s->ts_f, err);
	if (!rc && s->ts_f.raw) {
		rc = open_stored(s, &s->ts_f, KC_TRUST_TIMESTAMP, "timestamp.json", &env, err);
		if (!rc) {
			rc = kc_trust_timestamp_decode(env.payload, env.payload_len, &s->ts, err);
			kc_trust_envelope_release(&env);
		}
	}
	if (rc)
		return rc;

	rc = read_opt(gen, "snapshot.json", KC_TRUST_MAX_SNAPSHOT, &s->snap_f, err);
	if (!rc && s->snap_f.raw) {
		rc = open_stored(s, &s->snap_f, KC_TRUST_SNAPSHOT, "snapshot.json", &env, err);
		if (!rc) {
			rc = kc_trust_snapshot_decode(env.payload, env.payload_len, &s->snap, err);
			kc_trust_envelope_release(&env);
		}
		if (rc)
			kc_trust_file_release(&s->snap_f);
	}
	if (rc)
		return rc;

	/* feed files are stored only while the stored snapshot names them unchanged */
	s->feeds = calloc(s->snap.nfeeds ? s->snap.nfeeds : 1, sizeof(*s->feeds));
	if (!s->feeds)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < s->snap.nfeeds; i++) {
		const struct kc_trust_snapentry *e = &s->snap.feeds[i];
		struct kc_trust_cfeed *cf = &s->feeds[s->nfeeds];
		unsigned char sha[KC_TRUST_SHA256_BYTES];

		rc = read_opt(gen, e->name, KC_TRUST_MAX_FEED, &cf->f, err);
		if (rc)
			return rc;
		if (!cf->f.raw)
			continue;
		s->nfeeds++;
		cf->name = strdup(e->name);
		if (!cf->name)
			return kc_err_set(err, -ENOMEM, "out of memory");
		kc_trust_sha256(cf->f.raw, cf->f.len, sha);
		if (cf->f.len != e->meta.length || memcmp(sha, e->meta.sha256, sizeof(sha)))
			return kc_err_set(err, -EILSEQ, "'%s' differs from the stored snapshot",
					  e->name);
		rc = open_stored(s, &cf->f, KC_TRUST_TARGETS, e->name, &env, err);
		if (rc)
			return rc;
		rc = kc_trust_targets_decode(env.payload, env.payload_len, &cf->tg, err);
		kc_trust_envelope_release(&env);
		if (rc)
			return rc;
	}
	return 0;
}

/* The target of STATE/current ("gen.N") into @out; 0 with out[0] = 0 if none. */
static int read_current(const char *dir, char *out, size_t outsz, struct kc_err *err)
{
	char path[PATH_MAX];
	ssize_t n;
	int rc = path_of(path, dir, "current", err);

	out[0] = '\0';
	if (rc)
		return rc;
	n = readlink(path, out, outsz - 1);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		return kc_err_set(err, -errno, "cannot read '%s': %m", path);
	}
	out[n] = '\0';
	if (strncmp(out, "gen.", 4) != 0 || strchr(out, '/'))
		return kc_err_set(err, -EBADMSG, "'%s' does not point to a generation", path);
	return 0;
}

/*
 * Readers take no lock: generations are never changed, only removed after
 * `current` moved away from them. So a load is retried when `current`
 * moved while it ran (the generation read may have been removed under it).
 */
int kc_trust_state_load(const char *dir, struct kc_trust_set *s, struct kc_trust_pubkey **anchors,
			size_t *nanchors, struct kc_err *err)
{
	char name[64], again[64], gen[PATH_MAX];
	int rc;

	memset(s, 0, sizeof(*s));
	rc = load_anchors(dir, anchors, nanchors, err);
	if (rc)
		return rc;
	for (int attempt = 0; attempt < 8; attempt++) {
		rc = read_current(dir, name, sizeof(name), err);
		if (rc || !name[0])
			break;
		rc = path_of(gen, dir, name, err);
		if (rc)
			break;
		rc = load_set(gen, s, err);
		if (read_current(dir, again, sizeof(again), NULL) == 0 && !strcmp(name, again))
			break;
		kc_trust_set_release(s);
		kc_err_clear(err);
		rc = -EAGAIN;
	}
	if (rc == -EAGAIN)
		kc_err_set(err, rc, "trusted state '%s' keeps changing", dir);
	else if (rc)
		kc_err_prefix(err, "trusted state '%s'", dir);
	if (rc) {
		kc_trust_set_release(s);
		free(*anchors);
		*anchors = NULL;
		*nanchors = 0;
	}
	return rc;
}

/* The N of STATE/current -> gen.N, or 0. */
static unsigned long long current_gen(const char *dir)
{
	char path[PATH_MAX], target[64];
	ssize_t n;

	if (path_of(path, dir, "current", NULL))
		return 0;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 4)
		return 0;
	target[n] = '\0';
	if (strncmp(target, "gen.", 4) != 0)
		return 0;
	return strtoull(target + 4, NULL, 10);
}

static int put(const char *gen, const char *name, const struct kc_trust_file *f, struct kc_err *err)
{
	char path[PATH_MAX];
	char *slash;
	int rc = path_of(path, gen, name, err);

	if (rc || !f->raw)
		return rc;
	slash = strrchr(path, '/');
	*slash = '\0';
	rc = kc_trust_mkdirs(path, 0700, err);
	*slash = '/';
	if (!rc)
		rc = kc_file_write_atomic(path, f->raw, f->len, 0600, err);
	return rc;
}

/* Removes every gen.* but @keep, and a stale current.tmp. Failures only leave litter. */
static void remove_old(const char *dir, const char *keep)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "gen.", 4) != 0 || (keep && !strcmp(de->d_name, keep)))
			continue;
		if (!path_of(path, dir, de->d_name, NULL))
			kc_trust_remove_tree(path, NULL);
	}
	closedir(d);
	if (!path_of(path, dir, "current.tmp", NULL))
		unlink(path);
}

int kc_trust_state_commit(const char *dir, const struct kc_trust_set *s, struct kc_err *err)
{
	char name[64], gen[PATH_MAX], link_tmp[PATH_MAX], link[PATH_MAX];
	int rc;

	snprintf(name, sizeof(name), "gen.%llu", current_gen(dir) + 1);
	rc = path_of(gen, dir, name, err);
	if (!rc)
		rc = path_of(link_tmp, dir, "current.tmp", err);
	if (!rc)
		rc = path_of(link, dir, "current", err);
	if (!rc)
		rc = kc_trust_remove_tree(gen, err); /* litter of a crashed commit */
	if (rc)
		return rc;
	if (mkdir(gen, 0700) < 0)
		return kc_err_set(err, -errno, "cannot create '%s': %m", gen);
	rc = put(gen, "root.json", &s->root_f, err);
	if (!rc)
		rc = put(gen, "timestamp.json", &s->ts_f, err);
	if (!rc)
		rc = put(gen, "snapshot.json", &s->snap_f, err);
	for (size_t i = 0; !rc && i < s->nfeeds; i++)
		rc = put(gen, s->feeds[i].name, &s->feeds[i].f, err);
	if (rc)
		goto fail;
	unlink(link_tmp);
	if (symlink(name, link_tmp) < 0) {
		rc = kc_err_set(err, -errno, "cannot create '%s': %m", link_tmp);
		goto fail;
	}
	/* the commit point: before it the old set is in force, after it the new one */
	if (rename(link_tmp, link) < 0) {
		rc = kc_err_set(err, -errno, "cannot rename '%s': %m", link_tmp);
		unlink(link_tmp);
		goto fail;
	}
	rc = kc_trust_fsync_dir(dir, err);
	remove_old(dir, name);
	return rc;
fail:
	kc_trust_remove_tree(gen, NULL);
	return rc;
}

int kc_trust_client_init(const char *state_dir, const void *root, size_t len, unsigned int flags,
			 struct kc_err *err)
{
	struct kc_trust_set s = {0};
	char path[PATH_MAX];
	struct stat st;
	int lock, rc;

	if (len > KC_TRUST_MAX_ROOT)
		return kc_err_set(err, -EFBIG, "root metadata of %zu bytes is over the limit", len);
	rc = kc_trust_mkdirs(state_dir, 0700, err);
	if (rc)
		return rc;
	lock = kc_trust_lock(state_dir, "lock", err);
	if (lock < 0)
		return lock;
	rc = path_of(path, state_dir, "current", err);
	if (rc)
		goto out;
	if (lstat(path, &st) == 0 && !(flags & KC_TRUST_INIT_REPLACE)) {
		rc = kc_err_set(err, -EEXIST, "'%s' already trusts a root", state_dir);
		goto out;
	}
	rc = kc_trust_root_verify(root, len, NULL, &s.root, err);
	if (rc)
		goto out;
	s.root_f.raw = malloc(len ? len : 1);
	if (!s.root_f.raw) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(s.root_f.raw, root, len);
	s.root_f.len = len;
	rc = kc_trust_state_commit(state_dir, &s, err);
out:
	kc_trust_set_release(&s);
	close(lock);
	return rc;
}

int kc_trust_client_import_key(const char *state_dir, const struct kc_trust_pubkey *key,
			       struct kc_err *err)
{
	struct kc_trust_pubkey *anchors = NULL, k = *key;
	size_t n = 0, len = 0;
	char path[PATH_MAX], *text = NULL;
	int lock, rc;

	kc_trust_pubkey_set_keyid(&k);
	rc = kc_trust_mkdirs(state_dir, 0700, err);
	if (rc)
		return rc;
	lock = kc_trust_lock(state_dir, "lock", err);
	if (lock < 0)
		return lock;
	rc = load_anchors(state_dir, &anchors, &n, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(anchors[i].keyid, k.keyid))
			goto out; /* already there */
	text = malloc((n + 1) * 128);
	if (!text) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i <= n; i++) {
		const struct kc_trust_pubkey *p = i < n ? &anchors[i] : &k;
		char *b64 = kc_trust_b64(p->pk, sizeof(p->pk));

		if (!b64) {
			rc = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		len += (size_t)sprintf(text + len, "kcare-ed25519-public %s\n", b64);
		free(b64);
	}
	rc = path_of(path, state_dir, "anchors", err);
	if (!rc)
		rc = kc_file_write_atomic(path, text, len, 0644, err);
out:
	free(text);
	free(anchors);
	close(lock);
	return rc;
}

int kc_trust_client_reset(const char *state_dir, struct kc_err *err)
{
	char path[PATH_MAX];
	int lock, rc;

	if (access(state_dir, F_OK) < 0)
		return 0;
	lock = kc_trust_lock(state_dir, "lock", err);
	if (lock < 0)
		return lock;
	rc = path_of(path, state_dir, "current", err);
	if (!rc && unlink(path) < 0 && errno != ENOENT)
		rc = kc_err_set(err, -errno, "cannot remove '%s': %m", path);
	if (!rc)
		rc = kc_trust_fsync_dir(state_dir, err);
	if (!rc)
		remove_old(state_dir, NULL);
	close(lock);
	return rc;
}
