/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The patch server's HTTP front (libmicrohttpd): agent endpoints, the static
 * repository (signed metadata and blobs, served from files with sendfile),
 * the admin REST API and metrics. docs/eportal-api.md lists every endpoint.
 */
#ifndef KC_EPORTAL_HTTP_H
#define KC_EPORTAL_HTTP_H

#include <stddef.h>

#include "eportal/eportal.h"

struct kc_httpd_opts {
	const char *listen;	     /* "HOST:PORT", "[V6]:PORT" */
	const char *public_url;	     /* base URL agents use; NULL: http://LISTEN */
	unsigned threads;	     /* worker threads, default 4 */
	unsigned conn_limit;	     /* open connections, default 1024 */
	unsigned per_ip_limit;	     /* per client address, default 128; KC_HTTPD_UNLIMITED: none */
	unsigned timeout;	     /* idle seconds per connection, default 15 */
	unsigned head_timeout;	     /* seconds to send a request's head (slowloris), default 10 */
	unsigned auth_threads;	     /* password-hash threads, default 1 */
	unsigned auth_queue;	     /* password checks waiting at most, default 16 */
	unsigned login_limit;	     /* failed logins per address and minute, default 10 */
	unsigned login_limit_global; /* failed logins per minute in all, default 100 */
	size_t max_body;	     /* JSON bodies, default 64 KiB */
	size_t max_upload;	     /* patchset uploads, default 64 MiB */
	size_t max_report;	     /* kcarectl --doctor reports, default 16 MiB */
	unsigned report_quota;	     /* doctor reports per address and day, default 100 */
	int64_t inactive_after;	     /* status: a server is inactive after this, default 1 day */
};

/* For per_ip_limit, login_limit and login_limit_global: no limit (0 means the default). */
#define KC_HTTPD_UNLIMITED (~0u)

struct kc_httpd;

/* Starts serving @ep (borrowed; must outlive the server). Caller owns *out. */
int kc_httpd_start(struct kc_ep *ep, const struct kc_httpd_opts *o, struct kc_httpd **out,
		   struct kc_err *err);
/* Stops accepting, finishes the requests in progress, frees. */
void kc_httpd_stop(struct kc_httpd *h);
/* The port actually bound (for "HOST:0"). */
unsigned kc_httpd_port(const struct kc_httpd *h);

#endif
