// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libmicrohttpd glue of the patch server: the daemon (thread pool, connection
 * limits, idle timeout against slow clients), request bodies (bounded: a
 * declared Content-Length over the limit is refused before any byte is read,
 * a chunked one as soon as it crosses it), authentication of admin requests
 * (http-auth.c: off the request threads, because the password KDF is slow on
 * purpose), a deadline for request heads (http-guard.c), the static
 * repository (http-repo.c) and dispatch through a table of routes, whose
 * handlers build their replies with http-reply.c.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eportal/http-int.h"
#include "eportal/http-json.h"

struct req_ctx {
	char *buf;
	size_t len, cap, limit;
	int too_big;
	int repo; /* a GET of the static repository (1) or of the OVAL documents (2) */
	struct kc_httpd_auth_slot auth;
};

enum MHD_Result kc_httpd_queue(struct kc_httpd *h, struct MHD_Connection *conn,
			       struct kc_httpd_reply *rep, int www_auth)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(rep->body);
		return MHD_NO;
	}
	if (rep->ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep->ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (www_auth)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Basic realm=\"eportal\"");
	if (rep->retry_after) {
		char v[16];
		snprintf(v, sizeof(v), "%u", rep->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	ret = MHD_queue_response(conn, (unsigned)rep->status, resp);
	MHD_destroy_response(resp);
	if (rep->status >= 500)
		atomic_fetch_add(&h->st.status_5xx, 1);
	else if (rep->status >= 400)
		atomic_fetch_add(&h->st.status_4xx, 1);
	else
		atomic_fetch_add(&h->st.status_2xx, 1);
	return ret;
}

enum MHD_Result kc_httpd_fail_now(struct kc_httpd *h, struct MHD_Connection *conn, int status,
				  const char *code, const char *msg)
{
	struct kc_httpd_reply rep = {0};

	kc_httpd_error(&rep, status, code, msg);
	return kc_httpd_queue(h, conn, &rep, 0);
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t sz)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)sz);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)sz);
}

static size_t body_limit(struct kc_httpd *h, const char *url, const char *method)
{
	if (!strcmp(method, "POST") && !strcmp(url, "/admin/api/v1/patchsets"))
		return h->o.max_upload;
	if (!strcmp(method, "POST") && !strcmp(url, "/api/v1/doctor"))
		return h->o.max_report;
	return h->o.max_body;
}

#define NO_COUNTER SIZE_MAX

/* Where a request goes: the first entry whose path matches (a prefix unless exact). */
static const struct route {
	const char *path;
	bool exact;
	bool admin;	/* authenticated (http-auth.c) before the handler runs */
	size_t counter; /* offset of its counter in struct kc_httpd_stats */
	int (*fn)(struct kc_httpd_req *r, struct kc_httpd_reply *rep);
} routes[] = {
    {"/admin/", false, true, offsetof(struct kc_httpd_stats, admin), kc_httpd_route_admin},
    {"/metrics", true, false, NO_COUNTER, kc_httpd_route_metrics},
    {"/", false, false, offsetof(struct kc_httpd_stats, agent), kc_httpd_route_agent},
};

