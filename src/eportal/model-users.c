// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Who may use the admin API: users (HTTP basic auth; passwords stored as
 * libsodium argon2id strings, verified outside the database lock because the
 * KDF is slow on purpose) and API keys (X-Api-Key; random tokens of which only
 * the sha256 is stored, so a leaked database does not leak usable keys).
 * Either kind is read-only or admin.
 */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "eportal/model.h"

#define PASSWORD_MAX 1024

static int hash_password(const char *password, char out[crypto_pwhash_STRBYTES], struct kc_err *err)
{
	if (!password[0] || strlen(password) > PASSWORD_MAX)
		return kc_err_set(err, -EINVAL, "password must be 1 to %d bytes", PASSWORD_MAX);
	if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return kc_err_set(err, -ENOMEM, "cannot hash password (out of memory)");
	return 0;
}

/* Any change of users voids the logins the HTTP front remembers. */
static int users_changed(struct kc_ep *ep, int ret)
{
	atomic_fetch_add(&ep->users_generation, 1);
	return ret;
}

int kc_ep_user_add(struct kc_ep *ep, const char *name, const char *password, int readonly,
		   struct kc_err *err)
{
	char hash[crypto_pwhash_STRBYTES];
	int64_t r;

	if (!kc_ep_name_valid(name))
		return kc_err_set(err, -EINVAL, "invalid user name '%.80s'", name);
	r = hash_password(password, hash, err);
	if (r < 0)
		return (int)r;
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_db_run(ep->db, err,
		      "INSERT INTO users (name, pwhash, readonly, created) VALUES (?, ?, ?, ?)",
		      "ttii", name, hash, (int64_t) !!readonly, ep->now());
	if (r == -EEXIST)
		r = kc_err_set(err, -EEXIST, "user '%s' already exists", name);
	return users_changed(ep, kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err));
}

int kc_ep_user_passwd(struct kc_ep *ep, const char *name, const char *password, struct kc_err *err)
{
	char hash[crypto_pwhash_STRBYTES];
	int64_t r;

	r = hash_password(password, hash, err);
	if (r < 0)
		return (int)r;
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_db_run(ep->db, err, "UPDATE users SET pwhash = ? WHERE name = ?", "tt", hash, name);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no user '%.80s'", name);
	return users_changed(ep, kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err));
}

int kc_ep_user_delete(struct kc_ep *ep, const char *name, struct kc_err *err)
{
	int64_t r = kc_db_begin(ep->db, 1, err);

	if (r < 0)
		return (int)r;
	r = kc_db_run(ep->db, err, "DELETE FROM users WHERE name = ?", "t", name);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no user '%.80s'", name);
	return users_changed(ep, kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err));
}

static void user_row(struct kc_db_stmt *st, void *rec)
{
	struct kc_ep_user *u = rec;

	KC_EP_COL(st, 0, u->name);
	u->readonly = (int)kc_db_col_int(st, 1);
	u->created = kc_db_col_int(st, 2);
}

int kc_ep_user_list(struct kc_ep *ep, struct kc_ep_user **out, size_t *n, struct kc_err *err)
{
	return kc_ep_list(ep, "SELECT name, readonly, created FROM users ORDER BY name",
			  sizeof(**out), user_row, (void **)out, n, err);
}

static char dummy_hash[crypto_pwhash_STRBYTES];

