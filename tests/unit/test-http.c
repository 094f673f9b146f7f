// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The HTTP client (kcare/http.h) against a libmicrohttpd server started on
 * 127.0.0.1 (port 0) inside the test: statuses, size limits (streamed and
 * declared), POST, refused connections, redirects, proxies from the options
 * and from the environment (the server plays the proxy and records the
 * request line it got), and the trust client's repository fetch callback.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <microhttpd.h>

#include "kcare/http.h"

#define BIG_BODY (1024 * 1024)

static struct {
	struct MHD_Daemon *d;
	unsigned port;
	char base[64]; /* "http://127.0.0.1:PORT" */
	pthread_mutex_t lock;
	char method[16]; /* of the last request */
	char url[512];
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct upload {
	char *buf;
	size_t len;
};

static ssize_t gen_x(void *cls, uint64_t pos, char *buf, size_t max)
{
	uint64_t total = *(const uint64_t *)cls;

	if (pos >= total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > total - pos)
		max = (size_t)(total - pos);
	memset(buf, 'x', max);
	return (ssize_t)max;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body,
			     const char *location)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "text/plain");
	if (location)
		MHD_add_response_header(r, "Location", location);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *data,
			       size_t *data_size, void **con_cls)
{
	static uint64_t unknown = BIG_BODY, declared = 100ull * 1024 * 1024;
	struct upload *up = *con_cls;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls, (void)version;
	if (!up) {
		up = calloc(1, sizeof(*up));
		*con_cls = up;
		pthread_mutex_lock(&srv.lock);
		snprintf(srv.method, sizeof(srv.method), "%s", method);
		snprintf(srv.url, sizeof(srv.url), "%s", url);
		pthread_mutex_unlock(&srv.lock);
		return MHD_YES;
	}
	if (*data_size) {
		char *nb = realloc(up->buf, up->len + *data_size);
		if (!nb)
			return MHD_NO;
		memcpy(nb + up->len, data, *data_size);
		up->buf = nb;
		up->len += *data_size;
		*data_size = 0;
		return MHD_YES;
	}
	if (strstr(url, "://"))
		return reply(conn, 200, "proxied", NULL);
	if (!strcmp(method, "CONNECT"))
		return reply(conn, 403, "no tunnels", NULL);
	if (!strcmp(url, "/ok"))
		return reply(conn, 200, "hello world", NULL);
	if (!strcmp(url, "/fail") || !strcmp(url, "/repo/err.json"))
		return reply(conn, 500, "broken", NULL);
	if (!strcmp(url, "/repo/a.json"))
		return reply(conn, 200, "{\"a\":1}", NULL);
	if (!strcmp(url, "/redir"))
		return reply(conn, 302, "", "/ok");
	if (!strcmp(url, "/loop"))
		return reply(conn, 302, "", "/loop");
	if (!strcmp(url, "/redir-ftp"))
		return reply(conn, 302, "", "ftp://127.0.0.1/x");
	if (!strcmp(url, "/echo")) {
		const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_TYPE);
		char *body = NULL;
		if (asprintf(&body, "%s|%s|%.*s", method, ct ? ct : "", (int)up->len,
			     up->buf ? up->buf : "") < 0)
			return MHD_NO;
		ret = reply(conn, 200, body, NULL);
		free(body);
		return ret;
	}
	if (!strcmp(url, "/big") || !strcmp(url, "/bigdecl")) {
		bool decl = !strcmp(url, "/bigdecl");
		r = MHD_create_response_from_callback(decl ? declared : MHD_SIZE_UNKNOWN, 16384,
						      gen_x, decl ? &declared : &unknown, NULL);
		ret = MHD_queue_response(conn, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	return reply(conn, 404, "not found", NULL);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (up) {
		free(up->buf);
		free(up);
		*con_cls = NULL;
	}
}

static int srv_start(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	const union MHD_DaemonInfo *info;

	(void)state;
	srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
				 handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				 MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (!srv.d)
		return -1;
	info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		return -1;
	srv.port = info->port;
	snprintf(srv.base, sizeof(srv.base), "http://127.0.0.1:%u", srv.port);
	/* the tests decide about proxies themselves */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	return 0;
}

static int srv_stop(void **state)
{
	(void)state;
	MHD_stop_daemon(srv.d);
	return 0;
}

static struct kc_http *client(const struct kc_http_opts *o)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_http *h = NULL;

	assert_int_equal(kc_http_new(o, &h, &err), 0);
	assert_non_null(h);
	return h;
}

