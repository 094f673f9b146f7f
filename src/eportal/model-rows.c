// SPDX-License-Identifier: GPL-2.0-or-later
/* Query results into arrays of model records, for every listing of the model. */
#include <errno.h>

#include "eportal/model.h"

int kc_ep_rows(struct kc_db_stmt *st, size_t size, kc_ep_row_decoder *row, void **out, size_t *n,
	       struct kc_err *err)
{
	void *arr = NULL;
	size_t cnt = 0, cap = 0;
	int r;

	while ((r = kc_db_step(st, err)) > 0) {
		void *rec = kc_ep_grow(&arr, &cnt, &cap, size);
		if (!rec) {
			r = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		row(st, rec);
	}
	kc_db_finalize(st);
	if (r < 0) {
		free(arr);
		return r;
	}
	*out = arr;
	*n = cnt;
	return 0;
}

int kc_ep_list(struct kc_ep *ep, const char *sql, size_t size, kc_ep_row_decoder *row, void **out,
	       size_t *n, struct kc_err *err)
{
	struct kc_db_stmt *st;
	void *arr = NULL;
	size_t cnt = 0;
	int r = kc_db_begin(ep->db, 0, err);

	if (r < 0)
		return r;
	r = kc_db_prepare(ep->db, sql, &st, err);
	if (r == 0)
		r = kc_ep_rows(st, size, row, &arr, &cnt, err);
	r = kc_ep_txn_end(ep->db, r, err);
	if (r < 0) {
		free(arr);
		return r;
	}
	*out = arr;
	*n = cnt;
	return 0;
}
