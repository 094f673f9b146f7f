// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Servers: registration (by key, or by address), check-ins that record what
 * an agent reports plus the time and address it came from, unregistering,
 * listing with filters, cleaning inactive servers, and the tag counts.
 * "Updated" means the server's patch level is at least the highest level
 * its feed serves for its kernel; it is decided at each check-in and again
 * whenever what feeds serve or what keys allow changes
 * (kc_ep_servers_reassess()).
 */
#include <string.h>
#include <time.h>

#include "eportal/model.h"

int kc_ep_key_for_register(struct kc_ep *ep, const char *key, const char *ip, int64_t *id,
			   int64_t *limit, struct kc_err *err);

static int value_ok(const char *what, const char *v, size_t max, struct kc_err *err)
{
	if (v && !kc_ep_text_ok(v, max))
		return kc_err_set(err, -EINVAL, "invalid %s (control characters or over %zu bytes)",
				  what, max);
	return 0;
}

int kc_ep_checkin_validate(const struct kc_ep_checkin *c, struct kc_err *err)
{
	int r = 0;

	if (r == 0)
		r = value_ok("hostname", c->hostname, KC_EP_NOTE_MAX, err);
	if (r == 0)
		r = value_ok("ip", c->ip, 63, err);
	if (r == 0)
		r = value_ok("kernel id", c->kernel_id, 128, err);
	if (r == 0)
		r = value_ok("effective version", c->effective_version, KC_EP_NOTE_MAX, err);
	if (r == 0)
		r = value_ok("distro", c->distro, KC_EP_NOTE_MAX, err);
	if (r == 0)
		r = value_ok("agent version", c->agent_version, 63, err);
	/* -2 / -1: "not sent" for a check-in (keep the stored value) */
	if (r == 0 && (c->patch_level < -2 || c->patch_level > 1000000))
		r = kc_err_set(err, -EINVAL, "invalid patch level %lld", (long long)c->patch_level);
	if (r == 0 && c->uptime < -1)
		r = kc_err_set(err, -EINVAL, "invalid uptime %lld", (long long)c->uptime);
	if (r == 0 && c->ntags > KC_EP_MAX_TAGS)
		r = kc_err_set(err, -EINVAL, "too many tags (at most %d)", KC_EP_MAX_TAGS);
	for (size_t i = 0; r == 0 && i < c->ntags; i++) {
		const char *t = c->tags[i];
		if (!t || !t[0] || strlen(t) > 32 || strchr(t, ',') || !kc_ep_text_ok(t, 32))
			r = kc_err_set(err, -EINVAL, "invalid tag '%.40s'", t ? t : "");
	}
	return r;
}