static char *url(const char *path)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s%s", srv.base, path);
	return buf;
}

static void last_request(char *method, char *u)
{
	pthread_mutex_lock(&srv.lock);
	strcpy(method, srv.method);
	strcpy(u, srv.url);
	pthread_mutex_unlock(&srv.lock);
}

static void test_http__get_200_and_404(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_http_resp r;
	struct kc_http *h = client(NULL);

	(void)state;
	assert_int_equal(kc_http_get(h, url("/ok"), 1024, &r, &err), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 11);
	assert_string_equal(r.body, "hello world");
	assert_string_equal(r.content_type, "text/plain");
	kc_http_resp_clear(&r);
	assert_null(r.body);

	/* any status is a success of the call; the same handle is reused */
	assert_int_equal(kc_http_get(h, url("/nothing-here"), 1024, &r, &err), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "not found");
	kc_http_resp_clear(&r);
	assert_int_equal(kc_http_get(h, url("/fail"), 1024, &r, &err), 0);
	assert_int_equal(r.status, 500);
	kc_http_resp_clear(&r);

	/* exactly at the limit is fine */
	assert_int_equal(kc_http_get(h, url("/ok"), 11, &r, &err), 0);
	kc_http_resp_clear(&r);
	kc_http_free(h);
	kc_http_free(NULL);
}

static void test_http__size_limits(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_http_resp r;
	struct kc_http *h = client(NULL);

	(void)state;
	assert_int_equal(kc_http_get(h, url("/ok"), 10, &r, &err), -EFBIG);
	assert_null(r.body);
	/* streamed without a length: stopped once over the limit */
	assert_int_equal(kc_http_get(h, url("/big"), 64 * 1024, &r, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "/big"));
	assert_null(r.body);
	/* a declared length over the limit: refused before the body */
	kc_err_clear(&err);
	assert_int_equal(kc_http_get(h, url("/bigdecl"), 64 * 1024, &r, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "/bigdecl"));
	/* and the whole body when it fits */
	assert_int_equal(kc_http_get(h, url("/big"), BIG_BODY, &r, &err), 0);
	assert_int_equal(r.len, BIG_BODY);
	assert_int_equal(r.body[BIG_BODY - 1], 'x');
	assert_int_equal(r.body[BIG_BODY], '\0');
	kc_http_resp_clear(&r);
	kc_http_free(h);
}

static void test_http__post_echo(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_http_resp r;
	struct kc_http *h = client(NULL);
	char *big = malloc(200000);

	(void)state;
	assert_int_equal(
	    kc_http_post(h, url("/echo"), "application/json", "{\"k\":2}", 7, 4096, &r, &err), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "POST|application/json|{\"k\":2}");
	kc_http_resp_clear(&r);
	/* a large body goes without a 100-continue wait */
	memset(big, 'b', 200000);
	assert_int_equal(kc_http_post(h, url("/echo"), "text/plain", big, 200000, 300000, &r, &err),
			 0);
	assert_int_equal(r.len, strlen("POST|text/plain|") + 200000);
	kc_http_resp_clear(&r);
	assert_int_equal(kc_http_post(h, url("/echo"), NULL, NULL, 0, 4096, &r, &err), 0);
	assert_string_equal(r.body, "POST|application/octet-stream|");
	kc_http_resp_clear(&r);
	free(big);
	kc_http_free(h);
}

static void test_http__connection_refused(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	struct kc_err err = KC_ERR_INIT;
	struct kc_http_resp r;
	struct kc_http_opts o = {0};
	struct kc_http *h;
	char u[128], p[128];
	int fd;

	(void)state;
	/* bound but not listening: connections to it are refused, and no one else gets the port */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%u/x", ntohs(sa.sin_port));
	h = client(NULL);
	assert_int_equal(kc_http_get(h, u, 100, &r, &err), -ECONNREFUSED);
	assert_non_null(strstr(err.msg, u));
	assert_null(strstr(err.msg, "proxy"));
	assert_null(r.body);
	kc_http_free(h);

	/* a dead proxy is named in the message, with its password masked */
	snprintf(p, sizeof(p), "http://user:secret@127.0.0.1:%u", ntohs(sa.sin_port));
	o.http_proxy = p;
	h = client(&o);
	kc_err_clear(&err);
	assert_int_equal(kc_http_get(h, "http://kc-test.invalid/y", 100, &r, &err), -ECONNREFUSED);
	assert_non_null(strstr(err.msg, "kc-test.invalid/y"));
	assert_non_null(strstr(err.msg, "proxy 'http://***@127.0.0.1:"));
	assert_null(strstr(err.msg, "secret"));
	kc_http_free(h);
	close(fd);
}

