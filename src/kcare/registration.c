// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's side of the patch server's agent API (docs/eportal-api.md):
 * register, check in, unregister, license. The server id lives in systemid
 * as KernelCare keeps it; the last reply (feed, products, the key's sticky
 * date) in registration.json, so that commands that do not talk to the
 * server still know them.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <netdb.h>

#include "kcare/agent.h"
#include "kcare/kernel.h"
#include "kcare/osrelease.h"

#define REPLY_MAX (64u * 1024)

static void copy_str(char *out, size_t size, json_object *o, const char *key)
{
	json_object *v;

	out[0] = '\0';
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(out, size, "%s", json_object_get_string(v));
}

static int reg_from_json(json_object *o, struct kc_reg *r, struct kc_err *err)
{
	json_object *v;

	memset(r, 0, sizeof(*r));
	if (!json_object_is_type(o, json_type_object))
		return kc_err_set(err, -EBADMSG, "the server's reply is not a JSON object");
	copy_str(r->server_id, sizeof(r->server_id), o, "server_id");
	if (!r->server_id[0])
		return kc_err_set(err, -EBADMSG, "the server's reply has no server_id");
	/* it goes into URLs and files as it is */
	if (strspn(r->server_id, "0123456789abcdefABCDEF-_") != strlen(r->server_id))
		return kc_err_set(err, -EBADMSG, "the server id '%s' is not hexadecimal",
				  r->server_id);
	copy_str(r->feed, sizeof(r->feed), o, "feed");
	if (!r->feed[0])
		strcpy(r->feed, "main");
	copy_str(r->sticky, sizeof(r->sticky), o, "sticky");
	copy_str(r->repo, sizeof(r->repo), o, "repo");
	if (json_object_object_get_ex(o, "is_updated", &v))
		r->is_updated = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "products", &v) &&
	    json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			unsigned bit = 0;
			const char *name = json_object_get_string(json_object_array_get_idx(v, i));

			if (name && kc_products_parse(name, &bit, NULL) == 0)
				r->products |= bit;
		}
	} else {
		r->products = KC_PRODUCT_KERNEL | KC_PRODUCT_USER;
	}
	return 0;
}

int kc_reg_load(const struct kc_agent *a, struct kc_reg *r, struct kc_err *err)
{
	char *buf = NULL;
	size_t len;
	json_object *o;
	int ret;

	ret = kc_file_read_all(a->paths.registration, REPLY_MAX, &buf, &len, err);
	if (ret == -ENOENT)
		return kc_err_set(err, -ENOENT,
				  "this server is not registered (kcarectl --register KEY)");
	if (ret < 0)
		return ret;
	o = json_tokener_parse(buf);
	free(buf);
	if (!o)
		return kc_err_set(err, -EBADMSG, "'%s' is not valid JSON: register again",
				  a->paths.registration);
	ret = reg_from_json(o, r, err);
	json_object_put(o);
	if (ret < 0)
		kc_err_prefix(err, "%s", a->paths.registration);
	return ret;
}

/* Turns an error reply {"error", "message"} into one line. */
static int server_error(const struct kc_http_resp *resp, const char *what, struct kc_err *err)
{
	json_object *o = resp->body ? json_tokener_parse(resp->body) : NULL;
	char msg[256] = "", code[64] = "";
	int errnum;

	if (o && json_object_is_type(o, json_type_object)) {
		copy_str(msg, sizeof(msg), o, "message");
		copy_str(code, sizeof(code), o, "error");
	}
	json_object_put(o);
	switch (resp->status) {
	case 401:
	case 403:
		errnum = -EACCES;
		break;
	case 404:
		errnum = -ENOENT;
		break;
	case 429:
		errnum = -EAGAIN;
		break;
	default:
		errnum = resp->status >= 500 ? -EAGAIN : -EPROTO;
		break;
	}
	if (msg[0])
		return kc_err_set(err, errnum, "%s: %s", what, msg);
	return kc_err_set(err, errnum, "%s: http status %ld", what, resp->status);
}

static int api_post(struct kc_agent *a, const char *endpoint, json_object *body,
		    json_object **reply, const char *what, struct kc_err *err)
{
	struct kc_http_resp resp = {0};
	struct kc_http *h;
	char url[1200];
	const char *text;
	int ret;

	if (!a->api_url[0])
		return kc_err_set(err, -EINVAL,
				  "no patch server is configured: set PATCH_SERVER (and "
				  "REGISTRATION_URL) in %s",
				  a->paths.conf);
	snprintf(url, sizeof(url), "%s/%s", a->api_url, endpoint);
	ret = kc_agent_http(a, &h, err);
	if (ret < 0)
		return ret;
	text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	ret = kc_http_post(h, url, "application/json", text, strlen(text), REPLY_MAX, &resp, err);
	if (ret < 0)
		return kc_err_prefix(err, "%s", what);
	if (resp.status != 200 && resp.status != 201) {
		ret = server_error(&resp, what, err);
		kc_http_resp_clear(&resp);
		return ret;
	}
	*reply = json_tokener_parse(resp.body);
	kc_http_resp_clear(&resp);
	if (!*reply)
		return kc_err_set(err, -EBADMSG, "%s: the server's reply is not JSON", what);
	return 0;
}

/* FQDN when REPORT_FQDN asks for it and the resolver knows one, else the plain host name. */
static void host_name(const struct kc_agent *a, char *out, size_t size)
{
	struct addrinfo hints = {.ai_flags = AI_CANONNAME}, *res = NULL;

	if (gethostname(out, size) < 0)
		snprintf(out, size, "unknown");
	out[size - 1] = '\0';
	if (!kc_conf_get_bool(a->conf, "REPORT_FQDN", false))
		return;
	if (getaddrinfo(out, NULL, &hints, &res) == 0 && res && res->ai_canonname)
		snprintf(out, size, "%s", res->ai_canonname);
	if (res)
		freeaddrinfo(res);
}

