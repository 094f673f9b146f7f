// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What route handlers build replies with: request arguments and headers,
 * JSON, text and error replies, and the one mapping from a model error
 * (negative errno) to an HTTP status and error code.
 */
#include <json-c/json.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "eportal/http-int.h"

const char *kc_httpd_arg(struct kc_httpd_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *kc_httpd_header(struct kc_httpd_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void kc_httpd_json(struct kc_httpd_reply *rep, int status, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s);

	rep->status = status;
	rep->ctype = "application/json";
	rep->body = malloc(n + 2);
	if (rep->body) {
		memcpy(rep->body, s, n);
		rep->body[n] = '\n';
		rep->len = n + 1;
	} else {
		rep->status = 500;
		rep->len = 0;
	}
	json_object_put(o);
}

void kc_httpd_text(struct kc_httpd_reply *rep, int status, const char *ctype, const char *text)
{
	rep->status = status;
	rep->ctype = ctype;
	rep->body = strdup(text);
	rep->len = rep->body ? strlen(text) : 0;
}

void kc_httpd_error(struct kc_httpd_reply *rep, int status, const char *code, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(msg));
	kc_httpd_json(rep, status, o);
}

void kc_httpd_fail(struct kc_httpd_reply *rep, int code, const struct kc_err *err)
{
	const char *msg = err && err->msg[0] ? err->msg : strerror(-code);

	switch (code) {
	case -ENOENT:
		kc_httpd_error(rep, 404, "not-found", msg);
		break;
	case -EEXIST:
		kc_httpd_error(rep, 409, "already-exists", msg);
		break;
	case -EINVAL:
		kc_httpd_error(rep, 400, "invalid-request", msg);
		break;
	case -EBADMSG:
	case -EPROTONOSUPPORT:
	case -E2BIG:
	case -EILSEQ:
		kc_httpd_error(rep, 400, "bad-input", msg);
		break;
	case -ENOKEY:
		kc_httpd_error(rep, 403, "unknown-key", msg);
		break;
	case -EDQUOT:
		kc_httpd_error(rep, 403, "key-limit-reached", msg);
		break;
	case -EACCES:
		kc_httpd_error(rep, 403, "forbidden", msg);
		break;
	case -EBUSY:
		kc_httpd_error(rep, 409, "in-use", msg);
		break;
	case -EPERM:
		kc_httpd_error(rep, 409, "not-permitted", msg);
		break;
	case -EFBIG:
		kc_httpd_error(rep, 413, "too-large", msg);
		break;
	default:
		kc_httpd_error(rep, 500, "internal-error", msg);
		break;
	}
}
