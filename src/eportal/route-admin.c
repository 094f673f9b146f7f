// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The admin REST API under /admin/api/v1/ (authenticated by http.c: read-only
 * callers only reach GET): servers, feeds, keys and their Nagios status,
 * patchsets and their actions (and archive uploads), users, API keys, tags.
 * Each handler decodes the path, query and body, makes one model call and
 * encodes the result. /metrics is in route-metrics.c.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "eportal/http-int.h"
#include "eportal/http-json.h"
#include "eportal/model-json.h"
#include "eportal/model.h"

#define PREFIX		   "/admin/api/v1/"
#define LIST_LIMIT_DEFAULT 1000
#define LIST_LIMIT_MAX	   10000
#define KC_STR_(x)	   #x
#define KC_STR(x)	   KC_STR_(x)

struct path {
	char seg[4][128];
	int n;
};

/* Splits what follows the prefix into at most 4 segments; 0 when malformed. */
static int split(const char *p, struct path *out)
{
	memset(out, 0, sizeof(*out));
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || n >= sizeof(out->seg[0]) || out->n == 4)
			return 0;
		memcpy(out->seg[out->n++], p, n);
		p += n;
		if (*p == '/')
			p++;
	}
	return out->n > 0;
}

static int is(const struct kc_httpd_req *r, const char *m)
{
	return !strcmp(r->method, m) || (!strcmp(m, "GET") && !strcmp(r->method, "HEAD"));
}

static int body_object(struct kc_httpd_req *r, struct kc_httpd_reply *rep, struct json_object **o)
{
	struct kc_err err = KC_ERR_INIT;
	int ret = kc_httpd_json_object(r->body ? r->body : "", r->len, o, &err);

	if (ret < 0)
		kc_httpd_fail(rep, ret, &err);
	return ret;
}

/* The reply to a model call: its error, or {what: name} with status. */
static void named_reply(struct kc_httpd_reply *rep, int ret, const struct kc_err *err, int status,
			const char *what, const char *name)
{
	struct json_object *o;

	if (ret < 0) {
		kc_httpd_fail(rep, ret, err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, what, json_object_new_string(name));
	kc_httpd_json(rep, status, o);
}

/* The reply to a model call: its error, or the object encoded from its result. */
static void object_reply(struct kc_httpd_reply *rep, int ret, const struct kc_err *err, int status,
			 kc_ep_json_encoder *encode, const void *record)
{
	if (ret < 0)
		kc_httpd_fail(rep, ret, err);
	else
		kc_httpd_json(rep, status, encode(record));
}

/* A listing: {key: [encode(record) for each of the n records of size bytes]}. */
static struct json_object *list_json(const char *key, const void *records, size_t n, size_t size,
				     kc_ep_json_encoder *encode)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, key, kc_ep_json_array(records, n, size, encode));
	return o;
}

/* Optional non-negative integer query argument; -2 when malformed, -1 when absent. */
static int64_t arg_num(struct kc_httpd_req *r, const char *name)
{
	const char *s = kc_httpd_arg(r, name);
	char *end;
	long long v;

	if (!s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < 0)
		return -2;
	return v;
}

/* ---- servers ------------------------------------------------------- */