/* The end of a key's sticky day: patchsets released before it count. */
static int64_t sticky_cutoff(const char *sticky)
{
	struct tm tm = {0};
	int y, m, d;

	if (!sticky[0] || sscanf(sticky, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return INT64_MAX;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return (int64_t)timegm(&tm) + 86400;
}

/* Whether a key's comma list of products ("" = all) gives its servers kernel patches. */
static int key_has_kernel(const char *products)
{
	size_t n = strlen("kernel");

	if (!products[0])
		return 1;
	for (const char *p = products; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, "kernel", n) && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

/* What decides is_updated for the servers of one key. */
struct key_view {
	int64_t id, feed_id;
	char products[64], sticky[16];
};

static void key_view_row(struct kc_db_stmt *st, void *rec)
{
	struct key_view *k = rec;

	k->id = kc_db_col_int(st, 0);
	k->feed_id = kc_db_col_int(st, 1);
	KC_EP_COL(st, 2, k->products);
	KC_EP_COL(st, 3, k->sticky);
}

/*
 * Recomputes latest_level and is_updated of the servers of key @k (only
 * server row @id when not 0): latest_level is the highest level of the
 * kernel patches its feed serves for its kernel (the kernel id it reports,
 * sha1 of /proc/version or the build-id, either case), counting only
 * patchsets released up to the key's sticky date, -1 when there is none,
 * the server reports no kernel or its key gives no kernel patches; a
 * server is updated when its patch level is at least that.
 */
static int update_key(struct kc_ep *ep, const struct key_view *k, int64_t id, struct kc_err *err)
{
	int64_t r =
	    kc_db_run(ep->db, err,
		      "UPDATE servers SET latest_level = CASE WHEN kernel_id = '' OR ? = 0 THEN -1"
		      " ELSE COALESCE((SELECT MAX(p.level) FROM patches p"
		      "  JOIN patchsets ps ON ps.id = p.patchset_id"
		      "  JOIN feed_patchsets fp ON fp.patchset_id = ps.id AND fp.state = 'enabled'"
		      "  WHERE fp.feed_id = ? AND ps.product = 'kernel' AND ps.released < ?"
		      "  AND (p.kernel_id = LOWER(servers.kernel_id) OR p.build_id = "
		      "LOWER(servers.kernel_id))),"
		      " -1) END WHERE key_id = ? AND (? = 0 OR id = ?)",
		      "iiiiii", (int64_t)key_has_kernel(k->products), k->feed_id,
		      sticky_cutoff(k->sticky), k->id, id, id);

	if (r >= 0)
		r = kc_db_run(
		    ep->db, err,
		    "UPDATE servers SET is_updated = CASE WHEN patch_level >= latest_level"
		    " THEN 1 ELSE 0 END WHERE key_id = ? AND (? = 0 OR id = ?)",
		    "iii", k->id, id, id);
	return r < 0 ? (int)r : 0;
}

#define KEY_VIEW_COLS "SELECT k.id, k.feed_id, k.products, k.sticky FROM keys k"

/* Recomputes is_updated of server row @id (inside the caller's write transaction). */
static int update_state(struct kc_ep *ep, int64_t id, struct kc_err *err)
{
	struct key_view *k = NULL;
	struct kc_db_stmt *st;
	size_t n = 0;
	int r = kc_db_prepare(
	    ep->db, KEY_VIEW_COLS " JOIN servers s ON s.key_id = k.id WHERE s.id = ?", &st, err);

	if (r < 0)
		return r;
	kc_db_bind_int(st, 1, id);
	r = kc_ep_rows(st, sizeof(*k), key_view_row, (void **)&k, &n, err);
	if (r == 0 && n == 1)
		r = update_key(ep, k, id, err);
	free(k);
	return r;
}

int kc_ep_servers_refresh(struct kc_ep *ep, struct kc_err *err)
{
	int r = kc_db_begin(ep->db, 1, err);

	if (r < 0)
		return r;
	r = kc_ep_servers_reassess(ep, err);
	return kc_ep_txn_end(ep->db, r, err);
}

int kc_ep_servers_reassess(struct kc_ep *ep, struct kc_err *err)
{
	struct key_view *k = NULL;
	struct kc_db_stmt *st;
	size_t n = 0;
	int r = kc_db_prepare(ep->db, KEY_VIEW_COLS " ORDER BY k.id", &st, err);

	if (r < 0)
		return r;
	r = kc_ep_rows(st, sizeof(*k), key_view_row, (void **)&k, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = update_key(ep, &k[i], 0, err);
	free(k);
	return r;
}

static int set_tags(struct kc_ep *ep, int64_t id, const struct kc_ep_checkin *c, struct kc_err *err)
{
	int64_t r;

	if (!c->tags_set)
		return 0;
	r = kc_db_run(ep->db, err, "DELETE FROM server_tags WHERE server_id = ?", "i", id);
	for (size_t i = 0; r >= 0 && i < c->ntags; i++)
		r = kc_db_run(ep->db, err,
			      "INSERT INTO server_tags (server_id, tag) VALUES (?, ?) "
			      "ON CONFLICT DO NOTHING",
			      "it", id, c->tags[i]);
	return r < 0 ? (int)r : 0;
}

#define SERVER_COLS                                                                                \
	"SELECT s.server_id, k.key, f.name, k.products, k.sticky, s.hostname, s.ip,"               \
	" s.kernel_id, s.patch_level, s.effective_version, s.distro, s.uptime,"                    \
	" s.agent_version, s.is_updated, s.registered, s.last_seen,"                               \
	" (SELECT @STRAGG@(t.tag, ',') FROM server_tags t WHERE t.server_id = s.id),"              \
	" s.latest_level"                                                                          \
	" FROM servers s JOIN keys k ON k.id = s.key_id JOIN feeds f ON f.id = k.feed_id"

static void server_row(struct kc_db_stmt *st, void *rec)
{
	struct kc_ep_server *s = rec;

	KC_EP_COL(st, 0, s->server_id);
	KC_EP_COL(st, 1, s->key);
	KC_EP_COL(st, 2, s->feed);
	KC_EP_COL(st, 3, s->products);
	KC_EP_COL(st, 4, s->sticky);
	KC_EP_COL(st, 5, s->hostname);
	KC_EP_COL(st, 6, s->ip);
	KC_EP_COL(st, 7, s->kernel_id);
	s->patch_level = kc_db_col_int(st, 8);
	KC_EP_COL(st, 9, s->effective_version);
	KC_EP_COL(st, 10, s->distro);
	s->uptime = kc_db_col_int(st, 11);
	KC_EP_COL(st, 12, s->agent_version);
	s->is_updated = (int)kc_db_col_int(st, 13);
	s->registered = kc_db_col_int(st, 14);
	s->last_seen = kc_db_col_int(st, 15);
	KC_EP_COL(st, 16, s->tags);
	s->latest_level = kc_db_col_int(st, 17);
}

static int server_read(struct kc_ep *ep, const char *server_id, struct kc_ep_server *out,
		       struct kc_err *err)
{
	struct kc_db_stmt *st;
	int r = kc_db_prepare(ep->db, SERVER_COLS " WHERE s.server_id = ?", &st, err);

	if (r < 0)
		return r;
	kc_db_bind_text(st, 1, server_id);
	r = kc_db_step(st, err);
	if (r > 0)
		server_row(st, out);
	else if (r == 0)
		r = kc_err_set(err, -ENOENT, "unknown server '%.40s'", server_id);
	kc_db_finalize(st);
	return r < 0 ? r : 0;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

int kc_ep_register(struct kc_ep *ep, const char *key, const struct kc_ep_checkin *c,
		   struct kc_ep_server *out, struct kc_err *err)
{
	int64_t r, key_id = 0, limit = 0, count = 0, id = 0;
	char sid[KC_EP_KEY_LEN + 1];
	int64_t now = ep->now();

	r = kc_ep_checkin_validate(c, err);
	if (r < 0)
		return (int)r;
	kc_ep_random_hex(sid, KC_EP_KEY_LEN / 2);
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_ep_key_for_register(ep, key, c->ip, &key_id, &limit, err);
	if (r < 0)
		goto out;
	if (limit > 0) {
		r = kc_db_query_int(ep->db, &count, err,
				    "SELECT COUNT(*) FROM servers WHERE key_id = ?", "i", key_id);
		if (r < 0)
			goto out;
		if (count >= limit) {
			r = kc_err_set(err, -EDQUOT, "key has reached its limit of %lld servers",
				       (long long)limit);
			goto out;
		}
	}
	r = kc_db_query_int(ep->db, &id, err,
			    "INSERT INTO servers (server_id, key_id, hostname, ip, kernel_id,"
			    " patch_level, effective_version, distro, uptime, agent_version,"
			    " registered, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
			    " RETURNING id",
			    "titttittitii", sid, key_id, nz(c->hostname), nz(c->ip),
			    nz(c->kernel_id), c->patch_level < -1 ? (int64_t)-1 : c->patch_level,
			    nz(c->effective_version), nz(c->distro),
			    c->uptime < 0 ? (int64_t)0 : c->uptime, nz(c->agent_version), now, now);
	if (r == 0)
		r = kc_err_set(err, -EIO, "server row not created");
	if (r > 0)
		r = set_tags(ep, id, c, err);
	if (r >= 0)
		r = update_state(ep, id, err);
	if (r >= 0)
		r = server_read(ep, sid, out, err);
out:
	return kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
}

/* One check-in inside the leader's transaction (see kc_ep_checkin()). */
static int checkin_one(struct kc_ep *ep, const char *server_id, const struct kc_ep_checkin *c,
		       struct kc_ep_server *out, struct kc_err *err)
{
	int64_t r, id = 0;

	r = kc_db_query_int(ep->db, &id, err,
			    "UPDATE servers SET hostname = COALESCE(?, hostname),"
			    " ip = COALESCE(?, ip), kernel_id = COALESCE(?, kernel_id),"
			    " patch_level = CASE WHEN ? < -1 THEN patch_level ELSE ? END,"
			    " effective_version = COALESCE(?, effective_version),"
			    " distro = COALESCE(?, distro),"
			    " uptime = CASE WHEN ? < 0 THEN uptime ELSE ? END,"
			    " agent_version = COALESCE(?, agent_version), last_seen = ?"
			    " WHERE server_id = ? RETURNING id",
			    "tttiittiitit", c->hostname, c->ip, c->kernel_id, c->patch_level,
			    c->patch_level, c->effective_version, c->distro, c->uptime, c->uptime,
			    c->agent_version, ep->now(), server_id);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "unknown server '%.40s'", server_id);
	if (r > 0)
		r = set_tags(ep, id, c, err);
	if (r >= 0)
		r = update_state(ep, id, err);
	if (r >= 0 && out)
		r = server_read(ep, server_id, out, err);
	return (int)(r < 0 ? r : 0);
}

struct kc_ep_pending {
	const char *server_id;
	const struct kc_ep_checkin *c;
	struct kc_ep_server *out;
	struct kc_err err;
	int r, done;
	struct kc_ep_pending *next;
};

/*
 * Commits a batch of check-ins in one transaction: each runs inside its own
 * savepoint, so one that fails (an unknown server) is undone alone; a failed
 * COMMIT fails every check-in of the batch. Runs without gc_lock.
 */
static void commit_batch(struct kc_ep *ep, struct kc_ep_pending *batch)
{
	struct kc_err err = KC_ERR_INIT;
	int r = kc_db_begin(ep->db, 1, &err);

	for (struct kc_ep_pending *p = batch; p; p = p->next) {
		if (r < 0) {
			p->r = r;
			p->err = err;
			continue;
		}
		p->r = kc_db_exec(ep->db, "SAVEPOINT checkin", &p->err);
		if (p->r == 0)
			p->r = checkin_one(ep, p->server_id, p->c, p->out, &p->err);
		(void)kc_db_exec(
		    ep->db,
		    p->r < 0 ? "ROLLBACK TO SAVEPOINT checkin" : "RELEASE SAVEPOINT checkin", NULL);
		if (p->r < 0 && p->r != -ENOENT) {
			/* the connection is in trouble: the rest fail with the same error */
			r = p->r;
			err = p->err;
		}
	}
	if (r == 0) {
		r = kc_db_commit(ep->db, &err);
	} else {
		kc_db_rollback(ep->db);
	}
	for (struct kc_ep_pending *p = batch; p; p = p->next)
		if (r < 0 && p->r == 0) {
			p->r = r;
			p->err = err;
		}
}

/*
 * Records a check-in, durable when this returns 0. Concurrent callers share
 * one transaction (group commit): the first caller to find no leader becomes
 * it, commits whatever is queued, wakes the others, and goes on while more
 * are queued; its own check-in is done when it leaves.
 */
int kc_ep_checkin(struct kc_ep *ep, const char *server_id, const struct kc_ep_checkin *c,
		  struct kc_ep_server *out, struct kc_err *err)
{
	struct kc_ep_pending me = {.server_id = server_id, .c = c, .out = out};
	int r = kc_ep_checkin_validate(c, err);

	if (r < 0)
		return r;
	pthread_mutex_lock(&ep->gc_lock);
	*ep->gc_tail = &me;
	ep->gc_tail = &me.next;
	while (!me.done) {
		if (ep->gc_leader) {
			pthread_cond_wait(&ep->gc_cond, &ep->gc_lock);
			continue;
		}
		struct kc_ep_pending *batch = ep->gc_head;
		ep->gc_head = NULL;
		ep->gc_tail = &ep->gc_head;
		ep->gc_leader = 1;
		pthread_mutex_unlock(&ep->gc_lock);
		commit_batch(ep, batch);
		pthread_mutex_lock(&ep->gc_lock);
		for (struct kc_ep_pending *p = batch, *next; p; p = next) {
			next = p->next; /* @p may go away as soon as it is marked done */
			p->done = 1;
		}
		ep->gc_leader = 0;
		pthread_cond_broadcast(&ep->gc_cond);
	}
	pthread_mutex_unlock(&ep->gc_lock);
	if (me.r < 0 && err)
		*err = me.err;
	return me.r;
}

int kc_ep_server_get(struct kc_ep *ep, const char *server_id, struct kc_ep_server *out,
		     struct kc_err *err)
{
	int r = kc_db_begin(ep->db, 0, err);

	if (r < 0)
		return r;
	r = server_read(ep, server_id, out, err);
	return kc_ep_txn_end(ep->db, r, err);
}

int kc_ep_server_delete(struct kc_ep *ep, const char *server_id, struct kc_err *err)
{
	int64_t r = kc_db_begin(ep->db, 1, err);

	if (r < 0)
		return (int)r;
	r = kc_db_run(ep->db, err, "DELETE FROM servers WHERE server_id = ?", "t", server_id);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "unknown server '%.40s'", server_id);
	return kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
}

int64_t kc_ep_server_clean(struct kc_ep *ep, int64_t seen_before, struct kc_err *err)
{
	int64_t r = kc_db_begin(ep->db, 1, err);

	if (r < 0)
		return r;
	r = kc_db_run(ep->db, err, "DELETE FROM servers WHERE last_seen < ?", "i", seen_before);
	if (r < 0) {
		kc_db_rollback(ep->db);
		return r;
	}
	int c = kc_db_commit(ep->db, err);
	return c < 0 ? c : r;
}

/* A WHERE clause under construction with its parameters in order. */
struct where {
	char sql[1024];
	size_t len;
	const char *text[8];
	int64_t num[8];
	char type[8];
	int n;
	char like[KC_EP_NOTE_MAX + 1];
};

static void where_add(struct where *w, const char *cond, char type, const char *t, int64_t i)
{
	w->len += (size_t)snprintf(w->sql + w->len, sizeof(w->sql) - w->len, "%s%s",
				   w->n || strstr(w->sql, "WHERE") ? " AND " : " WHERE ", cond);
	if (type) {
		w->type[w->n] = type;
		w->text[w->n] = t;
		w->num[w->n] = i;
		w->n++;
	}
}

static void where_bind(const struct where *w, struct kc_db_stmt *st, int first)
{
	for (int i = 0; i < w->n; i++) {
		if (w->type[i] == 't')
			kc_db_bind_text(st, first + i, w->text[i]);
		else
			kc_db_bind_int(st, first + i, w->num[i]);
	}
}

static void where_build(struct where *w, const struct kc_ep_server_filter *f)
{
	memset(w, 0, sizeof(*w));
	if (f->hostname && strchr(f->hostname, '*')) {
		size_t j = 0;
		for (size_t i = 0; f->hostname[i] && j + 1 < sizeof(w->like); i++)
			w->like[j++] = f->hostname[i] == '*' ? '%' : f->hostname[i];
		w->like[j] = '\0';
		where_add(w, "s.hostname LIKE ?", 't', w->like, 0);
	} else if (f->hostname) {
		where_add(w, "s.hostname = ?", 't', f->hostname, 0);
	}
	if (f->ip)
		where_add(w, "s.ip = ?", 't', f->ip, 0);
	if (f->feed)
		where_add(w, "f.name = ?", 't', f->feed, 0);
	if (f->key)
		where_add(w, "k.key = ?", 't', f->key, 0);
	if (f->tag)
		where_add(
		    w,
		    "EXISTS (SELECT 1 FROM server_tags t WHERE t.server_id = s.id AND t.tag = ?)",
		    't', f->tag, 0);
	if (f->seen_before)
		where_add(w, "s.last_seen < ?", 'i', NULL, f->seen_before);
	if (f->seen_after)
		where_add(w, "s.last_seen >= ?", 'i', NULL, f->seen_after);
	if (f->is_updated >= 0)
		where_add(w, "s.is_updated = ?", 'i', NULL, f->is_updated);
}

int kc_ep_server_list(struct kc_ep *ep, const struct kc_ep_server_filter *f,
		      struct kc_ep_server **out, size_t *n, int64_t *total, struct kc_err *err)
{
	struct kc_db_stmt *st = NULL;
	struct kc_ep_server *arr = NULL;
	size_t cnt = 0;
	struct where w;
	char sql[2048];
	int r;

	if (f->limit < 0 || f->offset < 0)
		return kc_err_set(err, -EINVAL, "invalid limit or offset");
	where_build(&w, f);
	r = kc_db_begin(ep->db, 0, err);
	if (r < 0)
		return r;
	if (total) {
		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM servers s JOIN keys k ON k.id = s.key_id"
			 " JOIN feeds f ON f.id = k.feed_id%s",
			 w.sql);
		r = kc_db_prepare(ep->db, sql, &st, err);
		if (r < 0)
			goto out;
		where_bind(&w, st, 1);
		r = kc_db_step(st, err);
		*total = r > 0 ? kc_db_col_int(st, 0) : 0;
		kc_db_finalize(st);
		if (r < 0)
			goto out;
	}
	snprintf(sql, sizeof(sql), SERVER_COLS "%s ORDER BY s.id LIMIT ? OFFSET ?", w.sql);
	r = kc_db_prepare(ep->db, sql, &st, err);
	if (r < 0)
		goto out;
	where_bind(&w, st, 1);
	kc_db_bind_int(st, w.n + 1, f->limit > 0 ? f->limit : INT64_MAX);
	kc_db_bind_int(st, w.n + 2, f->offset);
	r = kc_ep_rows(st, sizeof(*arr), server_row, (void **)&arr, &cnt, err);
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

static void tag_row(struct kc_db_stmt *st, void *rec)
{
	struct kc_ep_tag *t = rec;

	KC_EP_COL(st, 0, t->tag);
	t->servers = kc_db_col_int(st, 1);
}

int kc_ep_tag_list(struct kc_ep *ep, struct kc_ep_tag **out, size_t *n, struct kc_err *err)
{
	return kc_ep_list(ep, "SELECT tag, COUNT(*) FROM server_tags GROUP BY tag ORDER BY tag",
			  sizeof(**out), tag_row, (void **)out, n, err);
}
