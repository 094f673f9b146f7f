// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's HTTP client (kcare/http.h) over one libcurl easy handle, so
 * that keep-alive connections and TLS sessions are reused across calls.
 * Owns: the choice of proxy (config first, then the environment, minus
 * no_proxy), the bounds every transfer runs under (size, time, speed,
 * protocols, redirects), the mapping of curl failures to errnos with a
 * one-line message, and the repository fetch callback of the trust client.
 * Not here: what is fetched, and whether it is trusted (trust-client.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "kcare/http.h"

#ifndef KC_VERSION
#define KC_VERSION "0"
#endif

/* the seconds a transfer may stay under low_speed_limit before it is aborted */
#define HTTP_LOW_SPEED_TIME 30L
#define HTTP_MAX_REDIRS	    5L

struct kc_http {
	CURL *curl;
	char *https_proxy; /* owned; NULL: from the environment */
	char *http_proxy;  /* owned; NULL: from the environment */
	long connect_timeout, timeout, low_speed_limit;
	char *user_agent;	    /* owned */
	const volatile int *cancel; /* borrowed from the caller's opts */
	char errbuf[CURL_ERROR_SIZE];
};

/* The body being received, bounded by @max. */
struct http_sink {
	char *buf;
	size_t len, cap, max;
	bool too_big, nomem;
};

static bool http_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return !strncasecmp(url, scheme, n) && !strncmp(url + n, "://", 3);
}

/* Copies the host of @url (no brackets, no port, lowercase) to @host. */
static void http_url_host(const char *url, char *host, size_t sz)
{
	const char *p = strstr(url, "://"), *e, *at;
	size_t n;

	host[0] = '\0';
	if (!p)
		return;
	p += 3;
	e = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(e - p));
	while (at) {
		p = at + 1;
		at = memchr(p, '@', (size_t)(e - p));
	}
	if (*p == '[') {
		p++;
		const char *rb = memchr(p, ']', (size_t)(e - p));
		e = rb ? rb : e;
	} else {
		const char *colon = memchr(p, ':', (size_t)(e - p));
		e = colon ? colon : e;
	}
	n = (size_t)(e - p);
	if (n >= sz)
		n = sz - 1;
	for (size_t i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)p[i]);
	host[n] = '\0';
}

/*
 * no_proxy: comma- or blank-separated names; "*" matches every host, an
 * entry matches the host itself and (with or without a leading dot) every
 * name under it. Ports in entries are ignored.
 */
static bool http_no_proxy(const char *host)
{
	const char *np = getenv("no_proxy");
	size_t hl = strlen(host);

	if (!np || !*np)
		np = getenv("NO_PROXY");
	if (!np || !*host)
		return false;
	for (const char *p = np; *p;) {
		p += strspn(p, ", \t");
		size_t n = strcspn(p, ", \t");
		const char *ent = p;
		p += n;
		if (!n)
			continue;
		if (n == 1 && *ent == '*')
			return true;
		if (*ent == '.') {
			ent++;
			n--;
		}
		/* "host:port", "[v6]:port": the port is not compared; a bare v6 address has colons
		 */
		const char *colon = memchr(ent, ':', n);
		const char *rb = *ent == '[' ? memchr(ent, ']', n) : NULL;
		if (rb) {
			ent++;
			n = (size_t)(rb - ent);
		} else if (colon && !memchr(colon + 1, ':', n - (size_t)(colon + 1 - ent))) {
			n = (size_t)(colon - ent);
		}
		if (!n || n > hl)
			continue;
		if (strncasecmp(host + hl - n, ent, n))
			continue;
		if (hl == n || host[hl - n - 1] == '.')
			return true;
	}
	return false;
}

static const char *http_env(const char *lower, const char *upper)
{
	const char *v = getenv(lower);

	if (v && *v)
		return v;
	v = getenv(upper);
	return v && *v ? v : "";
}

const char *kc_http_proxy_for(const struct kc_http_opts *opts, const char *url)
{
	const char *p;
	char host[256];

	if (!url)
		return "";
	if (http_scheme(url, "https")) {
		p = opts && opts->https_proxy && *opts->https_proxy
			? opts->https_proxy
			: http_env("https_proxy", "HTTPS_PROXY");
	} else if (http_scheme(url, "http")) {
		p = opts && opts->http_proxy && *opts->http_proxy
			? opts->http_proxy
			: http_env("http_proxy", "HTTP_PROXY");
	} else {
		return "";
	}
	if (!*p)
		return "";
	http_url_host(url, host, sizeof(host));
	return http_no_proxy(host) ? "" : p;
}