static void servers(struct kc_httpd_req *r, struct kc_httpd_reply *rep, const struct path *p)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep *ep = r->h->ep;
	int ret;

	if (p->n == 1 && is(r, "GET")) {
		struct kc_ep_server_filter f = KC_EP_SERVER_FILTER_INIT;
		struct kc_ep_server *s = NULL;
		size_t n = 0;
		int64_t total = 0, older = arg_num(r, "checkin_older_than"),
			newer = arg_num(r, "checkin_newer_than"), limit = arg_num(r, "limit"),
			offset = arg_num(r, "offset");
		const char *upd = kc_httpd_arg(r, "is_updated");

		if (older == -2 || newer == -2 || limit == -2 || offset == -2 ||
		    (upd && strcmp(upd, "true") && strcmp(upd, "false"))) {
			kc_httpd_error(rep, 400, "invalid-request",
				       "limit, offset and checkin ages are whole numbers >= 0; "
				       "is_updated is true or false");
			return;
		}
		/* the model reads limit 0 as "no limit": refused, not passed on */
		if (limit == 0 || limit > LIST_LIMIT_MAX) {
			kc_httpd_error(rep, 400, "invalid-request",
				       "limit must be 1 to " KC_STR(LIST_LIMIT_MAX));
			return;
		}
		f.hostname = kc_httpd_arg(r, "hostname");
		f.ip = kc_httpd_arg(r, "ip");
		f.feed = kc_httpd_arg(r, "feed");
		f.key = kc_httpd_arg(r, "key");
		f.tag = kc_httpd_arg(r, "tag");
		f.seen_before = older >= 0 ? ep->now() - older : 0;
		f.seen_after = newer >= 0 ? ep->now() - newer : 0;
		f.is_updated = upd ? !strcmp(upd, "true") : -1;
		f.limit = limit > 0 ? limit : LIST_LIMIT_DEFAULT;
		f.offset = offset >= 0 ? offset : 0;
		ret = kc_ep_server_list(ep, &f, &s, &n, &total, &err);
		if (ret < 0) {
			kc_httpd_fail(rep, ret, &err);
			return;
		}
		struct json_object *o = list_json("servers", s, n, sizeof(*s), kc_ep_server_json);
		free(s);
		json_object_object_add(o, "total", json_object_new_int64(total));
		json_object_object_add(o, "limit", json_object_new_int64(f.limit));
		json_object_object_add(o, "offset", json_object_new_int64(f.offset));
		kc_httpd_json(rep, 200, o);
	} else if (p->n == 1 && is(r, "DELETE")) {
		int64_t age = arg_num(r, "inactive_for");
		if (age < 0) {
			kc_httpd_error(rep, 400, "invalid-request",
				       "DELETE servers needs ?inactive_for=SECONDS");
			return;
		}
		int64_t n = kc_ep_server_clean(ep, ep->now() - age, &err);
		if (n < 0) {
			kc_httpd_fail(rep, (int)n, &err);
			return;
		}
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "deleted", json_object_new_int64(n));
		kc_httpd_json(rep, 200, o);
	} else if (p->n == 1 && is(r, "POST")) {
		struct kc_ep_checkin c;
		struct kc_ep_server s;
		struct json_object *o;
		const char *key = NULL;
		if (body_object(r, rep, &o) < 0)
			return;
		ret = kc_httpd_checkin_decode(o, &c, &err);
		if (ret == 0)
			ret = kc_httpd_json_str(o, "key", &key, &err);
		if (ret == 0 && !key)
			ret = kc_err_set(&err, -EINVAL, "'key' is missing");
		if (ret == 0) {
			const char *ip = NULL;
			ret = kc_httpd_json_str(o, "ip", &ip, &err);
			c.ip = ip;
		}
		if (ret == 0)
			ret = kc_ep_register(ep, key, &c, &s, &err);
		object_reply(rep, ret, &err, 201, kc_ep_server_json, &s);
		json_object_put(o);
	} else if (p->n == 2 && is(r, "GET")) {
		struct kc_ep_server s;
		ret = kc_ep_server_get(ep, p->seg[1], &s, &err);
		object_reply(rep, ret, &err, 200, kc_ep_server_json, &s);
	} else if (p->n == 2 && is(r, "DELETE")) {
		ret = kc_ep_server_delete(ep, p->seg[1], &err);
		named_reply(rep, ret, &err, 200, "deleted", p->seg[1]);
	} else {
		kc_httpd_error(rep, 405, "method-not-allowed", "method not allowed here");
	}
}

/* ---- feeds --------------------------------------------------------- */

