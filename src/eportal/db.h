/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The patch server's storage abstraction: one connection, prepared statements
 * with '?' placeholders, rows read column by column, and transactions. Two
 * back ends speak the same small SQL subset: SQLite (default, a file) and
 * PostgreSQL (libpq, "postgresql://..." URLs). SQL given here may use two
 * tokens that each back end rewrites: @ID@ (an auto-increment primary key
 * column type), @FOR_UPDATE@ (row lock in a SELECT; empty on SQLite, whose
 * write transactions lock the whole file) and @STRAGG@ (the name of the
 * aggregate that joins text: @STRAGG@(col, ',')).
 * Not here: the schema (migrate.c) and what the tables mean (model-*.c).
 *
 * Concurrency: a kc_db is shared by the server's threads. kc_db_begin() takes
 * the handle's mutex and kc_db_commit()/kc_db_rollback() release it, so every
 * statement must run inside a transaction, one at a time per handle.
 */
#ifndef KC_EPORTAL_DB_H
#define KC_EPORTAL_DB_H

#include <stdint.h>

#include "kcare/err.h"

struct kc_db;
struct kc_db_stmt;

enum kc_db_kind {
	KC_DB_SQLITE,
	KC_DB_PG,
};

/*
 * Opens @target: a "postgresql://" or "postgres://" URL (libpq), or the path
 * of an SQLite file, created if missing (WAL, synchronous=FULL, foreign keys,
 * busy timeout). Caller owns *out; close with kc_db_close().
 */
int kc_db_open(const char *target, struct kc_db **out, struct kc_err *err);
void kc_db_close(struct kc_db *db);
enum kc_db_kind kc_db_kind(const struct kc_db *db);

/*
 * Transactions. @write: the transaction will write (SQLite takes the write
 * lock at once, so that two writers never deadlock on an upgrade).
 * kc_db_commit() returns 0 only once the data is durable. kc_db_rollback()
 * never fails from the caller's point of view and is a no-op outside a
 * transaction, so an unwind path may call it unconditionally.
 */
int kc_db_begin(struct kc_db *db, int write, struct kc_err *err);
int kc_db_commit(struct kc_db *db, struct kc_err *err);
void kc_db_rollback(struct kc_db *db);
int kc_db_in_txn(const struct kc_db *db);

/* Runs one or more statements without parameters or results (DDL). */
int kc_db_exec(struct kc_db *db, const char *sql, struct kc_err *err);

/* Caller owns *out; free with kc_db_finalize(). Placeholders are '?'. */
int kc_db_prepare(struct kc_db *db, const char *sql, struct kc_db_stmt **out, struct kc_err *err);
void kc_db_finalize(struct kc_db_stmt *st);

/* Parameters are numbered from 1, in order of the '?' in the SQL. Text is copied. */
int kc_db_bind_text(struct kc_db_stmt *st, int idx, const char *s);
int kc_db_bind_int(struct kc_db_stmt *st, int idx, int64_t v);
int kc_db_bind_null(struct kc_db_stmt *st, int idx);

/*
 * Runs the statement (first call) or moves to the next row. Returns 1 with a
 * row, 0 when done, -EEXIST for a unique-constraint violation, -EBUSY when
 * the database stays locked, another negative errno otherwise.
 */
int kc_db_step(struct kc_db_stmt *st, struct kc_err *err);

/* Columns of the current row from 0. Text: NULL for SQL NULL; borrowed until the next step. */
const char *kc_db_col_text(struct kc_db_stmt *st, int col);
int64_t kc_db_col_int(struct kc_db_stmt *st, int col);
int kc_db_col_null(struct kc_db_stmt *st, int col);

/* Rows changed by the last INSERT/UPDATE/DELETE run through @st. */
int64_t kc_db_changes(struct kc_db_stmt *st);

/*
 * Shorthands: prepare, bind the arguments described by @types ("t" text,
 * "i" int64, "n" null ... one char per '?'), step to completion.
 * kc_db_run() returns rows changed (>= 0) or a negative errno.
 * kc_db_query_int() returns 1 and *v for the first column of the first row,
 * 0 when there is no row.
 */
int64_t kc_db_run(struct kc_db *db, struct kc_err *err, const char *sql, const char *types, ...);
int kc_db_query_int(struct kc_db *db, int64_t *v, struct kc_err *err, const char *sql,
		    const char *types, ...);

/* Internal to the back ends: the operations table and the common handle. */
struct kc_db_param {
	int type; /* 0 unset/null, 'i', 't' */
	int64_t i;
	char *s; /* owned */
};

struct kc_db_ops {
	int (*prepare)(struct kc_db *db, const char *sql, struct kc_db_stmt *st,
		       struct kc_err *err);
	int (*step)(struct kc_db_stmt *st, struct kc_err *err);
	const char *(*col_text)(struct kc_db_stmt *st, int col);
	int (*col_null)(struct kc_db_stmt *st, int col);
	int64_t (*changes)(struct kc_db_stmt *st);
	void (*finalize)(struct kc_db_stmt *st);
	int (*exec)(struct kc_db *db, const char *sql, struct kc_err *err);
	void (*close)(struct kc_db *db);
	const char *begin_write, *begin_read;
	const char *id_type, *for_update;
	const char *str_agg; /* aggregate joining text with a separator: NAME(x, ',') */
	int dollar_params;   /* '?' becomes $1, $2... */
};

struct kc_db_stmt {
	struct kc_db *db;	       /* borrowed */
	struct kc_db_param params[32]; /* by index - 1 */
	int nparams;		       /* highest bound index */
	int started;
	void *impl; /* back end's statement or result, owned */
	int row;    /* back end cursor */
	int64_t changes;
	char *sql; /* translated SQL, owned */
};

extern const struct kc_db_ops kc_db_sqlite_ops;
extern const struct kc_db_ops kc_db_pg_ops;
int kc_db_sqlite_open(const char *path, void **conn, struct kc_err *err);
int kc_db_pg_open(const char *url, void **conn, struct kc_err *err);

struct kc_db *kc_db_new_handle(const struct kc_db_ops *ops, void *conn);
void *kc_db_conn(struct kc_db *db);

#endif
