/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the HTTP front: one request as the route handlers see it (decoded,
 * body complete, caller authenticated or not) and the reply they build.
 * Handlers (route-*.c) decode, call the model, encode with http-reply.c;
 * http.c owns libmicrohttpd, bodies, the route table and counters,
 * http-auth.c authentication, http-repo.c the static repository.
 */
#ifndef KC_EPORTAL_HTTP_INT_H
#define KC_EPORTAL_HTTP_INT_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdint.h>

#include "eportal/http.h"

struct json_object;

enum kc_httpd_auth {
	KC_HTTPD_AUTH_NONE,
	KC_HTTPD_AUTH_READONLY,
	KC_HTTPD_AUTH_ADMIN,
};

struct kc_httpd_stats {
	atomic_llong requests, agent, admin, repo, status_2xx, status_3xx, status_4xx, status_5xx,
	    registrations, checkins, deploys, bytes_repo;
	atomic_llong login_limited; /* basic-auth refused by the failed-login limits (429) */
	atomic_llong login_busy;    /* basic-auth refused because the hash queue was full (503) */
	atomic_llong head_timeouts; /* connections closed for a late request head */
};

struct kc_httpd_auth_pool;
struct kc_httpd_guard;

struct kc_httpd {
	struct kc_ep *ep; /* borrowed */
	struct kc_httpd_opts o;
	void *mhd; /* struct MHD_Daemon */
	unsigned port;
	char base_url[256];
	struct kc_httpd_stats st;
	int64_t started;
	struct kc_httpd_auth_pool *auth; /* http-auth.c */
	struct kc_httpd_guard *guard;	 /* http-guard.c */
};

struct kc_httpd_req {
	struct kc_httpd *h;
	void *conn; /* struct MHD_Connection */
	const char *method;
	const char *path; /* without the query string */
	const char *body; /* NUL-terminated copy; NULL when empty */
	size_t len;
	char ip[64];
	enum kc_httpd_auth auth;
};

struct kc_httpd_reply {
	int status;
	char *body; /* owned (malloc) */
	size_t len;
	const char *ctype;
	unsigned retry_after; /* seconds for a Retry-After header, 0: none */
};

/* Query argument or header of the request; NULL when absent. Borrowed. */
const char *kc_httpd_arg(struct kc_httpd_req *r, const char *name);
const char *kc_httpd_header(struct kc_httpd_req *r, const char *name);

/* Reply builders. They take ownership of @o. */
void kc_httpd_json(struct kc_httpd_reply *rep, int status, struct json_object *o);
void kc_httpd_text(struct kc_httpd_reply *rep, int status, const char *ctype, const char *text);
void kc_httpd_error(struct kc_httpd_reply *rep, int status, const char *code, const char *msg);
/* Maps a model error (negative errno + message) to a status and error code. */
void kc_httpd_fail(struct kc_httpd_reply *rep, int code, const struct kc_err *err);

/* Sends @rep (its body is taken) and counts its status class (http.c). */
enum MHD_Result kc_httpd_queue(struct kc_httpd *h, struct MHD_Connection *conn,
			       struct kc_httpd_reply *rep, int www_auth);
enum MHD_Result kc_httpd_fail_now(struct kc_httpd *h, struct MHD_Connection *conn, int status,
				  const char *code, const char *msg);
/* GET/HEAD /repo/@path: a file of the signed repository (http-repo.c). */
enum MHD_Result kc_httpd_serve_repo(struct kc_httpd *h, struct MHD_Connection *conn,
				    const char *path);
/* GET/HEAD /oval/@name: an OVAL document for scanners (http-repo.c). */
enum MHD_Result kc_httpd_serve_oval(struct kc_httpd *h, struct MHD_Connection *conn,
				    const char *name);

/* Route handlers (route-*.c): return 1 when the path was theirs, 0 otherwise. */
int kc_httpd_route_agent(struct kc_httpd_req *r, struct kc_httpd_reply *rep);
int kc_httpd_route_admin(struct kc_httpd_req *r, struct kc_httpd_reply *rep);
int kc_httpd_route_metrics(struct kc_httpd_req *r, struct kc_httpd_reply *rep);
/* Diagnostic reports (route-doctor.c): agent upload; admin list (@id NULL), get, delete. */
void kc_httpd_route_doctor_upload(struct kc_httpd_req *r, struct kc_httpd_reply *rep);
void kc_httpd_route_doctor_admin(struct kc_httpd_req *r, struct kc_httpd_reply *rep,
				 const char *id);

/*
 * Admin authentication (http-auth.c). A request's slot keeps the outcome of
 * a password check across the suspension of its connection.
 */
enum { KC_HTTPD_AUTH_SLOT_NEW, KC_HTTPD_AUTH_SLOT_PENDING, KC_HTTPD_AUTH_SLOT_DONE };
struct kc_httpd_auth_slot {
	atomic_int state;
	enum kc_httpd_auth result;
	int unavailable; /* the server stopped before the check ran */
};
/* The hash threads and the login limits of @h (options in h->o). */
int kc_httpd_auth_start(struct kc_httpd *h, struct kc_err *err);
/* Before the daemon stops: every suspended request is answered and resumed. */
void kc_httpd_auth_stop(struct kc_httpd *h);
void kc_httpd_auth_free(struct kc_httpd *h);
/*
 * 0: r->auth is set (KC_HTTPD_AUTH_NONE for missing or wrong credentials).
 * 1: a password check was queued and r->conn suspended; the handler is
 * called again once @slot holds the outcome. -1: refused, @rep holds the
 * answer (400 malformed credentials, 429 login limits, 503 queue full).
 */
int kc_httpd_authenticate(struct kc_httpd_req *r, struct kc_httpd_auth_slot *slot,
			  struct kc_httpd_reply *rep);

/* Request-head deadline (http-guard.c); @timeouts counts connections it closed. */
int kc_httpd_guard_start(struct kc_httpd_guard **out, unsigned head_timeout_s,
			 atomic_llong *timeouts, struct kc_err *err);
void kc_httpd_guard_stop(struct kc_httpd_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION callback (@cls: the guard). */
void kc_httpd_guard_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
			   enum MHD_ConnectionNotificationCode code);
void kc_httpd_guard_head_read(struct MHD_Connection *mc); /* the access handler has the head */
void kc_httpd_guard_head_wait(struct MHD_Connection *mc); /* the next head's clock starts */
/* Milliseconds of CLOCK_MONOTONIC (deadlines and login buckets). */
int64_t kc_httpd_mono_ms(void);

#endif