static int feed_decode(struct json_object *o, struct kc_ep_feed *f, int add, struct kc_err *err)
{
	const char *name = NULL, *channel = NULL;
	int set = 0, au = 0, r;
	int64_t h = 0;

	r = kc_httpd_json_str(o, "name", &name, err);
	if (r == 0)
		r = kc_httpd_json_str(o, "channel", &channel, err);
	if (r == 0)
		r = kc_httpd_json_bool(o, "auto_update", &au, &set, err);
	f->auto_update = set ? au : (add ? 0 : -1);
	if (r == 0)
		r = kc_httpd_json_int(o, "deploy_after_hours", &h, &set, err);
	f->deploy_after_hours = set ? h : (add ? 0 : -1);
	if (r == 0 && set && h < 0)
		r = kc_err_set(err, -EINVAL, "'deploy_after_hours' must not be negative");
	if (r == 0 && add && !name)
		r = kc_err_set(err, -EINVAL, "'name' is missing");
	/* a longer name would be cut into another, valid one below */
	if (r == 0 && name && strlen(name) > KC_EP_NAME_MAX)
		r = kc_err_set(err, -EINVAL, "'name' is longer than %d characters", KC_EP_NAME_MAX);
	if (r == 0 && channel && strlen(channel) >= sizeof(f->channel))
		r = kc_err_set(err, -EINVAL, "invalid channel");
	if (r == 0) {
		if (name)
			snprintf(f->name, sizeof(f->name), "%s", name);
		snprintf(f->channel, sizeof(f->channel), "%s", channel ? channel : "");
	}
	return r;
}

static void feeds(struct kc_httpd_req *r, struct kc_httpd_reply *rep, const struct path *p)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep *ep = r->h->ep;
	struct kc_ep_feed f = {0};
	struct json_object *o;
	int ret;

	if (p->n == 1 && is(r, "GET")) {
		struct kc_ep_feed *fs = NULL;
		size_t n = 0;
		ret = kc_ep_feed_list(ep, &fs, &n, &err);
		if (ret < 0)
			kc_httpd_fail(rep, ret, &err);
		else
			kc_httpd_json(rep, 200,
				      list_json("feeds", fs, n, sizeof(*fs), kc_ep_feed_json));
		free(fs);
	} else if (p->n == 1 && is(r, "POST")) {
		if (body_object(r, rep, &o) < 0)
			return;
		ret = feed_decode(o, &f, 1, &err);
		json_object_put(o);
		if (ret == 0)
			ret = kc_ep_feed_add(ep, &f, &err);
		if (ret == 0)
			ret = kc_ep_feed_get(ep, f.name, &f, &err);
		object_reply(rep, ret, &err, 201, kc_ep_feed_json, &f);
	} else if (p->n == 2 && is(r, "GET")) {
		ret = kc_ep_feed_get(ep, p->seg[1], &f, &err);
		object_reply(rep, ret, &err, 200, kc_ep_feed_json, &f);
	} else if (p->n == 2 && (is(r, "PATCH") || is(r, "PUT"))) {
		if (body_object(r, rep, &o) < 0)
			return;
		ret = feed_decode(o, &f, 0, &err);
		json_object_put(o);
		snprintf(f.name, sizeof(f.name), "%.64s", p->seg[1]);
		if (ret == 0)
			ret = kc_ep_feed_change(ep, &f, &err);
		if (ret == 0)
			ret = kc_ep_feed_get(ep, f.name, &f, &err);
		object_reply(rep, ret, &err, 200, kc_ep_feed_json, &f);
	} else if (p->n == 2 && is(r, "DELETE")) {
		ret = kc_ep_feed_delete(ep, p->seg[1], &err);
		named_reply(rep, ret, &err, 200, "deleted", p->seg[1]);
	} else {
		kc_httpd_error(rep, 405, "method-not-allowed", "method not allowed here");
	}
}

/* ---- keys ---------------------------------------------------------- */

