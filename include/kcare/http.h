/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's HTTP client (libcurl): GET with a size limit, POST of a body,
 * one connection reused across calls, proxies from the config or the
 * environment, bounded timeouts. Also the fetch callback that the trust
 * client (trust.h) reads a repository through.
 */
#ifndef KCARE_HTTP_H
#define KCARE_HTTP_H

#include <stddef.h>

#include "kcare/err.h"

struct kc_http_opts {
	/*
	 * Proxies from the config (HTTPS_PROXY / HTTP_PROXY keys); NULL or ""
	 * means: take them from the environment, https_proxy/HTTPS_PROXY and
	 * http_proxy/HTTP_PROXY in either case (lowercase wins when both are
	 * set). The proxy for a URL is chosen by its scheme. no_proxy/NO_PROXY
	 * from the environment is honoured.
	 */
	const char *https_proxy;
	const char *http_proxy;
	long connect_timeout; /* seconds; 0: 10 */
	long timeout;	      /* seconds for a whole request; 0: 120 */
	/* abort a transfer slower than this many bytes/s for 30 s; 0: 100 */
	long low_speed_limit;
	const char *user_agent; /* NULL: "kcarectl/<version>" */
	/* Set asynchronously to cancel the transfer in progress (-EINTR). May be NULL. */
	const volatile int *cancel;
};

struct kc_http;

int kc_http_new(const struct kc_http_opts *opts, struct kc_http **out, struct kc_err *err);
void kc_http_free(struct kc_http *h);

/*
 * Response of one request. @body is malloc'd and NUL-terminated (len
 * excludes the NUL); the caller frees it with kc_http_resp_clear().
 */
struct kc_http_resp {
	long status; /* HTTP status, 0 if none was received */
	char *body;
	size_t len;
	char content_type[128]; /* "" if none */
};
void kc_http_resp_clear(struct kc_http_resp *r);

/*
 * GET @url. Any HTTP status is a success of this call (the caller looks at
 * resp->status); failures are transport ones: -ECONNREFUSED / -EHOSTUNREACH
 * / -ETIMEDOUT / -ECONNRESET / -EPROTO (TLS or HTTP errors) with a message
 * naming the URL (and the proxy, if one was used); -EFBIG if the body is
 * longer than @max_len (the transfer stops as soon as it goes over: a
 * declared Content-Length over it is refused before the body is read);
 * -EINVAL for a URL that is not http:// or https://; -EINTR on cancel.
 */
int kc_http_get(struct kc_http *h, const char *url, size_t max_len, struct kc_http_resp *resp,
		struct kc_err *err);

/* POST @body (@len bytes, @content_type) to @url; otherwise as kc_http_get(). */
int kc_http_post(struct kc_http *h, const char *url, const char *content_type, const void *body,
		 size_t len, size_t max_len, struct kc_http_resp *resp, struct kc_err *err);

/*
 * The trust client's fetch callback (kc_trust_fetch_fn) over a repository
 * URL: @ctx is a struct kc_http_repo. GETs base_url + name; 200 gives the
 * body, 404 gives -ENOENT, another status -EPROTO ("http 503 from URL").
 */
struct kc_http_repo {
	struct kc_http *http;
	const char *base_url; /* ends with '/' */
};
int kc_http_repo_fetch(void *ctx, const char *name, size_t max_len, unsigned char **buf,
		       size_t *len, struct kc_err *err);

/* The proxy a request to @url would use with @opts ("" if none), for messages and --doctor. */
const char *kc_http_proxy_for(const struct kc_http_opts *opts, const char *url);

#endif
