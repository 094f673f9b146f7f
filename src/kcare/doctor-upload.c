// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcarectl --doctor, the uploading half: hands a collected report to the
 * patch server (POST REGISTRATION_URL/doctor, see docs/eportal-api.md) and
 * returns the id the server filed it under. Kept apart from the collector
 * so that collecting links without the HTTP client.
 */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/doctor.h"

/* ids are hex; anything outside [A-Za-z0-9_-] would need escaping in the query */
static int id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

/* The "message" of an eportal error body, or a short excerpt of whatever came back. */
static void server_message(const struct kc_http_resp *r, char *out, size_t size)
{
	struct json_object *o = r->body ? json_tokener_parse(r->body) : NULL, *m;

	if (o && json_object_object_get_ex(o, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		snprintf(out, size, "%s", json_object_get_string(m));
	else if (r->body && r->len)
		snprintf(out, size, "%.*s", (int)strcspn(r->body, "\n"), r->body);
	else
		snprintf(out, size, "no message");
	json_object_put(o);
}

int kc_doctor_upload(struct kc_http *h, const char *registration_url, const char *server_id,
		     const char *path, char *id, size_t id_size, struct kc_err *err)
{
	struct kc_http_resp resp = {0};
	struct json_object *o = NULL, *v;
	char *url = NULL, *body = NULL, msg[200];
	size_t len = 0, ulen;
	FILE *f;
	long fsize;
	int ret;

	KC_BUG_ON(!h || !registration_url || !path || !id || !id_size);
	if (!registration_url[0])
		return kc_err_set(err, -EINVAL, "REGISTRATION_URL is not set");
	if (server_id && server_id[0] && !id_ok(server_id))
		return kc_err_set(err, -EINVAL, "invalid server id '%.64s'", server_id);
	f = fopen(path, "rbe");
	if (!f)
		return kc_err_set(err, -errno, "cannot open report '%s': %s", path,
				  strerror(errno));
	if (fseek(f, 0, SEEK_END) < 0 || (fsize = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		ret = kc_err_set(err, -EIO, "cannot read report '%s'", path);
		fclose(f);
		return ret;
	}
	if ((unsigned long)fsize > KC_DOCTOR_UPLOAD_MAX) {
		fclose(f);
		return kc_err_set(err, -EFBIG, "report '%s' is larger than %u bytes", path,
				  KC_DOCTOR_UPLOAD_MAX);
	}
	body = malloc((size_t)fsize + 1);
	if (!body) {
		fclose(f);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	len = fread(body, 1, (size_t)fsize, f);
	ret = ferror(f) || len != (size_t)fsize
		  ? kc_err_set(err, -EIO, "cannot read report '%s'", path)
		  : 0;
	fclose(f);
	if (ret < 0)
		goto out;
	/* "http://host/api/v1" and "http://host/api/v1/" name the same base */
	ulen = strlen(registration_url);
	while (ulen > 0 && registration_url[ulen - 1] == '/')
		ulen--;
	if (asprintf(&url, "%.*s/doctor%s%s", (int)ulen, registration_url,
		     server_id && server_id[0] ? "?server_id=" : "",
		     server_id && server_id[0] ? server_id : "") < 0) {
		url = NULL;
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	ret = kc_http_post(h, url, "application/gzip", body, len, 64 * 1024, &resp, err);
	if (ret < 0)
		goto out;
	if (resp.status != 201) {
		server_message(&resp, msg, sizeof(msg));
		ret = kc_err_set(err,
				 resp.status == 413   ? -EFBIG
				 : resp.status == 429 ? -EAGAIN
				 : resp.status == 404 ? -ENOENT
						      : -EPROTO,
				 "server refused the report: http %ld from '%s': %s", resp.status,
				 url, msg);
		goto out;
	}
	o = json_tokener_parse(resp.body ? resp.body : "");
	if (!o || !json_object_object_get_ex(o, "id", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		ret = kc_err_set(err, -EPROTO, "reply of '%s' has no report id", url);
		goto out;
	}
	if (strlen(json_object_get_string(v)) >= id_size || !id_ok(json_object_get_string(v))) {
		ret = kc_err_set(err, -EPROTO, "reply of '%s' has an invalid report id", url);
		goto out;
	}
	snprintf(id, id_size, "%s", json_object_get_string(v));
	ret = 0;
out:
	json_object_put(o);
	kc_http_resp_clear(&resp);
	free(url);
	free(body);
	return ret;
}