static char *http_dup(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

int kc_http_new(const struct kc_http_opts *opts, struct kc_http **out, struct kc_err *err)
{
	static const struct kc_http_opts none;
	struct kc_http *h;

	KC_BUG_ON(!out);
	*out = NULL;
	if (!opts)
		opts = &none;
	h = calloc(1, sizeof(*h));
	if (!h)
		return kc_err_set(err, -ENOMEM, "out of memory");
	/* curl_easy_init() also runs curl_global_init() the first time */
	h->curl = curl_easy_init();
	h->https_proxy = http_dup(opts->https_proxy);
	h->http_proxy = http_dup(opts->http_proxy);
	h->user_agent =
	    opts->user_agent ? strdup(opts->user_agent) : strdup("kcarectl/" KC_VERSION);
	if (!h->curl || (opts->https_proxy && *opts->https_proxy && !h->https_proxy) ||
	    (opts->http_proxy && *opts->http_proxy && !h->http_proxy) || !h->user_agent) {
		kc_http_free(h);
		return kc_err_set(err, -ENOMEM, "cannot set up the http client: out of memory");
	}
	h->connect_timeout = opts->connect_timeout > 0 ? opts->connect_timeout : 10;
	h->timeout = opts->timeout > 0 ? opts->timeout : 120;
	h->low_speed_limit = opts->low_speed_limit > 0 ? opts->low_speed_limit : 100;
	h->cancel = opts->cancel;
	*out = h;
	return 0;
}

void kc_http_free(struct kc_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->https_proxy);
	free(h->http_proxy);
	free(h->user_agent);
	free(h);
}

void kc_http_resp_clear(struct kc_http_resp *r)
{
	if (!r)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static size_t http_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct http_sink *s = ctx;
	size_t n = size * nmemb;

	if (n > s->max - s->len) {
		/* returning short makes curl stop the transfer with CURLE_WRITE_ERROR */
		s->too_big = true;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		size_t ncap = s->cap ? s->cap : 4096;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		char *nb = realloc(s->buf, ncap);
		if (!nb) {
			s->nomem = true;
			return 0;
		}
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	return n;
}

static int http_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			 curl_off_t ulnow)
{
	const struct kc_http *h = ctx;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return h->cancel && *h->cancel;
}

/*
 * Copies @s to @out with any "user:password@" after the scheme masked, so
 * that credentials in a proxy or repository URL never reach a log.
 */
static const char *http_redact(const char *s, char *out, size_t sz)
{
	const char *p = strstr(s, "://"), *at;

	if (p) {
		p += 3;
		size_t auth = strcspn(p, "/?#");
		at = memchr(p, '@', auth);
		if (at) {
			snprintf(out, sz, "%.*s***%s", (int)(p - s), s, at);
			return out;
		}
	}
	snprintf(out, sz, "%s", s);
	return out;
}

/* The errno for a failed transfer; @os is the socket errno curl saw, if any. */
static int http_errno(CURLcode cc, long os, const struct http_sink *s)
{
	switch (cc) {
	case CURLE_WRITE_ERROR:
		if (s->too_big)
			return -EFBIG;
		return s->nomem ? -ENOMEM : -EIO;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_ABORTED_BY_CALLBACK:
		return -EINTR;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		if (os == ETIMEDOUT)
			return -ETIMEDOUT;
		if (os == EHOSTUNREACH || os == ENETUNREACH || os == EADDRNOTAVAIL)
			return -EHOSTUNREACH;
		return -ECONNREFUSED;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	default:
		/* TLS, protocol, redirect and every other failure */
		return -EPROTO;
	}
}

static const char *http_errno_text(int rc)
{
	switch (rc) {
	case -EFBIG:
		return "response too large";
	case -EINTR:
		return "cancelled";
	case -ETIMEDOUT:
		return "timed out";
	case -EHOSTUNREACH:
		return "host unreachable";
	case -ECONNREFUSED:
		return "connection refused";
	case -ECONNRESET:
		return "connection reset";
	case -ENOMEM:
		return "out of memory";
	default:
		return "protocol error";
	}
}

/*
 * One request: @post NULL for GET. The handle is reset first (its
 * connections and TLS sessions survive a reset) so that no option leaks
 * from one call into the next.
 */