/* "debian 12" from os-release under the root, "" if unknown. */
static void distro(const struct kc_agent *a, char *out, size_t size)
{
	char path[KC_AGENT_PATH_MAX], id[KC_OS_RELEASE_FIELD], ver[KC_OS_RELEASE_FIELD];

	out[0] = '\0';
	if (kc_agent_path(&a->paths, "/etc/os-release", path, sizeof(path), NULL) < 0 ||
	    kc_os_release(path, id, ver) < 0)
		return;
	snprintf(out, size, "%s%s%s", id, *ver ? " " : "", ver);
}

/* The members every register and check-in sends about this host. */
static json_object *host_body(const struct kc_agent *a)
{
	json_object *o = json_object_new_object();
	char name[256], dist[160];
	const char *tag = kc_conf_get(a->conf, "TAG");
	struct sysinfo si;

	host_name(a, name, sizeof(name));
	distro(a, dist, sizeof(dist));
	json_object_object_add(o, "hostname", json_object_new_string(name));
	if (dist[0])
		json_object_object_add(o, "distro", json_object_new_string(dist));
	if (sysinfo(&si) == 0)
		json_object_object_add(o, "uptime", json_object_new_int64(si.uptime));
	json_object_object_add(o, "agent_version", json_object_new_string(KC_VERSION));
	/* the server shows which hosts run which kernel patch level */
	kc_kernel_checkin_fields(a, o);
	if (tag) {
		json_object *tags = json_object_new_array();

		if (*tag)
			json_object_array_add(tags, json_object_new_string(tag));
		json_object_object_add(o, "tags", tags);
	}
	return o;
}

static int save_reply(struct kc_agent *a, json_object *reply, const struct kc_reg *r,
		      struct kc_err *err)
{
	const char *text = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY);
	char sysid[200];
	int ret;

	snprintf(sysid, sizeof(sysid), "server_id=%s\n", r->server_id);
	ret = kc_file_write_atomic(a->paths.systemid, sysid, strlen(sysid), 0600, err);
	if (ret == 0)
		ret = kc_file_write_atomic(a->paths.registration, text, strlen(text), 0600, err);
	return ret;
}

/* Register and check-in: the same reply, saved the same way. Takes @body. */
static int post_and_save(struct kc_agent *a, const char *endpoint, json_object *body,
			 struct kc_reg *r, const char *what, struct kc_err *err)
{
	json_object *reply = NULL;
	int ret = api_post(a, endpoint, body, &reply, what, err);

	json_object_put(body);
	if (ret < 0)
		return ret;
	ret = reg_from_json(reply, r, err);
	if (ret == 0)
		ret = save_reply(a, reply, r, err);
	json_object_put(reply);
	return ret;
}

int kc_reg_register(struct kc_agent *a, const char *key, struct kc_reg *r, struct kc_err *err)
{
	json_object *body = host_body(a);

	if (key)
		json_object_object_add(body, "key", json_object_new_string(key));
	return post_and_save(a, "register", body, r, "registration failed", err);
}

int kc_reg_checkin(struct kc_agent *a, struct kc_reg *r, struct kc_err *err)
{
	struct kc_reg old;
	json_object *body;
	int ret;

	ret = kc_reg_load(a, &old, err);
	if (ret < 0)
		return ret;
	body = host_body(a);
	json_object_object_add(body, "server_id", json_object_new_string(old.server_id));
	return post_and_save(a, "checkin", body, r, "check-in failed", err);
}

int kc_reg_unregister(struct kc_agent *a, struct kc_err *err)
{
	struct kc_reg old;
	json_object *body, *reply = NULL;
	int ret;

	ret = kc_reg_load(a, &old, err);
	if (ret < 0)
		return ret;
	body = json_object_new_object();
	json_object_object_add(body, "server_id", json_object_new_string(old.server_id));
	ret = api_post(a, "unregister", body, &reply, "unregister failed", err);
	json_object_put(body);
	json_object_put(reply);
	/* a server that no longer knows us has forgotten us already */
	if (ret < 0 && ret != -ENOENT)
		return ret;
	kc_err_clear(err);
	if ((unlink(a->paths.registration) < 0 && errno != ENOENT) ||
	    (unlink(a->paths.systemid) < 0 && errno != ENOENT))
		return kc_err_set(err, -errno, "cannot remove the registration: %s",
				  strerror(errno));
	return 0;
}

int kc_reg_license(struct kc_agent *a, json_object **out, struct kc_err *err)
{
	struct kc_http_resp resp = {0};
	struct kc_reg old;
	struct kc_http *h;
	char url[1400];
	int ret;

	ret = kc_reg_load(a, &old, err);
	if (ret < 0)
		return ret;
	if (!a->api_url[0])
		return kc_err_set(err, -EINVAL,
				  "no patch server is configured: set PATCH_SERVER in %s",
				  a->paths.conf);
	snprintf(url, sizeof(url), "%s/license?server_id=%s", a->api_url, old.server_id);
	ret = kc_agent_http(a, &h, err);
	if (ret == 0)
		ret = kc_http_get(h, url, REPLY_MAX, &resp, err);
	if (ret < 0)
		return kc_err_prefix(err, "license");
	if (resp.status != 200) {
		ret = server_error(&resp, "license", err);
		kc_http_resp_clear(&resp);
		return ret;
	}
	*out = json_tokener_parse(resp.body);
	kc_http_resp_clear(&resp);
	if (!*out || !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return kc_err_set(err, -EBADMSG,
				  "license: the server's reply is not a JSON object");
	}
	return 0;
}
