// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Registration keys: each binds the servers registered with it to one feed,
 * limits how many may register (0: no limit), narrows the products they get,
 * and may carry a sticky date and an address range for key-less (IP-based)
 * registration. Also the Nagios-style status of a key's servers.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "eportal/model.h"

static int products_valid(const char *list)
{
	char buf[64];
	char *save = NULL;

	if (strlen(list) >= sizeof(buf))
		return 0;
	if (!list[0])
		return 1;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (!kc_ep_product_valid(p))
			return 0;
	return list[strlen(list) - 1] != ',' && list[0] != ',' && !strstr(list, ",,");
}

static int sticky_valid(const char *s)
{
	int y, m, d;
	char tail;

	if (!s[0])
		return 1;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return 0;
	return y >= 2000 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* Parses "ADDR/BITS" (or a bare address) into bytes, length and prefix bits. */
static int cidr_parse(const char *s, unsigned char addr[16], int *len, int *bits)
{
	char buf[64];
	char *slash;

	if (strlen(s) >= sizeof(buf))
		return 0;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		*len = 4;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*len = 16;
	else
		return 0;
	*bits = *len * 8;
	if (slash) {
		char *end;
		long b = strtol(slash, &end, 10);
		if (!*slash || *end || b < 0 || b > *len * 8)
			return 0;
		*bits = (int)b;
	}
	return 1;
}

static int cidr_contains(const char *cidr, const char *ip)
{
	unsigned char net[16], a[16];
	int nlen, nbits, alen, abits;

	if (!cidr_parse(cidr, net, &nlen, &nbits) || !cidr_parse(ip, a, &alen, &abits) ||
	    nlen != alen)
		return 0;
	for (int i = 0; i < nbits; i++) {
		unsigned char m = (unsigned char)(0x80 >> (i % 8));
		if ((net[i / 8] & m) != (a[i / 8] & m))
			return 0;
	}
	return 1;
}

int kc_ep_key_validate(const struct kc_ep_key *k, unsigned mask, struct kc_err *err)
{
	unsigned char a[16];
	int l, b;

	if ((mask & KC_EP_KEY_FEED) && k->feed[0] && !kc_ep_name_valid(k->feed))
		return kc_err_set(err, -EINVAL, "invalid feed name '%.80s'", k->feed);
	if ((mask & KC_EP_KEY_LIMIT) && k->server_limit < 0)
		return kc_err_set(err, -EINVAL, "invalid server limit %lld",
				  (long long)k->server_limit);
	if ((mask & KC_EP_KEY_PRODUCTS) && !products_valid(k->products))
		return kc_err_set(err, -EINVAL,
				  "invalid products '%.80s' (comma list of kernel, libs, qemu, db)",
				  k->products);
	if ((mask & KC_EP_KEY_NOTE) && !kc_ep_text_ok(k->note, KC_EP_NOTE_MAX))
		return kc_err_set(err, -EINVAL, "invalid note (control characters or too long)");
	if ((mask & KC_EP_KEY_STICKY) && !sticky_valid(k->sticky))
		return kc_err_set(err, -EINVAL, "invalid sticky date '%.20s' (YYYY-MM-DD)",
				  k->sticky);
	if ((mask & KC_EP_KEY_IPRANGE) && k->ip_range[0] && !cidr_parse(k->ip_range, a, &l, &b))
		return kc_err_set(err, -EINVAL, "invalid address range '%.64s'", k->ip_range);
	return 0;
}

int kc_ep_key_add(struct kc_ep *ep, struct kc_ep_key *k, struct kc_err *err)
{
	int64_t r, feed_id = 0;
	const char *feed = k->feed[0] ? k->feed : "main";

	r = kc_ep_key_validate(k, ~0u, err);
	if (r < 0)
		return (int)r;
	if (k->key[0]) {
		for (const char *p = k->key; *p; p++)
			if (!isalnum((unsigned char)*p))
				return kc_err_set(err, -EINVAL, "invalid key '%.40s'", k->key);
		if (strlen(k->key) < 8)
			return kc_err_set(err, -EINVAL, "key '%s' is shorter than 8 characters",
					  k->key);
	} else {
		kc_ep_random_hex(k->key, KC_EP_KEY_LEN / 2);
	}
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_ep_feed_id(ep, feed, &feed_id, err);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no feed '%s'", feed);
	if (r > 0)
		r = kc_db_run(
		    ep->db, err,
		    "INSERT INTO keys (key, feed_id, server_limit, products, note, sticky,"
		    " ip_range, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		    "tiitttti", k->key, feed_id, k->server_limit, k->products, k->note, k->sticky,
		    k->ip_range, ep->now());
	if (r == -EEXIST)
		r = kc_err_set(err, -EEXIST, "key '%s' already exists", k->key);
	snprintf(k->feed, sizeof(k->feed), "%s", feed);
	return kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
}

int kc_ep_key_change(struct kc_ep *ep, const struct kc_ep_key *k, unsigned mask, struct kc_err *err)
{
	int64_t r, feed_id = -1;

	r = kc_ep_key_validate(k, mask, err);
	if (r < 0)
		return (int)r;
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	if (mask & KC_EP_KEY_FEED) {
		const char *feed = k->feed[0] ? k->feed : "main";
		r = kc_ep_feed_id(ep, feed, &feed_id, err);
		if (r == 0)
			r = kc_err_set(err, -ENOENT, "no feed '%s'", feed);
		if (r < 0)
			goto out;
	}
	r = kc_db_run(ep->db, err,
		      "UPDATE keys SET"
		      " feed_id = CASE WHEN ? < 0 THEN feed_id ELSE ? END,"
		      " server_limit = CASE WHEN ? = 0 THEN server_limit ELSE ? END,"
		      " products = CASE WHEN ? = 0 THEN products ELSE ? END,"
		      " note = CASE WHEN ? = 0 THEN note ELSE ? END,"
		      " sticky = CASE WHEN ? = 0 THEN sticky ELSE ? END,"
		      " ip_range = CASE WHEN ? = 0 THEN ip_range ELSE ? END"
		      " WHERE key = ?",
		      "iiiiititititt", feed_id, feed_id, (int64_t) !!(mask & KC_EP_KEY_LIMIT),
		      k->server_limit, (int64_t) !!(mask & KC_EP_KEY_PRODUCTS), k->products,
		      (int64_t) !!(mask & KC_EP_KEY_NOTE), k->note,
		      (int64_t) !!(mask & KC_EP_KEY_STICKY), k->sticky,
		      (int64_t) !!(mask & KC_EP_KEY_IPRANGE), k->ip_range, k->key);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no key '%.40s'", k->key);
	/* another feed, products or sticky date: what "updated" means changed */
	if (r > 0)
		r = kc_ep_servers_reassess(ep, err);
out:
	return kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
}

int kc_ep_key_delete(struct kc_ep *ep, const char *key, struct kc_err *err)
{
	int64_t r = kc_db_begin(ep->db, 1, err);

	if (r < 0)
		return (int)r;
	r = kc_db_run(ep->db, err, "DELETE FROM keys WHERE key = ?", "t", key);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no key '%.40s'", key);
	return kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
}

#define KEY_COLS                                                                                   \
	"SELECT k.key, f.name, k.server_limit, k.products, k.note, k.sticky, k.ip_range,"          \
	" k.created, (SELECT COUNT(*) FROM servers s WHERE s.key_id = k.id)"                       \
	" FROM keys k JOIN feeds f ON f.id = k.feed_id"

static void key_row(struct kc_db_stmt *st, void *rec)
{
	struct kc_ep_key *k = rec;

	KC_EP_COL(st, 0, k->key);
	KC_EP_COL(st, 1, k->feed);
	k->server_limit = kc_db_col_int(st, 2);
	KC_EP_COL(st, 3, k->products);
	KC_EP_COL(st, 4, k->note);
	KC_EP_COL(st, 5, k->sticky);
	KC_EP_COL(st, 6, k->ip_range);
	k->created = kc_db_col_int(st, 7);
	k->servers = kc_db_col_int(st, 8);
}

static int key_select(struct kc_ep *ep, const char *key, struct kc_ep_key **out, size_t *n,
		      struct kc_err *err)
{
	struct kc_db_stmt *st;
	int r;

	r = kc_db_prepare(ep->db, key ? KEY_COLS " WHERE k.key = ?" : KEY_COLS " ORDER BY k.id",
			  &st, err);
	if (r < 0)
		return r;
	if (key)
		kc_db_bind_text(st, 1, key);
	return kc_ep_rows(st, sizeof(**out), key_row, (void **)out, n, err);
}

int kc_ep_key_list(struct kc_ep *ep, struct kc_ep_key **out, size_t *n, struct kc_err *err)
{
	int r = kc_db_begin(ep->db, 0, err);

	if (r < 0)
		return r;
	r = key_select(ep, NULL, out, n, err);
	return kc_ep_txn_end(ep->db, r, err);
}

int kc_ep_key_get(struct kc_ep *ep, const char *key, struct kc_ep_key *out, struct kc_err *err)
{
	struct kc_ep_key *arr = NULL;
	size_t n = 0;
	int r = kc_db_begin(ep->db, 0, err);

	if (r < 0)
		return r;
	r = key_select(ep, key, &arr, &n, err);
	r = kc_ep_txn_end(ep->db, r, err);
	if (r == 0 && n == 0)
		r = kc_err_set(err, -ENOENT, "no key '%.40s'", key);
	if (r == 0)
		*out = arr[0];
	free(arr);
	return r;
}

/*
 * Key id for a registration inside the caller's write transaction: by
 * @key, or by the first key whose range holds @ip. Locks the key's row on
 * PostgreSQL so that two replicas cannot both take the last free place.
 */
int kc_ep_key_for_register(struct kc_ep *ep, const char *key, const char *ip, int64_t *id,
			   int64_t *limit, struct kc_err *err)
{
	struct kc_db_stmt *st;
	int r;

	if (key) {
		r = kc_db_prepare(ep->db,
				  "SELECT id, server_limit FROM keys WHERE key = ? @FOR_UPDATE@",
				  &st, err);
		if (r < 0)
			return r;
		kc_db_bind_text(st, 1, key);
		r = kc_db_step(st, err);
		if (r > 0) {
			*id = kc_db_col_int(st, 0);
			*limit = kc_db_col_int(st, 1);
		}
		kc_db_finalize(st);
		if (r == 0)
			r = kc_err_set(err, -ENOKEY, "unknown registration key");
		return r < 0 ? r : 0;
	}
	r = kc_db_prepare(ep->db,
			  "SELECT id, server_limit, ip_range FROM keys WHERE ip_range <> '' "
			  "ORDER BY id",
			  &st, err);
	if (r < 0)
		return r;
	int found = 0;
	while (!found && (r = kc_db_step(st, err)) > 0) {
		if (ip && cidr_contains(kc_db_col_text(st, 2), ip)) {
			*id = kc_db_col_int(st, 0);
			*limit = kc_db_col_int(st, 1);
			found = 1;
		}
	}
	kc_db_finalize(st);
	if (r < 0)
		return r;
	if (!found)
		return kc_err_set(err, -EACCES, "no key allows registration from '%.64s'",
				  ip ? ip : "");
	if (kc_db_kind(ep->db) == KC_DB_PG)
		r = (int)kc_db_run(ep->db, err, "SELECT id FROM keys WHERE id = ? FOR UPDATE", "i",
				   *id);
	return r < 0 ? r : 0;
}

int kc_ep_key_status(struct kc_ep *ep, const char *key, int64_t inactive_after,
		     struct kc_ep_key_status *s, struct kc_err *err)
{
	struct kc_db_stmt *st;
	int r;

	memset(s, 0, sizeof(*s));
	r = kc_db_begin(ep->db, 0, err);
	if (r < 0)
		return r;
	r = kc_db_prepare(ep->db,
			  "SELECT k.server_limit, COUNT(s.id),"
			  " COALESCE(SUM(CASE WHEN s.is_updated = 1 THEN 1 ELSE 0 END), 0),"
			  " COALESCE(SUM(CASE WHEN s.last_seen < ? THEN 1 ELSE 0 END), 0)"
			  " FROM keys k LEFT JOIN servers s ON s.key_id = k.id WHERE k.key = ?"
			  " GROUP BY k.id, k.server_limit",
			  &st, err);
	if (r == 0) {
		kc_db_bind_int(st, 1, ep->now() - inactive_after);
		kc_db_bind_text(st, 2, key);
		r = kc_db_step(st, err);
		if (r > 0) {
			s->server_limit = kc_db_col_int(st, 0);
			s->servers = kc_db_col_int(st, 1);
			s->updated = kc_db_col_int(st, 2);
			s->inactive = kc_db_col_int(st, 3);
			s->outdated = s->servers - s->updated;
		} else if (r == 0) {
			r = kc_err_set(err, -ENOENT, "no key '%.40s'", key);
		}
		kc_db_finalize(st);
	}
	r = kc_ep_txn_end(ep->db, r < 0 ? r : 0, err);
	if (r < 0)
		return r;
	if (s->server_limit > 0 && s->servers >= s->server_limit)
		s->code = 2;
	else if (s->outdated > 0 || s->inactive > 0)
		s->code = 1;
	return 0;
}
