// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-feed patchset states and the actions that change them. A patchset the
 * server holds is, in each feed, one of:
 *   undeployed (no row, or the row says so)  not served
 *   enabled                                  served
 *   disabled                                 not served, kept visible as deployed
 *   blocked                                  not served, and never enabled by
 *                                            enable-up-to or auto-update
 * enable/disable/block/undeploy set one patchset's state; enable-up-to
 * enables every patchset of the same product released up to the named one
 * (blocked ones stay blocked); undeploy-down-to undeploys every one released
 * after it. Order is (released, name). Every action republishes.
 */
#include <string.h>

#include "eportal/model.h"

int kc_ep_ps_action_parse(const char *s, enum kc_ep_ps_action *a)
{
	static const char *const names[] = {"enable",		"disable", "enable-up-to",
					    "undeploy-down-to", "block",   "undeploy"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (s && !strcmp(s, names[i])) {
			*a = (enum kc_ep_ps_action)i;
			return 0;
		}
	return -EINVAL;
}

static void patchset_row(struct kc_db_stmt *st, void *rec)
{
	struct kc_ep_patchset *p = rec;

	KC_EP_COL(st, 0, p->name);
	KC_EP_COL(st, 1, p->product);
	p->released = kc_db_col_int(st, 2);
	p->created = kc_db_col_int(st, 3);
	KC_EP_COL(st, 4, p->state);
	p->npatches = kc_db_col_int(st, 5);
	KC_EP_COL(st, 6, p->origin);
}

int kc_ep_patchset_list(struct kc_ep *ep, const char *feed, const char *product,
			struct kc_ep_patchset **out, size_t *n, struct kc_err *err)
{
	struct kc_db_stmt *st;
	struct kc_ep_patchset *arr = NULL;
	size_t cnt = 0;
	int64_t feed_id = 0;
	int r;

	if (!feed)
		feed = "main";
	if (product && !kc_ep_product_valid(product))
		return kc_err_set(err, -EINVAL, "unknown product '%.40s'", product);
	r = kc_db_begin(ep->db, 0, err);
	if (r < 0)
		return r;
	r = kc_ep_feed_id(ep, feed, &feed_id, err);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no feed '%.80s'", feed);
	if (r < 0)
		goto out;
	r = kc_db_prepare(ep->db,
			  "SELECT ps.name, ps.product, ps.released, ps.created,"
			  " COALESCE(fp.state, 'undeployed'),"
			  " (SELECT COUNT(*) FROM patches p WHERE p.patchset_id = ps.id),"
			  " COALESCE(ps.origin, '')"
			  " FROM patchsets ps LEFT JOIN feed_patchsets fp"
			  " ON fp.patchset_id = ps.id AND fp.feed_id = ?"
			  " WHERE ? = '' OR ps.product = ?"
			  " ORDER BY ps.product, ps.released, ps.name",
			  &st, err);
	if (r < 0)
		goto out;
	kc_db_bind_int(st, 1, feed_id);
	kc_db_bind_text(st, 2, product ? product : "");
	kc_db_bind_text(st, 3, product ? product : "");
	r = kc_ep_rows(st, sizeof(*arr), patchset_row, (void **)&arr, &cnt, err);
out:
	r = kc_ep_txn_end(ep->db, r < 0 ? r : 0, err);
	if (r < 0) {
		free(arr);
		return r;
	}
	*out = arr;
	*n = cnt;
	return 0;
}

/* Sets the state of one patchset in one feed (inside a write transaction). */
int kc_ep_ps_set_state(struct kc_ep *ep, int64_t feed_id, int64_t ps_id, const char *state,
		       struct kc_err *err)
{
	int64_t r = kc_db_run(ep->db, err,
			      "INSERT INTO feed_patchsets (feed_id, patchset_id, state, changed)"
			      " VALUES (?, ?, ?, ?) ON CONFLICT (feed_id, patchset_id)"
			      " DO UPDATE SET state = excluded.state, changed = excluded.changed",
			      "iiti", feed_id, ps_id, state, ep->now());
	return r < 0 ? (int)r : 0;
}

int kc_ep_patchset_action(struct kc_ep *ep, const char *feed, const char *name,
			  enum kc_ep_ps_action a, struct kc_err *err)
{
	static const char *const single[] = {
	    [KC_EP_ENABLE] = "enabled",
	    [KC_EP_DISABLE] = "disabled",
	    [KC_EP_BLOCK] = "blocked",
	    [KC_EP_UNDEPLOY] = "undeployed",
	};
	struct kc_db_stmt *st;
	int64_t r, feed_id = 0, ps_id = 0, released = 0;
	char product[16] = "";

	if (!feed)
		feed = "main";
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_ep_feed_id(ep, feed, &feed_id, err);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no feed '%.80s'", feed);
	if (r < 0)
		goto out;
	r = kc_db_prepare(ep->db, "SELECT id, product, released FROM patchsets WHERE name = ?", &st,
			  err);
	if (r < 0)
		goto out;
	kc_db_bind_text(st, 1, name);
	r = kc_db_step(st, err);
	if (r > 0) {
		ps_id = kc_db_col_int(st, 0);
		KC_EP_COL(st, 1, product);
		released = kc_db_col_int(st, 2);
	}
	kc_db_finalize(st);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no patchset '%.80s'", name);
	if (r < 0)
		goto out;
	switch (a) {
	case KC_EP_ENABLE_UP_TO:
		r = kc_db_run(ep->db, err,
			      "INSERT INTO feed_patchsets (feed_id, patchset_id, state, changed)"
			      " SELECT ?, ps.id, 'enabled', ? FROM patchsets ps"
			      " WHERE ps.product = ? AND (ps.released < ? OR"
			      " (ps.released = ? AND ps.name <= ?))"
			      " ON CONFLICT (feed_id, patchset_id) DO UPDATE SET state = 'enabled',"
			      " changed = excluded.changed WHERE feed_patchsets.state <> 'blocked'",
			      "iitiit", feed_id, ep->now(), product, released, released, name);
		break;
	case KC_EP_UNDEPLOY_DOWN_TO:
		r = kc_db_run(ep->db, err,
			      "UPDATE feed_patchsets SET state = 'undeployed', changed = ?"
			      " WHERE feed_id = ? AND state <> 'blocked' AND patchset_id IN"
			      " (SELECT ps.id FROM patchsets ps WHERE ps.product = ? AND"
			      " (ps.released > ? OR (ps.released = ? AND ps.name > ?)))",
			      "iitiit", ep->now(), feed_id, product, released, released, name);
		break;
	default:
		r = kc_ep_ps_set_state(ep, feed_id, ps_id, single[a], err);
		break;
	}
	if (r >= 0 && !strcmp(product, "kernel"))
		r = kc_ep_servers_reassess(ep, err);
out:
	r = kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
	if (r < 0)
		return (int)r;
	return kc_ep_publish(ep, err);
}
