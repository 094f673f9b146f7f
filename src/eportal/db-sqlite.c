// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * SQLite back end of db.h: one connection to DIR/eportal.db in WAL mode with
 * synchronous=FULL, so a COMMIT that returned is on disk (acknowledged means
 * committed). A busy timeout lets the CLI and the daemon share the file.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "eportal/db.h"

#define BUSY_TIMEOUT_MS 10000

static int map_rc(sqlite3 *h, int rc, struct kc_err *err)
{
	int code;

	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		code = (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			   ? -EEXIST
			   : -EINVAL;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = -EBUSY;
		break;
	case SQLITE_NOMEM:
		code = -ENOMEM;
		break;
	case SQLITE_FULL:
		code = -ENOSPC;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		code = -EACCES;
		break;
	default:
		code = -EIO;
	}
	return kc_err_set(err, code, "sqlite: %s", h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
}

int kc_db_sqlite_open(const char *path, void **conn, struct kc_err *err)
{
	sqlite3 *h = NULL;
	char *msg = NULL;
	int rc;

	rc = sqlite3_open_v2(
	    path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		kc_err_set(err, -EIO, "cannot open database '%s': %s", path,
			   h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close(h);
		return err ? err->code : -EIO;
	}
	sqlite3_busy_timeout(h, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(h, 1);
	rc = sqlite3_exec(h,
			  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			  "PRAGMA foreign_keys=ON;",
			  NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		kc_err_set(err, -EIO, "cannot configure database '%s': %s", path,
			   msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_close(h);
		return err ? err->code : -EIO;
	}
	*conn = h;
	return 0;
}

static int sq_exec(struct kc_db *db, const char *sql, struct kc_err *err)
{
	sqlite3 *h = kc_db_conn(db);
	int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : map_rc(h, sqlite3_extended_errcode(h), err);
}

static int sq_prepare(struct kc_db *db, const char *sql, struct kc_db_stmt *st, struct kc_err *err)
{
	sqlite3 *h = kc_db_conn(db);
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(h, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return map_rc(h, rc, err);
	st->impl = s;
	return 0;
}

static int sq_step(struct kc_db_stmt *st, struct kc_err *err)
{
	sqlite3 *h = kc_db_conn(st->db);
	sqlite3_stmt *s = st->impl;
	int rc;

	if (!st->started) {
		st->started = 1;
		for (int i = 0; i < st->nparams; i++) {
			const struct kc_db_param *p = &st->params[i];
			if (p->type == 't')
				rc = sqlite3_bind_text(s, i + 1, p->s, -1, SQLITE_STATIC);
			else if (p->type == 'i')
				rc = sqlite3_bind_int64(s, i + 1, p->i);
			else
				rc = sqlite3_bind_null(s, i + 1);
			if (rc != SQLITE_OK)
				return map_rc(h, rc, err);
		}
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE) {
		st->changes = sqlite3_changes(h);
		return 0;
	}
	return map_rc(h, sqlite3_extended_errcode(h), err);
}

static const char *sq_col_text(struct kc_db_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st->impl, col);
}

static int sq_col_null(struct kc_db_stmt *st, int col)
{
	return sqlite3_column_type(st->impl, col) == SQLITE_NULL;
}

static int64_t sq_changes(struct kc_db_stmt *st)
{
	return st->changes;
}

static void sq_finalize(struct kc_db_stmt *st)
{
	sqlite3_finalize(st->impl);
}

static void sq_close(struct kc_db *db)
{
	sqlite3_close(kc_db_conn(db));
}

const struct kc_db_ops kc_db_sqlite_ops = {
    .prepare = sq_prepare,
    .step = sq_step,
    .col_text = sq_col_text,
    .col_null = sq_col_null,
    .changes = sq_changes,
    .finalize = sq_finalize,
    .exec = sq_exec,
    .close = sq_close,
    .begin_write = "BEGIN IMMEDIATE",
    .begin_read = "BEGIN",
    .id_type = "INTEGER PRIMARY KEY",
    .for_update = "",
    .str_agg = "group_concat",
    .dollar_params = 0,
};
