// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Agent-facing endpoints: registration (by key, or by address), check-ins,
 * unregistering, license info and the install script. Every agent request
 * that names a server is a check-in: it records the time and the address the
 * request came from. The repository files are served by http.c, not here.
 * Each handler: decode, one model call, encode.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "eportal/http-int.h"
#include "eportal/http-json.h"
#include "eportal/keys.h"
#include "kcare/trust.h"

static struct json_object *products_json(const char *list)
{
	struct json_object *a = json_object_new_array();
	char buf[64];
	char *save = NULL;

	if (!list[0]) {
		for (int i = 0; i < 4; i++)
			json_object_array_add(a, json_object_new_string(kc_ep_products[i]));
		return a;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
		json_object_array_add(a, json_object_new_string(p));
	return a;
}

/* What an agent needs after registering or checking in. */
static struct json_object *agent_view(struct kc_httpd *h, const struct kc_ep_server *s)
{
	struct json_object *o = json_object_new_object();
	char repo[300];

	snprintf(repo, sizeof(repo), "%s/repo/", h->base_url);
	json_object_object_add(o, "server_id", json_object_new_string(s->server_id));
	json_object_object_add(o, "feed", json_object_new_string(s->feed));
	json_object_object_add(o, "products", products_json(s->products));
	json_object_object_add(o, "sticky", json_object_new_string(s->sticky));
	json_object_object_add(o, "is_updated", json_object_new_boolean(s->is_updated));
	json_object_object_add(o, "repo", json_object_new_string(repo));
	return o;
}

/* Decodes the body (may be empty) into @c; the address is the connection's. */
static int decode_report(struct kc_httpd_req *r, struct json_object **o, struct kc_ep_checkin *c,
			 struct kc_err *err)
{
	int ret;

	*o = NULL;
	if (r->len == 0) {
		*o = json_object_new_object();
	} else {
		ret = kc_httpd_json_object(r->body, r->len, o, err);
		if (ret < 0)
			return ret;
	}
	ret = kc_httpd_checkin_decode(*o, c, err);
	c->ip = r->ip[0] ? r->ip : NULL;
	return ret;
}

static void route_register(struct kc_httpd_req *r, struct kc_httpd_reply *rep)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_checkin c;
	struct kc_ep_server s;
	struct json_object *o;
	const char *key = NULL;
	int ret = decode_report(r, &o, &c, &err);

	if (ret == 0)
		ret = kc_httpd_json_str(o, "key", &key, &err);
	if (ret == 0)
		ret = kc_ep_register(r->h->ep, key && key[0] ? key : NULL, &c, &s, &err);
	if (ret == 0) {
		atomic_fetch_add(&r->h->st.registrations, 1);
		kc_httpd_json(rep, 201, agent_view(r->h, &s));
	} else {
		kc_httpd_fail(rep, ret, &err);
	}
	json_object_put(o);
}

static const char *server_id_of(struct kc_httpd_req *r, struct json_object *o)
{
	const char *id = NULL;

	if (o && kc_httpd_json_str(o, "server_id", &id, NULL) == 0 && id)
		return id;
	id = kc_httpd_header(r, "X-Server-Id");
	return id ? id : kc_httpd_arg(r, "server_id");
}

static void route_checkin(struct kc_httpd_req *r, struct kc_httpd_reply *rep)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_checkin c;
	struct kc_ep_server s;
	struct json_object *o;
	const char *id;
	int ret = decode_report(r, &o, &c, &err);

	id = server_id_of(r, o);
	if (ret == 0 && !id)
		ret = kc_err_set(&err, -EINVAL, "'server_id' is missing");
	if (ret == 0)
		ret = kc_ep_checkin(r->h->ep, id, &c, &s, &err);
	if (ret == 0) {
		atomic_fetch_add(&r->h->st.checkins, 1);
		kc_httpd_json(rep, 200, agent_view(r->h, &s));
	} else {
		kc_httpd_fail(rep, ret, &err);
	}
	json_object_put(o);
}

static void route_unregister(struct kc_httpd_req *r, struct kc_httpd_reply *rep)
{
	struct kc_err err = KC_ERR_INIT;
	struct json_object *o = NULL;
	const char *id;
	int ret = 0;

	if (r->len)
		ret = kc_httpd_json_object(r->body, r->len, &o, &err);
	id = server_id_of(r, o);
	if (ret == 0 && !id)
		ret = kc_err_set(&err, -EINVAL, "'server_id' is missing");
	if (ret == 0)
		ret = kc_ep_server_delete(r->h->ep, id, &err);
	if (ret == 0) {
		struct json_object *ok = json_object_new_object();
		json_object_object_add(ok, "unregistered", json_object_new_string(id));
		kc_httpd_json(rep, 200, ok);
	} else {
		kc_httpd_fail(rep, ret, &err);
	}
	json_object_put(o);
}