static const struct route *route_of(const char *path)
{
	size_t last = sizeof(routes) / sizeof(routes[0]) - 1;

	for (size_t i = 0; i < last; i++)
		if (routes[i].exact ? !strcmp(path, routes[i].path)
				    : !strncmp(path, routes[i].path, strlen(routes[i].path)))
			return &routes[i];
	return &routes[last];
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct kc_httpd *h = cls;
	struct req_ctx *ctx = *con_cls;
	struct kc_httpd_reply rep = {0};
	struct kc_httpd_req r = {0};
	const struct route *rt;
	int www_auth = 0;

	(void)version;
	if (!ctx) {
		/* first call: headers only */
		kc_httpd_guard_head_read(conn);
		atomic_fetch_add(&h->st.requests, 1);
		ctx = calloc(1, sizeof(*ctx));
		if (!ctx)
			return MHD_NO;
		/*
		 * A reply queued in this first call would make libmicrohttpd close
		 * the connection (it cannot know the body was read): even a GET is
		 * answered on the next call, so keep-alive works.
		 */
		if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
			ctx->repo = !strncmp(url, "/repo/", 6)	 ? 1
				    : !strncmp(url, "/oval/", 6) ? 2
								 : 0;
		ctx->limit = body_limit(h, url, method);
		*con_cls = ctx;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > ctx->limit) {
			ctx->too_big = 1;
			return kc_httpd_fail_now(h, conn, 413, "too-large",
						 "request body is too large");
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (ctx->too_big || ctx->len + *upload_size > ctx->limit) {
			/* a chunked body crossed the limit: drop the connection */
			ctx->too_big = 1;
			return MHD_NO;
		}
		if (ctx->len + *upload_size + 1 > ctx->cap) {
			size_t nc = ctx->cap ? ctx->cap : 4096;
			while (nc < ctx->len + *upload_size + 1)
				nc *= 2;
			char *nb = realloc(ctx->buf, nc);
			if (!nb)
				return MHD_NO;
			ctx->buf = nb;
			ctx->cap = nc;
		}
		memcpy(ctx->buf + ctx->len, upload, *upload_size);
		ctx->len += *upload_size;
		ctx->buf[ctx->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	if (ctx->too_big)
		return MHD_NO;
	if (ctx->repo)
		return ctx->repo == 2 ? kc_httpd_serve_oval(h, conn, url + 6)
				      : kc_httpd_serve_repo(h, conn, url + 6);
	/* body complete: dispatch */
	r.h = h;
	r.conn = conn;
	r.method = method;
	r.path = url;
	r.body = ctx->buf;
	r.len = ctx->len;
	client_ip(conn, r.ip, sizeof(r.ip));
	rt = route_of(url);
	if (rt->admin) {
		int a = kc_httpd_authenticate(&r, &ctx->auth, &rep);
		if (a > 0)
			return MHD_YES; /* suspended until the password check is done */
		if (a < 0) {
			/* refused before any password check: rep says why */
		} else if (r.auth == KC_HTTPD_AUTH_NONE) {
			kc_httpd_error(&rep, 401, "unauthorized",
				       "admin requests need X-Api-Key or basic auth of a user");
			www_auth = 1;
		} else if (r.auth == KC_HTTPD_AUTH_READONLY && strcmp(method, "GET") &&
			   strcmp(method, "HEAD")) {
			kc_httpd_error(&rep, 403, "forbidden", "read-only credentials");
		}
	}
	if (rt->counter != NO_COUNTER)
		atomic_fetch_add((atomic_llong *)((char *)&h->st + rt->counter), 1);
	if (!rep.status && !rt->fn(&r, &rep))
		kc_httpd_error(&rep, 404, "not-found", "no such endpoint");
	return kc_httpd_queue(h, conn, &rep, www_auth);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *ctx = *con_cls;

	(void)cls;
	(void)toe;
	kc_httpd_guard_head_wait(conn);
	if (ctx) {
		free(ctx->buf);
		free(ctx);
		*con_cls = NULL;
	}
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, struct kc_err *err)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return kc_err_set(err, -EINVAL, "invalid listen address '%.100s' (HOST:PORT)", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535)
		return kc_err_set(err, -EINVAL, "invalid port in '%.100s'", s);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		host[strlen(host) - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return kc_err_set(err, -EINVAL, "invalid address in '%.100s'", s);
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (!host[0] || !strcmp(host, "*"))
		a->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (!strcmp(host, "localhost"))
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return kc_err_set(err, -EINVAL, "invalid address in '%.100s'", s);
	return 0;
}

int kc_httpd_start(struct kc_ep *ep, const struct kc_httpd_opts *o, struct kc_httpd **out,
		   struct kc_err *err)
{
	struct sockaddr_storage ss;
	struct kc_httpd *h;
	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_ALLOW_SUSPEND_RESUME;
	int r;

	r = parse_listen(o->listen ? o->listen : "127.0.0.1:8080", &ss, err);
	if (r < 0)
		return r;
	h = calloc(1, sizeof(*h));
	if (!h)
		return kc_err_set(err, -ENOMEM, "out of memory");
	h->ep = ep;
	h->o = *o;
	if (!h->o.threads)
		h->o.threads = 4;
	if (!h->o.conn_limit)
		h->o.conn_limit = 1024;
	if (!h->o.timeout)
		h->o.timeout = 15;
	if (!h->o.max_body)
		h->o.max_body = 64 * 1024;
	if (!h->o.max_upload)
		h->o.max_upload = 64 * 1024 * 1024;
	if (!h->o.max_report)
		h->o.max_report = 16 * 1024 * 1024;
	if (!h->o.report_quota)
		h->o.report_quota = 100;
	if (!h->o.inactive_after)
		h->o.inactive_after = 86400;
	if (!h->o.per_ip_limit)
		h->o.per_ip_limit = 128;
	if (!h->o.head_timeout)
		h->o.head_timeout = 10;
	if (!h->o.auth_threads)
		h->o.auth_threads = 1;
	if (!h->o.auth_queue)
		h->o.auth_queue = 16;
	if (!h->o.login_limit)
		h->o.login_limit = 10;
	if (!h->o.login_limit_global)
		h->o.login_limit_global = 100;
	/* KC_HTTPD_UNLIMITED: libmicrohttpd and ratelimit.h say "none" with 0 */
	if (h->o.per_ip_limit == KC_HTTPD_UNLIMITED)
		h->o.per_ip_limit = 0;
	if (h->o.login_limit == KC_HTTPD_UNLIMITED)
		h->o.login_limit = 0;
	if (h->o.login_limit_global == KC_HTTPD_UNLIMITED)
		h->o.login_limit_global = 0;
	h->started = ep->now();
	r = kc_httpd_guard_start(&h->guard, h->o.head_timeout, &h->st.head_timeouts, err);
	if (r == 0) {
		r = kc_httpd_auth_start(h, err);
		if (r < 0)
			kc_httpd_guard_stop(h->guard);
	}
	if (r < 0) {
		free(h);
		return r;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, h->o.threads, MHD_OPTION_CONNECTION_LIMIT, h->o.conn_limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->o.per_ip_limit, MHD_OPTION_CONNECTION_TIMEOUT,
	    h->o.timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_NOTIFY_CONNECTION,
	    kc_httpd_guard_notify, h->guard, MHD_OPTION_END);
	if (!h->mhd) {
		kc_httpd_auth_stop(h);
		kc_httpd_auth_free(h);
		kc_httpd_guard_stop(h->guard);
		free(h);
		return kc_err_set(err, -EADDRINUSE, "cannot listen on '%s'",
				  o->listen ? o->listen : "127.0.0.1:8080");
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	if (o->public_url)
		snprintf(h->base_url, sizeof(h->base_url), "%s", o->public_url);
	else {
		const char *ls = o->listen ? o->listen : "127.0.0.1:8080";
		const char *colon = strrchr(ls, ':');
		char host[128];
		snprintf(host, sizeof(host), "%.*s", (int)(colon - ls), ls);
		if (!host[0] || !strcmp(host, "*") || !strcmp(host, "0.0.0.0"))
			snprintf(host, sizeof(host), "127.0.0.1");
		snprintf(h->base_url, sizeof(h->base_url), "http://%s:%u", host, h->port);
	}
	size_t n = strlen(h->base_url);
	if (n && h->base_url[n - 1] == '/')
		h->base_url[n - 1] = '\0';
	*out = h;
	return 0;
}

unsigned kc_httpd_port(const struct kc_httpd *h)
{
	return h->port;
}

void kc_httpd_stop(struct kc_httpd *h)
{
	if (!h)
		return;
	/* suspended requests are answered first: libmicrohttpd refuses to stop with any */
	kc_httpd_auth_stop(h);
	MHD_stop_daemon(h->mhd);
	kc_httpd_auth_free(h);
	kc_httpd_guard_stop(h->guard);
	free(h);
}
