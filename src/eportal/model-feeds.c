// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Feeds: the named channels of patchsets. "main" always exists (created by
 * the first migration, never deleted). A feed has an auto-update flag, a
 * deploy-after delay in hours (auto-update enables a patchset only once it
 * is that old) and a channel (default, test, unstable). Adding or deleting a
 * feed changes what is published, so both republish.
 */
#include <string.h>

#include "eportal/model.h"

static int channel_valid(const char *c)
{
	return !strcmp(c, "default") || !strcmp(c, "test") || !strcmp(c, "unstable");
}

int kc_ep_text_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return 0;
	return n <= max;
}

int kc_ep_feed_id(struct kc_ep *ep, const char *name, int64_t *id, struct kc_err *err)
{
	return kc_db_query_int(ep->db, id, err, "SELECT id FROM feeds WHERE name = ?", "t", name);
}

static int feed_check(const struct kc_ep_feed *f, int add, struct kc_err *err)
{
	if (!kc_ep_name_valid(f->name))
		return kc_err_set(err, -EINVAL, "invalid feed name '%.80s'", f->name);
	if (f->channel[0] && !channel_valid(f->channel))
		return kc_err_set(err, -EINVAL, "invalid channel '%s' (default, test or unstable)",
				  f->channel);
	if (f->deploy_after_hours < (add ? 0 : -1) || f->deploy_after_hours > 24 * 365)
		return kc_err_set(err, -EINVAL, "invalid deploy-after %lld hours",
				  (long long)f->deploy_after_hours);
	if (f->auto_update < (add ? 0 : -1) || f->auto_update > 1)
		return kc_err_set(err, -EINVAL, "invalid auto-update value");
	return 0;
}

int kc_ep_feed_add(struct kc_ep *ep, const struct kc_ep_feed *f, struct kc_err *err)
{
	int64_t r;

	r = feed_check(f, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_db_run(ep->db, err,
		      "INSERT INTO feeds (name, auto_update, deploy_after_hours, channel, created) "
		      "VALUES (?, ?, ?, ?, ?)",
		      "tiiti", f->name, (int64_t)f->auto_update, f->deploy_after_hours,
		      f->channel[0] ? f->channel : "default", ep->now());
	if (r == -EEXIST)
		r = kc_err_set(err, -EEXIST, "feed '%s' already exists", f->name);
	r = kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
	if (r < 0)
		return (int)r;
	return kc_ep_publish(ep, err);
}

int kc_ep_feed_change(struct kc_ep *ep, const struct kc_ep_feed *f, struct kc_err *err)
{
	int64_t r;

	r = feed_check(f, 0, err);
	if (r < 0)
		return (int)r;
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_db_run(ep->db, err,
		      "UPDATE feeds SET"
		      " auto_update = CASE WHEN ? < 0 THEN auto_update ELSE ? END,"
		      " deploy_after_hours = CASE WHEN ? < 0 THEN deploy_after_hours ELSE ? END,"
		      " channel = CASE WHEN ? = '' THEN channel ELSE ? END"
		      " WHERE name = ?",
		      "iiiittt", (int64_t)f->auto_update, (int64_t)f->auto_update,
		      f->deploy_after_hours, f->deploy_after_hours, f->channel, f->channel,
		      f->name);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no feed '%s'", f->name);
	return kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
}

int kc_ep_feed_delete(struct kc_ep *ep, const char *name, struct kc_err *err)
{
	int64_t r, id = 0, nkeys = 0;

	if (!strcmp(name, "main"))
		return kc_err_set(err, -EPERM, "feed 'main' cannot be deleted");
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_ep_feed_id(ep, name, &id, err);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no feed '%s'", name);
	if (r > 0)
		r = kc_db_query_int(ep->db, &nkeys, err,
				    "SELECT COUNT(*) FROM keys WHERE feed_id = ?", "i", id);
	if (r > 0 && nkeys > 0)
		r = kc_err_set(err, -EBUSY, "feed '%s' has %lld keys bound to it", name,
			       (long long)nkeys);
	if (r > 0)
		r = kc_db_run(ep->db, err, "DELETE FROM feeds WHERE id = ?", "i", id);
	r = kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
	if (r < 0)
		return (int)r;
	return kc_ep_publish(ep, err);
}

static void feed_row(struct kc_db_stmt *st, void *rec)
{
	struct kc_ep_feed *f = rec;

	KC_EP_COL(st, 0, f->name);
	f->auto_update = (int)kc_db_col_int(st, 1);
	f->deploy_after_hours = kc_db_col_int(st, 2);
	KC_EP_COL(st, 3, f->channel);
}

static int feed_select(struct kc_ep *ep, const char *name, struct kc_ep_feed **out, size_t *n,
		       struct kc_err *err)
{
	struct kc_db_stmt *st;
	int r;

	r = kc_db_prepare(ep->db,
			  name ? "SELECT name, auto_update, deploy_after_hours, channel FROM feeds "
				 "WHERE name = ?"
			       : "SELECT name, auto_update, deploy_after_hours, channel FROM feeds "
				 "ORDER BY name",
			  &st, err);
	if (r < 0)
		return r;
	if (name)
		kc_db_bind_text(st, 1, name);
	return kc_ep_rows(st, sizeof(**out), feed_row, (void **)out, n, err);
}

int kc_ep_feed_list(struct kc_ep *ep, struct kc_ep_feed **out, size_t *n, struct kc_err *err)
{
	int r = kc_db_begin(ep->db, 0, err);

	if (r < 0)
		return r;
	r = feed_select(ep, NULL, out, n, err);
	return kc_ep_txn_end(ep->db, r, err);
}

int kc_ep_feed_get(struct kc_ep *ep, const char *name, struct kc_ep_feed *out, struct kc_err *err)
{
	struct kc_ep_feed *arr = NULL;
	size_t n = 0;
	int r = kc_db_begin(ep->db, 0, err);

	if (r < 0)
		return r;
	r = feed_select(ep, name, &arr, &n, err);
	r = kc_ep_txn_end(ep->db, r, err);
	if (r == 0 && n == 0)
		r = kc_err_set(err, -ENOENT, "no feed '%s'", name);
	if (r == 0)
		*out = arr[0];
	free(arr);
	return r;
}
