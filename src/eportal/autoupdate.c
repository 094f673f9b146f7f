// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Feed policy: `update` and `auto-update`. Both first take what the upstream
 * has (when one is set), then enable patchsets a feed does not serve yet.
 * An admin's decisions win: a patchset disabled or blocked in a feed is
 * never enabled here, only undeployed (or never deployed) ones are.
 */
#include <string.h>

#include "eportal/model.h"

/* Enables in @feed_id the undeployed patchsets of @product released before @before. */
static int64_t enable_new(struct kc_ep *ep, int64_t feed_id, const char *product, int64_t before,
			  struct kc_err *err)
{
	return kc_db_run(ep->db, err,
			 "INSERT INTO feed_patchsets (feed_id, patchset_id, state, changed)"
			 " SELECT ?, ps.id, 'enabled', ? FROM patchsets ps"
			 " WHERE ps.product = ? AND ps.released <= ?"
			 " ON CONFLICT (feed_id, patchset_id) DO UPDATE SET state = 'enabled',"
			 " changed = excluded.changed WHERE feed_patchsets.state = 'undeployed'",
			 "iiti", feed_id, ep->now(), product, before);
}

static int fetch_upstream(struct kc_ep *ep, const char *product, struct kc_err *err)
{
	char url[16];
	int64_t added = 0;
	int r = kc_ep_setting_get(ep, "upstream_url", url, sizeof(url), err);

	if (r < 0 || !url[0])
		return r;
	return kc_ep_mirror_fetch(ep, product, &added, err);
}

int kc_ep_update(struct kc_ep *ep, const char *product, const char *feed, int64_t *enabled,
		 struct kc_err *err)
{
	int64_t r, feed_id = 0;

	if (!kc_ep_product_valid(product))
		return kc_err_set(err, -EINVAL, "unknown product '%.40s'", product);
	if (!feed)
		feed = "main";
	r = fetch_upstream(ep, product, err);
	if (r < 0)
		return (int)r;
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_ep_feed_id(ep, feed, &feed_id, err);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no feed '%.80s'", feed);
	if (r > 0)
		r = enable_new(ep, feed_id, product, INT64_MAX, err);
	if (r >= 0 && enabled)
		*enabled = r;
	if (r >= 0 && !strcmp(product, "kernel"))
		r = kc_ep_servers_reassess(ep, err);
	r = kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
	return r < 0 ? (int)r : kc_ep_publish(ep, err);
}

int kc_ep_auto_update(struct kc_ep *ep, const char *product, int64_t *enabled, struct kc_err *err)
{
	struct kc_db_stmt *st;
	int64_t r, ids[256], hours[256], total = 0;
	size_t n = 0;

	if (!kc_ep_product_valid(product))
		return kc_err_set(err, -EINVAL, "unknown product '%.40s'", product);
	r = fetch_upstream(ep, product, err);
	if (r < 0)
		return (int)r;
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_db_prepare(
	    ep->db, "SELECT id, deploy_after_hours FROM feeds WHERE auto_update = 1 ORDER BY id",
	    &st, err);
	if (r == 0) {
		while (n < 256 && (r = kc_db_step(st, err)) > 0) {
			ids[n] = kc_db_col_int(st, 0);
			hours[n++] = kc_db_col_int(st, 1);
		}
		kc_db_finalize(st);
	}
	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = enable_new(ep, ids[i], product, ep->now() - hours[i] * 3600, err);
		if (r > 0)
			total += r;
	}
	if (enabled)
		*enabled = total;
	if (r >= 0 && !strcmp(product, "kernel"))
		r = kc_ep_servers_reassess(ep, err);
	r = kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
	return r < 0 ? (int)r : kc_ep_publish(ep, err);
}