static void route_license(struct kc_httpd_req *r, struct kc_httpd_reply *rep)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_checkin c = {.patch_level = -2, .uptime = -1};
	struct kc_ep_server s;
	struct kc_ep_key k;
	const char *id = server_id_of(r, NULL);
	int ret;

	if (!id) {
		kc_httpd_error(rep, 400, "invalid-request", "'server_id' is missing");
		return;
	}
	c.ip = r->ip[0] ? r->ip : NULL;
	ret = kc_ep_checkin(r->h->ep, id, &c, &s, &err);
	if (ret == 0)
		ret = kc_ep_key_get(r->h->ep, s.key, &k, &err);
	if (ret < 0) {
		kc_httpd_fail(rep, ret, &err);
		return;
	}
	struct json_object *o = agent_view(r->h, &s);
	json_object_object_add(o, "valid", json_object_new_boolean(1));
	json_object_object_add(o, "server_limit", json_object_new_int64(k.server_limit));
	json_object_object_add(o, "servers", json_object_new_int64(k.servers));
	json_object_object_add(o, "note", json_object_new_string(k.note));
	kc_httpd_json(rep, 200, o);
}

/* Single-quotes @s for sh. */
static void sh_quote(char *out, size_t sz, const char *s)
{
	size_t n = 0;

	out[n++] = '\'';
	for (; *s && n + 6 < sz; s++) {
		if (*s == '\'') {
			memcpy(out + n, "'\\''", 4);
			n += 4;
		} else {
			out[n++] = *s;
		}
	}
	out[n++] = '\'';
	out[n] = '\0';
}

static void route_install(struct kc_httpd_req *r, struct kc_httpd_reply *rep)
{
	struct kc_trust_pubkey pub;
	struct kc_err err = KC_ERR_INIT;
	char path[4096], base[600], key[200] = "", *script = NULL;
	FILE *f;

	if (kc_ep_root_pub_path(r->h->ep, path, sizeof(path), &err) == 0 &&
	    kc_trust_pubkey_load(path, &pub, &err) == 0 && (f = fopen(path, "r"))) {
		if (!fgets(key, sizeof(key), f))
			key[0] = '\0';
		key[strcspn(key, "\n")] = '\0';
		fclose(f);
	}
	sh_quote(base, sizeof(base), r->h->base_url);
	if (asprintf(
		&script,
		"#!/bin/sh\n"
		"# Installs the kcare agent and points it at the eportal %s.\n"
		"# usage: curl -s %s/install-kernelcare | sh   (as root)\n"
		"set -eu\n"
		"BASE=%s\n"
		"ROOT_KEY='%s'\n"
		"CONF=/etc/sysconfig/kcare/kcare.conf\n"
		"[ \"$(id -u)\" = 0 ] || { echo 'install-kernelcare: run as root' >&2; exit 1; }\n"
		"if ! command -v kcarectl >/dev/null 2>&1; then\n"
		"\tif command -v apt-get >/dev/null 2>&1; then apt-get install -y kcare\n"
		"\telif command -v dnf >/dev/null 2>&1; then dnf install -y kcare\n"
		"\telif command -v yum >/dev/null 2>&1; then yum install -y kcare\n"
		"\telse echo 'install-kernelcare: no package manager found; install the kcare "
		"package by hand' >&2\n"
		"\tfi\n"
		"fi\n"
		"mkdir -p /etc/sysconfig/kcare /etc/kcare\n"
		"touch \"$CONF\"\n"
		"set_conf() {\n"
		"\tgrep -v \"^$1=\" \"$CONF\" >\"$CONF.new\" || true\n"
		"\tprintf '%%s=%%s\\n' \"$1\" \"$2\" >>\"$CONF.new\"\n"
		"\tmv \"$CONF.new\" \"$CONF\"\n"
		"}\n"
		"set_conf PATCH_SERVER \"$BASE/repo/\"\n"
		"set_conf REGISTRATION_URL \"$BASE/api/v1\"\n"
		"if [ -n \"$ROOT_KEY\" ]; then\n"
		"\tprintf '%%s\\n' \"$ROOT_KEY\" >/etc/kcare/eportal-root.pub\n"
		"\tif command -v kcarectl >/dev/null 2>&1; then\n"
		"\t\tkcarectl --import-key /etc/kcare/eportal-root.pub || true\n"
		"\tfi\n"
		"fi\n"
		"echo \"kcare agent configured for $BASE; register with: kcarectl --register "
		"KEY\"\n",
		r->h->base_url, r->h->base_url, base, key) < 0) {
		kc_httpd_error(rep, 500, "internal-error", "out of memory");
		return;
	}
	rep->status = 200;
	rep->ctype = "text/x-shellscript";
	rep->body = script;
	rep->len = strlen(script);
}

int kc_httpd_route_agent(struct kc_httpd_req *r, struct kc_httpd_reply *rep)
{
	int get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	int post = !strcmp(r->method, "POST");

	if (!strcmp(r->path, "/install-kernelcare") && get)
		route_install(r, rep);
	else if (!strcmp(r->path, "/api/v1/register") && post)
		route_register(r, rep);
	else if (!strcmp(r->path, "/api/v1/checkin") && post)
		route_checkin(r, rep);
	else if (!strcmp(r->path, "/api/v1/unregister") && post)
		route_unregister(r, rep);
	else if (!strcmp(r->path, "/api/v1/license") && get)
		route_license(r, rep);
	else if (!strcmp(r->path, "/api/v1/doctor") && post)
		kc_httpd_route_doctor_upload(r, rep);
	else if (!strncmp(r->path, "/api/v1/", 8) || !strcmp(r->path, "/install-kernelcare"))
		kc_httpd_error(rep, 405, "method-not-allowed", "method not allowed here");
	else
		return 0;
	return 1;
}