/* A hash of a random password with today's parameters, made once on first use. */
static void dummy_init(void)
{
	char pw[33];

	kc_ep_random_hex(pw, 16);
	if (crypto_pwhash_str(dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

int kc_ep_user_auth(struct kc_ep *ep, const char *name, const char *password, int *readonly,
		    struct kc_err *err)
{
	char hash[crypto_pwhash_STRBYTES + 1] = "";
	struct kc_db_stmt *st;
	int r, found = 0, ro = 1;

	if (strlen(password) > PASSWORD_MAX || !kc_ep_name_valid(name))
		return kc_err_set(err, -EACCES, "wrong user name or password");
	r = kc_db_begin(ep->db, 0, err);
	if (r < 0)
		return r;
	r = kc_db_prepare(ep->db, "SELECT pwhash, readonly FROM users WHERE name = ?", &st, err);
	if (r == 0) {
		kc_db_bind_text(st, 1, name);
		r = kc_db_step(st, err);
		if (r > 0) {
			found = 1;
			snprintf(hash, sizeof(hash), "%s", kc_db_col_text(st, 0));
			ro = (int)kc_db_col_int(st, 1);
		}
		kc_db_finalize(st);
	}
	r = kc_ep_txn_end(ep->db, r < 0 ? r : 0, err);
	if (r < 0)
		return r;
	if (!found) {
		static pthread_once_t once = PTHREAD_ONCE_INIT;
		pthread_once(&once, dummy_init);
		snprintf(hash, sizeof(hash), "%s", dummy_hash);
	}
	/* the slow check runs without the database lock, for known and unknown names alike */
	atomic_fetch_add(&ep->pw_checks, 1);
	if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0 || !found)
		return kc_err_set(err, -EACCES, "wrong user name or password");
	*readonly = ro;
	return 0;
}

static void token_digest(const char *token, char hex[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(hex, 65, d, sizeof(d));
}

int kc_ep_apikey_add(struct kc_ep *ep, int readonly, const char *note, char *token,
		     struct kc_err *err)
{
	char digest[65], prefix[9];
	int64_t r;

	if (note && !kc_ep_text_ok(note, KC_EP_NOTE_MAX))
		return kc_err_set(err, -EINVAL, "invalid note (control characters or too long)");
	kc_ep_random_hex(token, KC_EP_APIKEY_LEN / 2);
	token_digest(token, digest);
	snprintf(prefix, sizeof(prefix), "%.8s", token);
	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	r = kc_db_run(ep->db, err,
		      "INSERT INTO api_keys (token_sha256, prefix, readonly, note, created)"
		      " VALUES (?, ?, ?, ?, ?)",
		      "ttiti", digest, prefix, (int64_t) !!readonly, note ? note : "", ep->now());
	return kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
}

int kc_ep_apikey_auth(struct kc_ep *ep, const char *token, int *readonly, struct kc_err *err)
{
	char digest[65];
	struct kc_db_stmt *st;
	int r, found = 0;

	if (strlen(token) != KC_EP_APIKEY_LEN)
		return kc_err_set(err, -EACCES, "wrong api key");
	token_digest(token, digest);
	r = kc_db_begin(ep->db, 0, err);
	if (r < 0)
		return r;
	r = kc_db_prepare(ep->db, "SELECT readonly FROM api_keys WHERE token_sha256 = ?", &st, err);
	if (r == 0) {
		kc_db_bind_text(st, 1, digest);
		r = kc_db_step(st, err);
		if (r > 0) {
			found = 1;
			*readonly = (int)kc_db_col_int(st, 0);
		}
		kc_db_finalize(st);
	}
	r = kc_ep_txn_end(ep->db, r < 0 ? r : 0, err);
	if (r < 0)
		return r;
	return found ? 0 : kc_err_set(err, -EACCES, "wrong api key");
}

static void apikey_row(struct kc_db_stmt *st, void *rec)
{
	struct kc_ep_apikey *a = rec;

	a->id = kc_db_col_int(st, 0);
	KC_EP_COL(st, 1, a->prefix);
	a->readonly = (int)kc_db_col_int(st, 2);
	KC_EP_COL(st, 3, a->note);
	a->created = kc_db_col_int(st, 4);
}

int kc_ep_apikey_list(struct kc_ep *ep, struct kc_ep_apikey **out, size_t *n, struct kc_err *err)
{
	return kc_ep_list(ep,
			  "SELECT id, prefix, readonly, note, created FROM api_keys ORDER BY id",
			  sizeof(**out), apikey_row, (void **)out, n, err);
}

int kc_ep_apikey_delete(struct kc_ep *ep, int64_t id, struct kc_err *err)
{
	int64_t r = kc_db_begin(ep->db, 1, err);

	if (r < 0)
		return (int)r;
	r = kc_db_run(ep->db, err, "DELETE FROM api_keys WHERE id = ?", "i", id);
	if (r == 0)
		r = kc_err_set(err, -ENOENT, "no api key %lld", (long long)id);
	return kc_ep_txn_end(ep->db, (int)(r < 0 ? r : 0), err);
}
