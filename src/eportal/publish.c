// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Publishing: what the database says each feed serves becomes the signed
 * repository in DIR/repo (through the trust writer). Every feed gets one
 * file per product listing its enabled patches, oldest patchset first; each
 * entry's custom JSON carries the patchset, its release time and the patch's
 * target identity, so agents apply delayed feeds and sticky dates themselves
 * from current metadata. Called after every change of what a feed serves;
 * the database is read in one transaction, the files are written after it.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "eportal/keys.h"
#include "eportal/model.h"
#include "eportal/oval.h"

struct pub_feed {
	char name[KC_EP_NAME_MAX + 1];
	struct kc_trust_target *targets[4]; /* by product */
	size_t n[4], cap[4];
};

static int product_index(const char *p)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(p, kc_ep_products[i]))
			return i;
	return -1;
}

static void free_feeds(struct pub_feed *feeds, size_t nfeeds)
{
	for (size_t f = 0; f < nfeeds; f++)
		for (int p = 0; p < 4; p++) {
			for (size_t t = 0; t < feeds[f].n[p]; t++) {
				free((char *)feeds[f].targets[p][t].path);
				json_object_put(feeds[f].targets[p][t].custom);
			}
			free(feeds[f].targets[p]);
		}
	free(feeds);
}

static int read_feeds(struct kc_ep *ep, struct pub_feed **out, size_t *nout, struct kc_err *err)
{
	struct kc_db_stmt *st = NULL;
	struct pub_feed *feeds = NULL;
	size_t nfeeds = 0, cap = 0;
	int r;

	r = kc_db_begin(ep->db, 0, err);
	if (r < 0)
		return r;
	r = kc_db_prepare(ep->db, "SELECT name FROM feeds ORDER BY name", &st, err);
	if (r < 0)
		goto out;
	while ((r = kc_db_step(st, err)) > 0) {
		struct pub_feed *f = kc_ep_grow((void **)&feeds, &nfeeds, &cap, sizeof(*feeds));
		if (!f) {
			r = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		KC_EP_COL(st, 0, f->name);
	}
	kc_db_finalize(st);
	if (r < 0)
		goto out;
	r = kc_db_prepare(ep->db,
			  "SELECT f.name, ps.product, p.sha256, p.length, p.custom"
			  " FROM feed_patchsets fp JOIN feeds f ON f.id = fp.feed_id"
			  " JOIN patchsets ps ON ps.id = fp.patchset_id"
			  " JOIN patches p ON p.patchset_id = ps.id"
			  " WHERE fp.state = 'enabled'"
			  " ORDER BY f.name, ps.product, ps.released, ps.name, p.id",
			  &st, err);
	if (r < 0)
		goto out;
	size_t fi = 0;
	while ((r = kc_db_step(st, err)) > 0) {
		const char *fname = kc_db_col_text(st, 0);
		int pi = product_index(kc_db_col_text(st, 1));
		const char *sha = kc_db_col_text(st, 2);
		struct kc_trust_target *t;
		char *path = NULL;

		while (fi < nfeeds && strcmp(feeds[fi].name, fname))
			fi++;
		if (fi == nfeeds || pi < 0 || !sha || strlen(sha) != 64)
			continue; /* ordering is the same in both queries; a bad row is skipped */
		t = kc_ep_grow((void **)&feeds[fi].targets[pi], &feeds[fi].n[pi],
			       &feeds[fi].cap[pi], sizeof(*t));
		if (!t || asprintf(&path, "blobs/%s", sha) < 0) {
			r = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		t->path = path;
		t->length = (uint64_t)kc_db_col_int(st, 3);
		for (int i = 0; i < 32; i++) {
			unsigned v = 0;
			sscanf(sha + 2 * i, "%2x", &v);
			t->sha256[i] = (unsigned char)v;
		}
		t->custom =
		    json_tokener_parse(kc_db_col_text(st, 4) ? kc_db_col_text(st, 4) : "{}");
		if (!t->custom || !json_object_is_type(t->custom, json_type_object)) {
			json_object_put(t->custom);
			t->custom = json_object_new_object();
		}
	}
	kc_db_finalize(st);
out:
	r = kc_ep_txn_end(ep->db, r < 0 ? r : 0, err);
	if (r < 0) {
		free_feeds(feeds, nfeeds);
		return r;
	}
	*out = feeds;
	*nout = nfeeds;
	return 0;
}

/*
 * Serialises publishers across processes (the daemon and kc.eportal) from
 * the database read to the last file written: otherwise a publisher that
 * read before another's change could write its older view after it.
 */
static int publish_lock(struct kc_ep *ep, struct kc_err *err)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/.publish-lock", ep->repo_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (flock(fd, LOCK_EX) < 0) {
		int e = errno;
		close(fd);
		return kc_err_set(err, -e, "cannot lock '%s': %s", path, strerror(e));
	}
	return fd;
}