static void test_http__bad_urls_and_cancel(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_http_resp r;
	volatile int cancel = 0;
	struct kc_http_opts o = {.cancel = &cancel};
	struct kc_http *h = client(&o);

	(void)state;
	assert_int_equal(kc_http_get(h, "ftp://127.0.0.1/x", 100, &r, &err), -EINVAL);
	assert_int_equal(kc_http_get(h, "file:///etc/passwd", 100, &r, &err), -EINVAL);
	assert_int_equal(kc_http_get(h, "127.0.0.1/x", 100, &r, &err), -EINVAL);
	/* redirects: followed within http(s) only, at most 5 */
	assert_int_equal(kc_http_get(h, url("/redir"), 100, &r, &err), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello world");
	kc_http_resp_clear(&r);
	assert_int_equal(kc_http_get(h, url("/redir-ftp"), 100, &r, &err), -EPROTO);
	assert_int_equal(kc_http_get(h, url("/loop"), 100, &r, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "/loop"));
	cancel = 1;
	assert_int_equal(kc_http_get(h, url("/ok"), 100, &r, &err), -EINTR);
	kc_http_free(h);
}

static void test_http__proxy_from_options(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_http_resp r;
	struct kc_http_opts o = {.http_proxy = srv.base, .https_proxy = srv.base};
	struct kc_http *h = client(&o);
	char m[16], u[512];

	(void)state;
	assert_int_equal(kc_http_get(h, "http://kc-test.invalid/feed/x.json", 100, &r, &err), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "proxied");
	kc_http_resp_clear(&r);
	last_request(m, u);
	assert_string_equal(m, "GET");
	assert_string_equal(u, "http://kc-test.invalid/feed/x.json");

	/* https goes through a tunnel: the proxy sees CONNECT; ours refuses it */
	kc_err_clear(&err);
	assert_true(kc_http_get(h, "https://kc-test.invalid/y", 100, &r, &err) < 0);
	last_request(m, u);
	assert_string_equal(m, "CONNECT");
	assert_string_equal(u, "kc-test.invalid:443");
	assert_non_null(strstr(err.msg, "through proxy"));
	assert_non_null(strstr(err.msg, srv.base));
	kc_http_free(h);
}

static void test_http__proxy_from_environment(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_http_resp r;
	struct kc_http_opts o = {.http_proxy = "", .https_proxy = NULL};
	struct kc_http *h = client(&o);
	char m[16], u[512];

	(void)state;
	setenv("http_proxy", srv.base, 1);
	assert_int_equal(kc_http_get(h, "http://kc-env.invalid/lower", 100, &r, &err), 0);
	assert_string_equal(r.body, "proxied");
	kc_http_resp_clear(&r);
	last_request(m, u);
	assert_string_equal(u, "http://kc-env.invalid/lower");
	unsetenv("http_proxy");

	/* curl itself ignores HTTP_PROXY; the documents say either case works */
	setenv("HTTP_PROXY", srv.base, 1);
	assert_int_equal(kc_http_get(h, "http://kc-env.invalid/upper", 100, &r, &err), 0);
	assert_string_equal(r.body, "proxied");
	kc_http_resp_clear(&r);
	last_request(m, u);
	assert_string_equal(u, "http://kc-env.invalid/upper");

	/* no_proxy: the loopback server is reached directly */
	setenv("no_proxy", "localhost,127.0.0.1", 1);
	assert_int_equal(kc_http_get(h, url("/ok"), 100, &r, &err), 0);
	assert_string_equal(r.body, "hello world");
	kc_http_resp_clear(&r);
	last_request(m, u);
	assert_string_equal(u, "/ok");
	unsetenv("no_proxy");
	unsetenv("HTTP_PROXY");
	kc_http_free(h);
}

static void test_http__proxy_for(void **state)
{
	struct kc_http_opts o = {0};

	(void)state;
	assert_string_equal(kc_http_proxy_for(&o, "http://a.example/"), "");
	setenv("HTTPS_PROXY", "http://upper:1", 1);
	setenv("https_proxy", "http://lower:1", 1);
	setenv("HTTP_PROXY", "http://plain:1", 1);
	/* lowercase wins; the scheme picks the variable */
	assert_string_equal(kc_http_proxy_for(&o, "https://a.example/"), "http://lower:1");
	assert_string_equal(kc_http_proxy_for(NULL, "HTTPS://a.example/"), "http://lower:1");
	assert_string_equal(kc_http_proxy_for(&o, "http://a.example/"), "http://plain:1");
	assert_string_equal(kc_http_proxy_for(&o, "ftp://a.example/"), "");
	/* the options win over the environment */
	o.https_proxy = "http://conf:2";
	assert_string_equal(kc_http_proxy_for(&o, "https://a.example/"), "http://conf:2");
	/* no_proxy: exact names, domain suffixes, "*" */
	setenv("no_proxy", " .example.com, other.org:8080 ,[::1]", 1);
	assert_string_equal(kc_http_proxy_for(&o, "https://example.com/"), "");
	assert_string_equal(kc_http_proxy_for(&o, "https://u:p@a.b.EXAMPLE.com:8443/x"), "");
	assert_string_equal(kc_http_proxy_for(&o, "https://badexample.com/"), "http://conf:2");
	/* the port of an entry is not compared */
	assert_string_equal(kc_http_proxy_for(&o, "http://other.org/"), "");
	assert_string_equal(kc_http_proxy_for(&o, "http://x.other.org:80/"), "");
	assert_string_equal(kc_http_proxy_for(&o, "http://other.org.evil/"), "http://plain:1");
	assert_string_equal(kc_http_proxy_for(&o, "http://[::1]:8080/"), "");
	setenv("no_proxy", "::1", 1);
	assert_string_equal(kc_http_proxy_for(&o, "http://[::1]/"), "");
	assert_string_equal(kc_http_proxy_for(&o, "http://[::2]/"), "http://plain:1");
	setenv("no_proxy", "*", 1);
	assert_string_equal(kc_http_proxy_for(&o, "http://any.where/"), "");
	unsetenv("no_proxy");
	setenv("NO_PROXY", "any.where", 1);
	assert_string_equal(kc_http_proxy_for(&o, "http://any.where/"), "");
	unsetenv("NO_PROXY");
	unsetenv("HTTPS_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTP_PROXY");
}

static void test_http__repo_fetch(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_http *h = client(NULL);
	char base[128];
	struct kc_http_repo repo = {.http = h, .base_url = base};
	unsigned char *buf = NULL;
	size_t len = 0;

	(void)state;
	snprintf(base, sizeof(base), "%s/repo/", srv.base);
	assert_int_equal(kc_http_repo_fetch(&repo, "a.json", 100, &buf, &len, &err), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "{\"a\":1}", 7);
	free(buf);
	assert_int_equal(kc_http_repo_fetch(&repo, "missing.json", 100, &buf, &len, &err), -ENOENT);
	assert_null(buf);
	assert_int_equal(kc_http_repo_fetch(&repo, "err.json", 100, &buf, &len, &err), -EPROTO);
	assert_null(buf);
	assert_non_null(strstr(err.msg, "http 500 from"));
	assert_non_null(strstr(err.msg, "/repo/err.json"));
	assert_int_equal(kc_http_repo_fetch(&repo, "a.json", 3, &buf, &len, &err), -EFBIG);
	assert_null(buf);
	kc_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http__get_200_and_404),
	    cmocka_unit_test(test_http__size_limits),
	    cmocka_unit_test(test_http__post_echo),
	    cmocka_unit_test(test_http__connection_refused),
	    cmocka_unit_test(test_http__bad_urls_and_cancel),
	    cmocka_unit_test(test_http__proxy_from_options),
	    cmocka_unit_test(test_http__proxy_from_environment),
	    cmocka_unit_test(test_http__proxy_for),
	    cmocka_unit_test(test_http__repo_fetch),
	};
	return cmocka_run_group_tests(tests, srv_start, srv_stop);
}
