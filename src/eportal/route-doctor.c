// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Diagnostic report endpoints: POST /api/v1/doctor, where agents upload a
 * kcarectl --doctor tarball without credentials (like registration), and
 * the admin side under /admin/api/v1/doctor: list, download, delete. The
 * files themselves are handled by model-doctor.c.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eportal/doctor.h"
#include "eportal/http-int.h"
#include "eportal/model-json.h"

static void fail(struct kc_httpd_reply *rep, int code, const struct kc_err *err)
{
	if (code == -EAGAIN)
		kc_httpd_error(rep, 429, "too-many-requests", err->msg);
	else
		kc_httpd_fail(rep, code, err);
}

void kc_httpd_route_doctor_upload(struct kc_httpd_req *r, struct kc_httpd_reply *rep)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_report rec;
	const char *sid = kc_httpd_arg(r, "server_id");
	int ret;

	if (!sid)
		sid = kc_httpd_header(r, "X-Server-Id");
	ret = kc_ep_report_store(r->h->ep, r->body, r->len, sid, r->ip, r->h->o.report_quota, &rec,
				 &err);
	if (ret < 0) {
		fail(rep, ret, &err);
		return;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(rec.id));
	kc_httpd_json(rep, 201, o);
}

/* The whole .tar.gz as the body (reports are bounded by --max-report). */
static void download(struct kc_httpd_req *r, struct kc_httpd_reply *rep, const char *id)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_report rec;
	char path[4096];
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, ret = kc_ep_report_get(r->h->ep, id, &rec, path, sizeof(path), &err);

	if (ret < 0) {
		kc_httpd_fail(rep, ret, &err);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		kc_httpd_error(rep, 404, "not-found", "no such report");
		return;
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf ? pread(fd, buf, (size_t)st.st_size, 0) : -1;
	close(fd);
	if (n != st.st_size) {
		free(buf);
		kc_httpd_error(rep, 500, "internal-error", "cannot read report");
		return;
	}
	rep->status = 200;
	rep->ctype = "application/gzip";
	rep->body = buf;
	rep->len = (size_t)n;
}

void kc_httpd_route_doctor_admin(struct kc_httpd_req *r, struct kc_httpd_reply *rep, const char *id)
{
	struct kc_err err = KC_ERR_INIT;
	int get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	int ret;

	if (!id && get) {
		struct kc_ep_report *all = NULL;
		size_t n = 0;
		ret = kc_ep_report_list(r->h->ep, &all, &n, &err);
		if (ret < 0) {
			kc_httpd_fail(rep, ret, &err);
			return;
		}
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "reports",
				       kc_ep_json_array(all, n, sizeof(*all), kc_ep_report_json));
		free(all);
		kc_httpd_json(rep, 200, o);
	} else if (id && get) {
		download(r, rep, id);
	} else if (id && !strcmp(r->method, "DELETE")) {
		ret = kc_ep_report_delete(r->h->ep, id, &err);
		if (ret < 0) {
			kc_httpd_fail(rep, ret, &err);
			return;
		}
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "deleted", json_object_new_string(id));
		kc_httpd_json(rep, 200, o);
	} else {
		kc_httpd_error(rep, 405, "method-not-allowed", "method not allowed here");
	}
}