int kc_ep_publish(struct kc_ep *ep, struct kc_err *err)
{
	struct kc_ep_online_keys k;
	struct kc_trust_online_keys ok;
	struct kc_trust_feed_desc *descs = NULL;
	struct kc_trust_publish_opts opts = {0};
	struct pub_feed *feeds = NULL;
	size_t nfeeds = 0, nd = 0;
	int r;

	pthread_mutex_lock(&ep->publish_lock);
	int lockfd = publish_lock(ep, err);
	if (lockfd < 0) {
		pthread_mutex_unlock(&ep->publish_lock);
		return lockfd;
	}
	r = kc_ep_keys_load(ep, &k, err);
	if (r < 0)
		goto out;
	r = read_feeds(ep, &feeds, &nfeeds, err);
	if (r < 0)
		goto out_keys;
	descs = calloc(nfeeds * 4 + 1, sizeof(*descs));
	if (!descs) {
		r = kc_err_set(err, -ENOMEM, "out of memory");
		goto out_keys;
	}
	for (size_t f = 0; f < nfeeds; f++)
		for (int p = 0; p < 4; p++)
			descs[nd++] = (struct kc_trust_feed_desc){
			    feeds[f].name, kc_ep_products[p], feeds[f].targets[p], feeds[f].n[p]};
	ok = (struct kc_trust_online_keys){&k.timestamp, &k.snapshot, &k.targets};
	opts.now = ep->now();
	r = kc_trust_repo_publish(ep->repo_dir, &ok, descs, nd, &opts, err);
	if (r < 0)
		kc_err_prefix(err, "cannot publish");
	else /* the scanners' view follows the same change, under the same lock */
		r = kc_ep_oval_publish(ep, err);
out_keys:
	kc_ep_keys_wipe(&k);
out:
	free(descs);
	free_feeds(feeds, nfeeds);
	close(lockfd);
	pthread_mutex_unlock(&ep->publish_lock);
	return r;
}

int kc_ep_refresh(struct kc_ep *ep, struct kc_err *err)
{
	struct kc_ep_online_keys k;
	struct kc_trust_online_keys ok;
	struct kc_trust_publish_opts opts = {0};
	int r;

	pthread_mutex_lock(&ep->publish_lock);
	int lockfd = publish_lock(ep, err);
	if (lockfd < 0) {
		pthread_mutex_unlock(&ep->publish_lock);
		return lockfd;
	}
	r = kc_ep_keys_load(ep, &k, err);
	if (r == 0) {
		ok = (struct kc_trust_online_keys){&k.timestamp, &k.snapshot, &k.targets};
		opts.now = ep->now();
		r = kc_trust_repo_refresh(ep->repo_dir, &ok, &opts, err);
		kc_ep_keys_wipe(&k);
	}
	close(lockfd);
	pthread_mutex_unlock(&ep->publish_lock);
	return r;
}