static void key_status(struct kc_httpd_req *r, struct kc_httpd_reply *rep, const char *key)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL"};
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_key_status s;
	const char *fmt = kc_httpd_arg(r, "format");
	char text[512];
	int ret = kc_ep_key_status(r->h->ep, key, r->h->o.inactive_after, &s, &err);

	if (ret < 0) {
		kc_httpd_fail(rep, ret, &err);
		return;
	}
	snprintf(text, sizeof(text),
		 "%s - key %.32s: %" PRId64 " servers, %" PRId64 " updated, %" PRId64
		 " outdated, %" PRId64 " inactive, limit %" PRId64 " | servers=%" PRId64
		 " updated=%" PRId64 " outdated=%" PRId64 " inactive=%" PRId64 "\n",
		 names[s.code], key, s.servers, s.updated, s.outdated, s.inactive, s.server_limit,
		 s.servers, s.updated, s.outdated, s.inactive);
	if (fmt && !strcmp(fmt, "json")) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "status", json_object_new_string(names[s.code]));
		json_object_object_add(o, "code", json_object_new_int(s.code));
		json_object_object_add(o, "servers", json_object_new_int64(s.servers));
		json_object_object_add(o, "updated", json_object_new_int64(s.updated));
		json_object_object_add(o, "outdated", json_object_new_int64(s.outdated));
		json_object_object_add(o, "inactive", json_object_new_int64(s.inactive));
		json_object_object_add(o, "server_limit", json_object_new_int64(s.server_limit));
		text[strcspn(text, "|")] = '\0';
		json_object_object_add(o, "text", json_object_new_string(text));
		kc_httpd_json(rep, 200, o);
	} else {
		kc_httpd_text(rep, 200, "text/plain", text);
	}
}

static void keys(struct kc_httpd_req *r, struct kc_httpd_reply *rep, const struct path *p)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep *ep = r->h->ep;
	struct kc_ep_key k;
	struct json_object *o;
	unsigned mask;
	int ret;

	if (p->n == 1 && is(r, "GET")) {
		struct kc_ep_key *ks = NULL;
		size_t n = 0;
		ret = kc_ep_key_list(ep, &ks, &n, &err);
		if (ret < 0)
			kc_httpd_fail(rep, ret, &err);
		else
			kc_httpd_json(rep, 200,
				      list_json("keys", ks, n, sizeof(*ks), kc_ep_key_json));
		free(ks);
	} else if (p->n == 1 && is(r, "POST")) {
		if (body_object(r, rep, &o) < 0)
			return;
		ret = kc_httpd_key_decode(o, &k, &mask, &err);
		json_object_put(o);
		if (ret == 0)
			ret = kc_ep_key_add(ep, &k, &err);
		if (ret == 0)
			ret = kc_ep_key_get(ep, k.key, &k, &err);
		object_reply(rep, ret, &err, 201, kc_ep_key_json, &k);
	} else if (p->n == 2 && is(r, "GET")) {
		ret = kc_ep_key_get(ep, p->seg[1], &k, &err);
		object_reply(rep, ret, &err, 200, kc_ep_key_json, &k);
	} else if (p->n == 2 && (is(r, "PATCH") || is(r, "PUT"))) {
		if (body_object(r, rep, &o) < 0)
			return;
		ret = kc_httpd_key_decode(o, &k, &mask, &err);
		json_object_put(o);
		snprintf(k.key, sizeof(k.key), "%.32s", p->seg[1]);
		if (ret == 0)
			ret = kc_ep_key_change(ep, &k, mask, &err);
		if (ret == 0)
			ret = kc_ep_key_get(ep, k.key, &k, &err);
		object_reply(rep, ret, &err, 200, kc_ep_key_json, &k);
	} else if (p->n == 2 && is(r, "DELETE")) {
		ret = kc_ep_key_delete(ep, p->seg[1], &err);
		named_reply(rep, ret, &err, 200, "deleted", p->seg[1]);
	} else if (p->n == 3 && !strcmp(p->seg[2], "status") && is(r, "GET")) {
		key_status(r, rep, p->seg[1]);
	} else {
		kc_httpd_error(rep, 405, "method-not-allowed", "method not allowed here");
	}
}

/* ---- patchsets ----------------------------------------------------- */

