/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Diagnostic reports that agents upload (kcarectl --doctor): stored as
 * files, not in the database, because they are opaque blobs of up to
 * 16 MiB that support reads and deletes: DIR/doctor/<id>.tar.gz plus a
 * small sidecar DIR/doctor/<id>.json {id, server_id, ip, received, size}.
 * Ids are 32 random hex characters. Used by the HTTP routes
 * (route-doctor.c) and kc.eportal doctor.
 */
#ifndef KC_EPORTAL_DOCTOR_H
#define KC_EPORTAL_DOCTOR_H

#include <stddef.h>
#include <stdint.h>

#include "eportal/eportal.h"

#define KC_EP_REPORT_ID_LEN 32
#define KC_EP_REPORT_MAX    (16u * 1024 * 1024) /* default body limit (eportal --max-report) */
#define KC_EP_REPORTS_DAY   100			/* default per address and day */

struct kc_ep_report {
	char id[KC_EP_REPORT_ID_LEN + 1];
	char server_id[65]; /* "" when the agent did not say */
	char ip[64];	    /* "" when unknown */
	int64_t received;   /* unix seconds */
	int64_t size;	    /* bytes of the .tar.gz */
};

/*
 * Stores one report atomically (temp file, fsync, rename; sidecar first,
 * so a listed report always has its data). @buf must start with the gzip
 * magic (-EBADMSG otherwise). @server_id (may be NULL) is [A-Za-z0-9_-],
 * at most 64 (-EINVAL). -EAGAIN when @per_day reports (0: no limit) were
 * already received in the last 24 hours from @ip or for @server_id.
 */
int kc_ep_report_store(struct kc_ep *ep, const void *buf, size_t len, const char *server_id,
		       const char *ip, unsigned per_day, struct kc_ep_report *out,
		       struct kc_err *err);

/* Every stored report, oldest first. Caller frees *@out. */
int kc_ep_report_list(struct kc_ep *ep, struct kc_ep_report **out, size_t *n, struct kc_err *err);

/* One report and the path of its .tar.gz (@path of @size bytes). -ENOENT. */
int kc_ep_report_get(struct kc_ep *ep, const char *id, struct kc_ep_report *out, char *path,
		     size_t size, struct kc_err *err);

/* Deletes a report and its sidecar. -ENOENT. */
int kc_ep_report_delete(struct kc_ep *ep, const char *id, struct kc_err *err);

#endif
