/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the HTTP front: one request as the route handlers see it (decoded,
 * body complete, caller authenticated or not) and the reply they build.
 * Handlers (route-*.c) decode, call the model, encode; http.c owns
 * libmicrohttpd, authentication, static files and counters.
 */
#ifndef KC_EPORTAL_HTTP_INT_H
#define KC_EPORTAL_HTTP_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "eportal/http.h"

struct json_object;

enum kc_http_auth {
	KC_HTTP_AUTH_NONE,
	KC_HTTP_AUTH_READONLY,
	KC_HTTP_AUTH_ADMIN,
};

struct kc_http_stats {
	atomic_llong requests, agent, admin, repo, status_2xx, status_3xx, status_4xx, status_5xx,
	    registrations, checkins, deploys, bytes_repo;
};

struct kc_http {
	struct kc_ep *ep; /* borrowed */
	struct kc_http_opts o;
	void *mhd; /* struct MHD_Daemon */
	unsigned port;
	char base_url[256];
	struct kc_http_stats st;
	int64_t started;
};

struct kc_http_req {
	struct kc_http *h;
	void *conn; /* struct MHD_Connection */
	const char *method;
	const char *path; /* without the query string */
	const char *body; /* NUL-terminated copy; NULL when empty */
	size_t len;
	char ip[64];
	enum kc_http_auth auth;
};

struct kc_http_reply {
	int status;
	char *body; /* owned (malloc) */
	size_t len;
	const char *ctype;
};

/* Query argument or header of the request; NULL when absent. Borrowed. */
const char *kc_http_arg(struct kc_http_req *r, const char *name);
const char *kc_http_header(struct kc_http_req *r, const char *name);

/* Reply builders. They take ownership of @o. */
void kc_http_json(struct kc_http_reply *rep, int status, struct json_object *o);
void kc_http_text(struct kc_http_reply *rep, int status, const char *ctype, const char *text);
void kc_http_error(struct kc_http_reply *rep, int status, const char *code, const char *msg);
/* Maps a model error (negative errno + message) to a status and error code. */
void kc_http_fail(struct kc_http_reply *rep, int code, const struct kc_err *err);

/* Route handlers: return 1 when the path was theirs, 0 otherwise. */
int kc_http_route_agent(struct kc_http_req *r, struct kc_http_reply *rep);
int kc_http_route_admin(struct kc_http_req *r, struct kc_http_reply *rep);
void kc_http_route_metrics(struct kc_http_req *r, struct kc_http_reply *rep);
/* Diagnostic reports (route-doctor.c): agent upload; admin list (@id NULL), get, delete. */
void kc_http_route_doctor_upload(struct kc_http_req *r, struct kc_http_reply *rep);
void kc_http_route_doctor_admin(struct kc_http_req *r, struct kc_http_reply *rep, const char *id);

#endif