static void patchsets(struct kc_httpd_req *r, struct kc_httpd_reply *rep, const struct path *p)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep *ep = r->h->ep;
	const char *feed = kc_httpd_arg(r, "feed");
	int ret;

	if (p->n == 1 && is(r, "GET")) {
		struct kc_ep_patchset *ps = NULL;
		size_t n = 0;
		ret = kc_ep_patchset_list(ep, feed, kc_httpd_arg(r, "product"), &ps, &n, &err);
		if (ret < 0) {
			kc_httpd_fail(rep, ret, &err);
			return;
		}
		struct json_object *o =
		    list_json("patchsets", ps, n, sizeof(*ps), kc_ep_patchset_json);
		free(ps);
		json_object_object_add(o, "feed", json_object_new_string(feed ? feed : "main"));
		kc_httpd_json(rep, 200, o);
	} else if (p->n == 1 && is(r, "POST")) {
		const char *dis = kc_httpd_arg(r, "disabled");
		char name[KC_EP_NAME_MAX + 1];
		ret = kc_ep_deploy_mem(ep, r->body ? r->body : "", r->len,
				       kc_httpd_arg(r, "product"), feed,
				       dis && strcmp(dis, "0") && strcmp(dis, "false"), name, &err);
		if (ret == 0)
			atomic_fetch_add(&r->h->st.deploys, 1);
		named_reply(rep, ret, &err, 201, "deployed", name);
	} else if (p->n == 3 && is(r, "POST")) {
		enum kc_ep_ps_action a;
		struct json_object *o = NULL;
		const char *bfeed = NULL;
		if (kc_ep_ps_action_parse(p->seg[2], &a) < 0) {
			kc_httpd_error(rep, 404, "not-found",
				       "unknown action (enable, disable, enable-up-to, "
				       "undeploy-down-to, block, undeploy)");
			return;
		}
		if (r->len) {
			if (body_object(r, rep, &o) < 0)
				return;
			if ((ret = kc_httpd_json_str(o, "feed", &bfeed, &err)) < 0) {
				json_object_put(o);
				kc_httpd_fail(rep, ret, &err);
				return;
			}
		}
		ret = kc_ep_patchset_action(ep, bfeed ? bfeed : feed, p->seg[1], a, &err);
		json_object_put(o);
		named_reply(rep, ret, &err, 200, p->seg[2], p->seg[1]);
	} else {
		kc_httpd_error(rep, 405, "method-not-allowed", "method not allowed here");
	}
}

/* ---- users, api keys, tags ----------------------------------------- */

static void users(struct kc_httpd_req *r, struct kc_httpd_reply *rep, const struct path *p)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep *ep = r->h->ep;
	struct json_object *o;
	int ret;

	if (p->n == 1 && is(r, "GET")) {
		struct kc_ep_user *u = NULL;
		size_t n = 0;
		ret = kc_ep_user_list(ep, &u, &n, &err);
		if (ret < 0)
			kc_httpd_fail(rep, ret, &err);
		else
			kc_httpd_json(rep, 200,
				      list_json("users", u, n, sizeof(*u), kc_ep_user_json));
		free(u);
		return;
	}
	if ((p->n == 1 && is(r, "POST")) || (p->n == 2 && (is(r, "PATCH") || is(r, "PUT")))) {
		const char *name = NULL, *pw = NULL;
		int ro = 0, set = 0;
		if (body_object(r, rep, &o) < 0)
			return;
		ret = kc_httpd_json_str(o, "name", &name, &err);
		if (ret == 0)
			ret = kc_httpd_json_str(o, "password", &pw, &err);
		if (ret == 0)
			ret = kc_httpd_json_bool(o, "readonly", &ro, &set, &err);
		if (ret == 0 && !pw)
			ret = kc_err_set(&err, -EINVAL, "'password' is missing");
		if (ret == 0 && p->n == 1 && !name)
			ret = kc_err_set(&err, -EINVAL, "'name' is missing");
		if (ret == 0)
			ret = p->n == 1 ? kc_ep_user_add(ep, name, pw, ro, &err)
					: kc_ep_user_passwd(ep, p->seg[1], pw, &err);
		named_reply(rep, ret, &err, p->n == 1 ? 201 : 200,
			    p->n == 1 ? "created" : "changed", p->n == 1 ? name : p->seg[1]);
		json_object_put(o);
		return;
	}
	if (p->n == 2 && is(r, "DELETE")) {
		ret = kc_ep_user_delete(ep, p->seg[1], &err);
		named_reply(rep, ret, &err, 200, "deleted", p->seg[1]);
		return;
	}
	kc_httpd_error(rep, 405, "method-not-allowed", "method not allowed here");
}

