// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The back-end-neutral half of the storage abstraction: the handle and its
 * mutex, SQL translation (placeholders and the @ID@/@FOR_UPDATE@ tokens),
 * parameter storage, transactions and the run/query shorthands. The back
 * ends (db-sqlite.c, db-pg.c) only execute.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "eportal/db.h"

struct kc_db {
	const struct kc_db_ops *ops;
	void *conn; /* owned by the back end */
	pthread_mutex_t lock;
	int in_txn;
};

struct kc_db *kc_db_new_handle(const struct kc_db_ops *ops, void *conn)
{
	struct kc_db *db = calloc(1, sizeof(*db));

	if (!db)
		return NULL;
	db->ops = ops;
	db->conn = conn;
	pthread_mutex_init(&db->lock, NULL);
	return db;
}

void *kc_db_conn(struct kc_db *db)
{
	return db->conn;
}

int kc_db_open(const char *target, struct kc_db **out, struct kc_err *err)
{
	const struct kc_db_ops *ops;
	void *conn = NULL;
	int r;

	if (!strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11)) {
		ops = &kc_db_pg_ops;
		r = kc_db_pg_open(target, &conn, err);
	} else {
		ops = &kc_db_sqlite_ops;
		r = kc_db_sqlite_open(target, &conn, err);
	}
	if (r < 0)
		return r;
	*out = kc_db_new_handle(ops, conn);
	if (!*out) {
		ops->close(&(struct kc_db){.conn = conn});
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

void kc_db_close(struct kc_db *db)
{
	if (!db)
		return;
	if (db->in_txn)
		kc_db_rollback(db);
	db->ops->close(db);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

enum kc_db_kind kc_db_kind(const struct kc_db *db)
{
	return db->ops == &kc_db_pg_ops ? KC_DB_PG : KC_DB_SQLITE;
}

int kc_db_in_txn(const struct kc_db *db)
{
	return db->in_txn;
}

int kc_db_begin(struct kc_db *db, int write, struct kc_err *err)
{
	int r;

	pthread_mutex_lock(&db->lock);
	r = db->ops->exec(db, write ? db->ops->begin_write : db->ops->begin_read, err);
	if (r < 0) {
		pthread_mutex_unlock(&db->lock);
		return r;
	}
	db->in_txn = 1;
	return 0;
}

int kc_db_commit(struct kc_db *db, struct kc_err *err)
{
	int r;

	if (!db->in_txn)
		return kc_err_set(err, -EINVAL, "commit outside a transaction");
	r = db->ops->exec(db, "COMMIT", err);
	if (r < 0)
		(void)db->ops->exec(db, "ROLLBACK", NULL);
	db->in_txn = 0;
	pthread_mutex_unlock(&db->lock);
	return r;
}

void kc_db_rollback(struct kc_db *db)
{
	if (!db->in_txn)
		return;
	(void)db->ops->exec(db, "ROLLBACK", NULL);
	db->in_txn = 0;
	pthread_mutex_unlock(&db->lock);
}

/* Replaces @@ tokens and, for back ends that number parameters, '?' outside quotes. */
static char *translate(const struct kc_db_ops *ops, const char *sql)
{
	size_t cap = strlen(sql) * 2 + 64, n = 0;
	char *out = malloc(cap);
	int quote = 0, param = 0;

	if (!out)
		return NULL;
	for (const char *p = sql; *p; p++) {
		const char *rep = NULL;
		size_t skip = 0;
		char num[16];

		if (n + 64 >= cap) {
			char *o = realloc(out, cap *= 2);
			if (!o) {
				free(out);
				return NULL;
			}
			out = o;
		}
		if (*p == '\'')
			quote = !quote;
		if (!quote && !strncmp(p, "@ID@", 4)) {
			rep = ops->id_type;
			skip = 3;
		} else if (!quote && !strncmp(p, "@FOR_UPDATE@", 12)) {
			rep = ops->for_update;
			skip = 11;
		} else if (!quote && !strncmp(p, "@STRAGG@", 8)) {
			rep = ops->str_agg;
			skip = 7;
		} else if (!quote && *p == '?' && ops->dollar_params) {
			snprintf(num, sizeof(num), "$%d", ++param);
			rep = num;
		}
		if (rep) {
			size_t l = strlen(rep);
			memcpy(out + n, rep, l);
			n += l;
			p += skip;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return out;
}

int kc_db_exec(struct kc_db *db, const char *sql, struct kc_err *err)
{
	char *t = translate(db->ops, sql);
	int r;

	if (!t)
		return kc_err_set(err, -ENOMEM, "out of memory");
	r = db->ops->exec(db, t, err);
	free(t);
	return r;
}

int kc_db_prepare(struct kc_db *db, const char *sql, struct kc_db_stmt **out, struct kc_err *err)
{
	struct kc_db_stmt *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return kc_err_set(err, -ENOMEM, "out of memory");
	st->db = db;
	st->sql = translate(db->ops, sql);
	if (!st->sql) {
		free(st);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	r = db->ops->prepare(db, st->sql, st, err);
	if (r < 0) {
		free(st->sql);
		free(st);
		return r;
	}
	*out = st;
	return 0;
}

void kc_db_finalize(struct kc_db_stmt *st)
{
	if (!st)
		return;
	st->db->ops->finalize(st);
	for (int i = 0; i < st->nparams; i++)
		free(st->params[i].s);
	free(st->sql);
	free(st);
}

static struct kc_db_param *param(struct kc_db_stmt *st, int idx)
{
	if (idx < 1 || idx > (int)(sizeof(st->params) / sizeof(st->params[0])))
		return NULL;
	if (idx > st->nparams)
		st->nparams = idx;
	free(st->params[idx - 1].s);
	st->params[idx - 1].s = NULL;
	return &st->params[idx - 1];
}

int kc_db_bind_text(struct kc_db_stmt *st, int idx, const char *s)
{
	struct kc_db_param *p;

	if (!s)
		return kc_db_bind_null(st, idx);
	p = param(st, idx);
	if (!p)
		return -EINVAL;
	p->s = strdup(s);
	if (!p->s) {
		p->type = 0;
		return -ENOMEM;
	}
	p->type = 't';
	return 0;
}

int kc_db_bind_int(struct kc_db_stmt *st, int idx, int64_t v)
{
	struct kc_db_param *p = param(st, idx);

	if (!p)
		return -EINVAL;
	p->type = 'i';
	p->i = v;
	return 0;
}

int kc_db_bind_null(struct kc_db_stmt *st, int idx)
{
	struct kc_db_param *p = param(st, idx);

	if (!p)
		return -EINVAL;
	p->type = 0;
	return 0;
}

int kc_db_step(struct kc_db_stmt *st, struct kc_err *err)
{
	return st->db->ops->step(st, err);
}

const char *kc_db_col_text(struct kc_db_stmt *st, int col)
{
	return st->db->ops->col_text(st, col);
}

int64_t kc_db_col_int(struct kc_db_stmt *st, int col)
{
	const char *s = st->db->ops->col_text(st, col);

	return s ? strtoll(s, NULL, 10) : 0;
}

int kc_db_col_null(struct kc_db_stmt *st, int col)
{
	return st->db->ops->col_null(st, col);
}

int64_t kc_db_changes(struct kc_db_stmt *st)
{
	return st->db->ops->changes(st);
}

static int bind_va(struct kc_db_stmt *st, const char *types, va_list ap)
{
	int r = 0;

	for (int i = 0; types && types[i] && r == 0; i++) {
		switch (types[i]) {
		case 't':
			r = kc_db_bind_text(st, i + 1, va_arg(ap, const char *));
			break;
		case 'i':
			r = kc_db_bind_int(st, i + 1, va_arg(ap, int64_t));
			break;
		default:
			r = kc_db_bind_null(st, i + 1);
			break;
		}
	}
	return r;
}

/* A statement of sql with the parameters of types bound from ap. */
static int prepare_bound(struct kc_db *db, const char *sql, const char *types, va_list ap,
			 struct kc_db_stmt **st, struct kc_err *err)
{
	int r = kc_db_prepare(db, sql, st, err);

	if (r < 0)
		return r;
	r = bind_va(*st, types, ap);
	if (r < 0) {
		kc_db_finalize(*st);
		return kc_err_set(err, r, "cannot bind parameters");
	}
	return 0;
}

int64_t kc_db_run(struct kc_db *db, struct kc_err *err, const char *sql, const char *types, ...)
{
	struct kc_db_stmt *st;
	va_list ap;
	int r;

	va_start(ap, types);
	r = prepare_bound(db, sql, types, ap, &st, err);
	va_end(ap);
	if (r < 0)
		return r;
	while ((r = kc_db_step(st, err)) > 0)
		;
	int64_t ch = r < 0 ? r : kc_db_changes(st);
	kc_db_finalize(st);
	return ch;
}

int kc_db_query_int(struct kc_db *db, int64_t *v, struct kc_err *err, const char *sql,
		    const char *types, ...)
{
	struct kc_db_stmt *st;
	va_list ap;
	int r;

	va_start(ap, types);
	r = prepare_bound(db, sql, types, ap, &st, err);
	va_end(ap);
	if (r < 0)
		return r;
	r = kc_db_step(st, err);
	if (r > 0)
		*v = kc_db_col_int(st, 0);
	kc_db_finalize(st);
	return r;
}