static int http_do(struct kc_http *h, const char *method, const char *url, const char *content_type,
		   const void *body, size_t blen, size_t max_len, struct kc_http_resp *resp,
		   struct kc_err *err)
{
	struct kc_http_opts o = {.https_proxy = h->https_proxy, .http_proxy = h->http_proxy};
	struct http_sink sink = {.max = max_len};
	struct curl_slist *hdrs = NULL, *t;
	char *ctype = NULL, rurl[256], rproxy[256];
	const char *proxy;
	CURLcode cc;
	long os = 0;
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	if (!http_scheme(url, "http") && !http_scheme(url, "https"))
		return kc_err_set(err, -EINVAL, "cannot %s '%s': not an http or https url", method,
				  http_redact(url, rurl, sizeof(rurl)));
	if (h->cancel && *h->cancel)
		return kc_err_set(err, -EINTR, "%s '%s': cancelled", method,
				  http_redact(url, rurl, sizeof(rurl)));
	proxy = kc_http_proxy_for(&o, url);

	CURL *c = h->curl;
	curl_easy_reset(c);
	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, HTTP_MAX_REDIRS);
	/* the proxy is chosen here, never by curl from the environment: "" means none */
	curl_easy_setopt(c, CURLOPT_PROXY, proxy);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, h->timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, h->low_speed_limit);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, HTTP_LOW_SPEED_TIME);
	curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
	/* a declared Content-Length over the limit is refused before the body */
	if (max_len < (size_t)INT64_MAX)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_len);
	if (body || content_type) {
		if (content_type && asprintf(&ctype, "Content-Type: %s", content_type) < 0)
			ctype = NULL;
		/* "Expect:" turns off the 100-continue round trip on large bodies */
		if ((content_type && !ctype) || !(t = curl_slist_append(hdrs, "Expect:"))) {
			rc = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		hdrs = t;
		if (ctype) {
			if (!(t = curl_slist_append(hdrs, ctype))) {
				rc = kc_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			hdrs = t;
		}
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		/* a redirected POST stays a POST */
		curl_easy_setopt(c, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
	}

	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (cc != CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os);
		rc = http_errno(cc, os, &sink);
		const char *detail = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);
		if (*proxy)
			kc_err_set(err, rc, "cannot %s '%s' through proxy '%s': %s (%s)", method,
				   http_redact(url, rurl, sizeof(rurl)),
				   http_redact(proxy, rproxy, sizeof(rproxy)), http_errno_text(rc),
				   detail);
		else
			kc_err_set(err, rc, "cannot %s '%s': %s (%s)", method,
				   http_redact(url, rurl, sizeof(rurl)), http_errno_text(rc),
				   detail);
		goto out;
	}
	if (!sink.buf && !(sink.buf = malloc(1))) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	sink.buf[sink.len] = '\0';
	resp->body = sink.buf;
	resp->len = sink.len;
	sink.buf = NULL;
	char *ct = NULL;
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(resp->content_type, sizeof(resp->content_type), "%s", ct);
out:
	if (rc)
		kc_http_resp_clear(resp);
	/* the header list and the body are only borrowed by the handle */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdrs);
	free(ctype);
	free(sink.buf);
	return rc;
}

int kc_http_get(struct kc_http *h, const char *url, size_t max_len, struct kc_http_resp *resp,
		struct kc_err *err)
{
	KC_BUG_ON(!h || !url || !resp);
	return http_do(h, "get", url, NULL, NULL, 0, max_len, resp, err);
}

int kc_http_post(struct kc_http *h, const char *url, const char *content_type, const void *body,
		 size_t len, size_t max_len, struct kc_http_resp *resp, struct kc_err *err)
{
	KC_BUG_ON(!h || !url || !resp || (!body && len));
	return http_do(h, "post", url, content_type ? content_type : "application/octet-stream",
		       body ? body : "", len, max_len, resp, err);
}

int kc_http_repo_fetch(void *ctx, const char *name, size_t max_len, unsigned char **buf,
		       size_t *len, struct kc_err *err)
{
	const struct kc_http_repo *repo = ctx;
	struct kc_http_resp resp;
	char *url = NULL, rurl[256];
	int rc;

	KC_BUG_ON(!repo || !repo->http || !repo->base_url || !name || !buf || !len);
	*buf = NULL;
	*len = 0;
	if (asprintf(&url, "%s%s", repo->base_url, name) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	rc = kc_http_get(repo->http, url, max_len, &resp, err);
	if (rc)
		goto out;
	if (resp.status == 200) {
		*buf = (unsigned char *)resp.body;
		*len = resp.len;
		resp.body = NULL;
	} else if (resp.status == 404) {
		rc = kc_err_set(err, -ENOENT, "'%s' not found (http 404)",
				http_redact(url, rurl, sizeof(rurl)));
	} else {
		rc = kc_err_set(err, -EPROTO, "http %ld from '%s'", resp.status,
				http_redact(url, rurl, sizeof(rurl)));
	}
	kc_http_resp_clear(&resp);
out:
	free(url);
	return rc;
}