static void api_keys(struct kc_httpd_req *r, struct kc_httpd_reply *rep, const struct path *p)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep *ep = r->h->ep;
	struct json_object *o;
	int ret;

	if (p->n == 1 && is(r, "GET")) {
		struct kc_ep_apikey *k = NULL;
		size_t n = 0;
		ret = kc_ep_apikey_list(ep, &k, &n, &err);
		if (ret < 0)
			kc_httpd_fail(rep, ret, &err);
		else
			kc_httpd_json(rep, 200,
				      list_json("api_keys", k, n, sizeof(*k), kc_ep_apikey_json));
		free(k);
	} else if (p->n == 1 && is(r, "POST")) {
		char token[KC_EP_APIKEY_LEN + 1];
		const char *note = NULL;
		int ro = 0, set = 0;
		if (body_object(r, rep, &o) < 0)
			return;
		ret = kc_httpd_json_bool(o, "readonly", &ro, &set, &err);
		if (ret == 0)
			ret = kc_httpd_json_str(o, "note", &note, &err);
		if (ret == 0)
			ret = kc_ep_apikey_add(ep, ro, note, token, &err);
		json_object_put(o);
		named_reply(rep, ret, &err, 201, "api_key", token);
	} else if (p->n == 2 && is(r, "DELETE")) {
		char *end;
		long long id = strtoll(p->seg[1], &end, 10);
		ret = *end || id < 0 ? kc_err_set(&err, -ENOENT, "no api key '%s'", p->seg[1])
				     : kc_ep_apikey_delete(ep, id, &err);
		named_reply(rep, ret, &err, 200, "deleted", p->seg[1]);
	} else {
		kc_httpd_error(rep, 405, "method-not-allowed", "method not allowed here");
	}
}

static void tags(struct kc_httpd_req *r, struct kc_httpd_reply *rep, const struct path *p)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_tag *t = NULL;
	size_t n = 0;
	int ret;

	if (p->n != 1 || !is(r, "GET")) {
		kc_httpd_error(rep, 405, "method-not-allowed", "method not allowed here");
		return;
	}
	ret = kc_ep_tag_list(r->h->ep, &t, &n, &err);
	if (ret < 0)
		kc_httpd_fail(rep, ret, &err);
	else
		kc_httpd_json(rep, 200, list_json("tags", t, n, sizeof(*t), kc_ep_tag_json));
	free(t);
}

int kc_httpd_route_admin(struct kc_httpd_req *r, struct kc_httpd_reply *rep)
{
	struct path p;

	if (strncmp(r->path, PREFIX, strlen(PREFIX)) || !split(r->path + strlen(PREFIX), &p))
		return 0;
	/* no name of the model is longer: a longer one must not be truncated into another */
	if (p.n > 1 && strlen(p.seg[1]) > KC_EP_NAME_MAX) {
		kc_httpd_error(rep, 404, "not-found", "no such object");
		return 1;
	}
	if (!strcmp(p.seg[0], "servers"))
		servers(r, rep, &p);
	else if (!strcmp(p.seg[0], "feeds"))
		feeds(r, rep, &p);
	else if (!strcmp(p.seg[0], "keys"))
		keys(r, rep, &p);
	else if (!strcmp(p.seg[0], "patchsets"))
		patchsets(r, rep, &p);
	else if (!strcmp(p.seg[0], "users"))
		users(r, rep, &p);
	else if (!strcmp(p.seg[0], "api-keys"))
		api_keys(r, rep, &p);
	else if (!strcmp(p.seg[0], "tags"))
		tags(r, rep, &p);
	else if (!strcmp(p.seg[0], "doctor") && p.n <= 2)
		kc_httpd_route_doctor_admin(r, rep, p.n == 2 ? p.seg[1] : NULL);
	else
		return 0;
	return 1;
}
