// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * PostgreSQL back end of db.h through libpq: a statement is executed with
 * PQexecParams (text parameters) on its first step and its rows are then read
 * from the result. Several eportal replicas may share one database; the model
 * code serialises what must be serialised with row locks (@FOR_UPDATE@) and
 * unique constraints.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "eportal/db.h"

static int map_result(PGconn *c, PGresult *res, struct kc_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c);
	char line[400];
	int code = -EIO;
	size_t n;

	snprintf(line, sizeof(line), "%s", msg && *msg ? msg : "unknown error");
	n = strcspn(line, "\n");
	line[n] = '\0';
	if (state) {
		if (!strcmp(state, "23505"))
			code = -EEXIST;
		else if (!strncmp(state, "23", 2))
			code = -EINVAL;
		else if (!strcmp(state, "40001") || !strcmp(state, "40P01") ||
			 !strcmp(state, "55P03"))
			code = -EBUSY;
		else if (!strncmp(state, "08", 2))
			code = -ECONNRESET;
	} else if (PQstatus(c) != CONNECTION_OK) {
		code = -ECONNRESET;
	}
	return kc_err_set(err, code, "postgresql: %s", line);
}

int kc_db_pg_open(const char *url, void **conn, struct kc_err *err)
{
	PGconn *c = PQconnectdb(url);
	PGresult *res;

	if (!c)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (PQstatus(c) != CONNECTION_OK) {
		char line[400];
		snprintf(line, sizeof(line), "%s", PQerrorMessage(c));
		line[strcspn(line, "\n")] = '\0';
		PQfinish(c);
		return kc_err_set(err, -ECONNREFUSED, "cannot connect to postgresql: %s", line);
	}
	/* notices (e.g. "relation already exists, skipping") are not errors here */
	res = PQexec(c, "SET client_min_messages TO warning");
	PQclear(res);
	*conn = c;
	return 0;
}

static int pg_exec(struct kc_db *db, const char *sql, struct kc_err *err)
{
	PGconn *c = kc_db_conn(db);
	PGresult *res;
	int r = 0;

	/*
	 * A connection lost between transactions (database restart, failover)
	 * is re-established when the next transaction begins; inside a
	 * transaction the loss is an error and the caller's transaction fails.
	 */
	if (PQstatus(c) != CONNECTION_OK && !strncmp(sql, "BEGIN", 5))
		PQreset(c);
	res = PQexec(c, sql);

	if (!res ||
	    (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK))
		r = map_result(c, res, err);
	PQclear(res);
	return r;
}

static int pg_prepare(struct kc_db *db, const char *sql, struct kc_db_stmt *st, struct kc_err *err)
{
	(void)db;
	(void)sql;
	(void)err;
	st->impl = NULL;
	st->row = -1;
	return 0;
}

static int pg_step(struct kc_db_stmt *st, struct kc_err *err)
{
	PGconn *c = kc_db_conn(st->db);
	PGresult *res;

	if (!st->started) {
		const char *vals[32];
		char nums[32][24];

		st->started = 1;
		for (int i = 0; i < st->nparams; i++) {
			const struct kc_db_param *p = &st->params[i];
			if (p->type == 't') {
				vals[i] = p->s;
			} else if (p->type == 'i') {
				snprintf(nums[i], sizeof(nums[i]), "%" PRId64, p->i);
				vals[i] = nums[i];
			} else {
				vals[i] = NULL;
			}
		}
		res = PQexecParams(c, st->sql, st->nparams, NULL, vals, NULL, NULL, 0);
		if (!res || (PQresultStatus(res) != PGRES_COMMAND_OK &&
			     PQresultStatus(res) != PGRES_TUPLES_OK)) {
			int r = map_result(c, res, err);
			PQclear(res);
			return r;
		}
		st->impl = res;
		st->changes = strtoll(PQcmdTuples(res), NULL, 10);
		st->row = -1;
	}
	res = st->impl;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return 0;
	st->row++;
	return st->row < PQntuples(res) ? 1 : 0;
}

static const char *pg_col_text(struct kc_db_stmt *st, int col)
{
	PGresult *res = st->impl;

	if (!res || st->row < 0 || st->row >= PQntuples(res) || col >= PQnfields(res) ||
	    PQgetisnull(res, st->row, col))
		return NULL;
	return PQgetvalue(res, st->row, col);
}

static int pg_col_null(struct kc_db_stmt *st, int col)
{
	return pg_col_text(st, col) == NULL;
}

static int64_t pg_changes(struct kc_db_stmt *st)
{
	return st->changes;
}

static void pg_finalize(struct kc_db_stmt *st)
{
	PQclear(st->impl);
}

static void pg_close(struct kc_db *db)
{
	PQfinish(kc_db_conn(db));
}

const struct kc_db_ops kc_db_pg_ops = {
    .prepare = pg_prepare,
    .step = pg_step,
    .col_text = pg_col_text,
    .col_null = pg_col_null,
    .changes = pg_changes,
    .finalize = pg_finalize,
    .exec = pg_exec,
    .close = pg_close,
    .begin_write = "BEGIN",
    .begin_read = "BEGIN READ ONLY",
    .id_type = "BIGSERIAL PRIMARY KEY",
    .for_update = " FOR UPDATE",
    .str_agg = "string_agg",
    .dollar_params = 1,
};
