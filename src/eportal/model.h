/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private helpers shared by the model files (model-*.c): the end of a
 * transaction and bounded copies of column text into the fixed-size fields
 * of the result structs. Not part of the library's interface (eportal.h).
 */
#ifndef KC_EPORTAL_MODEL_H
#define KC_EPORTAL_MODEL_H

#include <stdio.h>
#include <stdlib.h>

#include "eportal/db.h"
#include "eportal/eportal.h"

/* Commits when @r >= 0 and returns @r (or the commit's error); else rolls back. */
static inline int kc_ep_txn_end(struct kc_db *db, int r, struct kc_err *err)
{
	int c;

	if (r < 0) {
		kc_db_rollback(db);
		return r;
	}
	c = kc_db_commit(db, err);
	return c < 0 ? c : r;
}

/* Copies column @col (NULL as "") into a char array field. */
#define KC_EP_COL(st, col, field)                                                                  \
	snprintf((field), sizeof(field), "%s",                                                     \
		 kc_db_col_text((st), (col)) ? kc_db_col_text((st), (col)) : "")

/* Grows *@arr (of *@n elements, capacity *@cap) by one zeroed element; NULL on ENOMEM. */
static inline void *kc_ep_grow(void **arr, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		void *p = realloc(*arr, nc * elem);
		if (!p)
			return NULL;
		*arr = p;
		*cap = nc;
	}
	char *e = (char *)*arr + (*n)++ * elem;
	for (size_t i = 0; i < elem; i++)
		e[i] = 0;
	return e;
}

/*
 * Recomputes is_updated of every server from what its key's feed serves
 * now; inside the caller's write transaction, after any change of what a
 * feed serves for kernels or of a key.
 */
int kc_ep_servers_reassess(struct kc_ep *ep, struct kc_err *err);

/* Decodes the current row of a statement into the (zeroed) record rec. */
typedef void kc_ep_row_decoder(struct kc_db_stmt *st, void *rec);

/*
 * Steps the prepared (and bound) st to its end, decoding each row into a
 * new record of size bytes, and finalizes st. 0 with *out (caller frees)
 * holding *n records; on error nothing is kept.
 */
int kc_ep_rows(struct kc_db_stmt *st, size_t size, kc_ep_row_decoder *row, void **out, size_t *n,
	       struct kc_err *err);

/* kc_ep_rows() of a query without parameters, in a read transaction of its own. */
int kc_ep_list(struct kc_ep *ep, const char *sql, size_t size, kc_ep_row_decoder *row, void **out,
	       size_t *n, struct kc_err *err);

/* Feed id by name inside a transaction: 1 found, 0 not, < 0 error. */
int kc_ep_feed_id(struct kc_ep *ep, const char *name, int64_t *id, struct kc_err *err);

/* Whether @s is free of control characters and at most @max bytes. */
int kc_ep_text_ok(const char *s, size_t max);

#endif
