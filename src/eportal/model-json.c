// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON encodings of the model's records; see model-json.h. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "eportal/doctor.h"
#include "eportal/model-json.h"
#include "eportal/model.h"

#define LIST_MAX 1024
_Static_assert(sizeof(((struct kc_ep_server *)0)->tags) <= LIST_MAX, "tags fit");
_Static_assert(sizeof(((struct kc_ep_key *)0)->products) <= LIST_MAX, "products fit");

/* "a,b,c" (as the model stores lists) as ["a","b","c"]. */
static struct json_object *split_list(const char *list)
{
	struct json_object *a = json_object_new_array();
	char buf[LIST_MAX];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_object_array_add(a, json_object_new_string(t));
	return a;
}

static void add_str(struct json_object *o, const char *name, const char *v)
{
	json_object_object_add(o, name, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *name, int64_t v)
{
	json_object_object_add(o, name, json_object_new_int64(v));
}

static void add_bool(struct json_object *o, const char *name, int v)
{
	json_object_object_add(o, name, json_object_new_boolean(v));
}

struct json_object *kc_ep_server_json(const void *record)
{
	const struct kc_ep_server *s = record;
	struct json_object *o = json_object_new_object();

	add_str(o, "server_id", s->server_id);
	add_str(o, "hostname", s->hostname);
	add_str(o, "ip", s->ip);
	add_str(o, "key", s->key);
	add_str(o, "feed", s->feed);
	add_str(o, "kernel_id", s->kernel_id);
	add_int(o, "patch_level", s->patch_level);
	add_str(o, "effective_version", s->effective_version);
	add_str(o, "distro", s->distro);
	add_int(o, "uptime", s->uptime);
	add_str(o, "agent_version", s->agent_version);
	add_bool(o, "is_updated", s->is_updated);
	json_object_object_add(o, "latest_level", json_object_new_int64(s->latest_level));
	add_int(o, "registered", s->registered);
	add_int(o, "last_seen", s->last_seen);
	json_object_object_add(o, "tags", split_list(s->tags));
	return o;
}

struct json_object *kc_ep_feed_json(const void *record)
{
	const struct kc_ep_feed *f = record;
	struct json_object *o = json_object_new_object();

	add_str(o, "name", f->name);
	add_bool(o, "auto_update", f->auto_update);
	add_int(o, "deploy_after_hours", f->deploy_after_hours);
	add_str(o, "channel", f->channel);
	return o;
}

struct json_object *kc_ep_key_json(const void *record)
{
	const struct kc_ep_key *k = record;
	struct json_object *o = json_object_new_object();

	add_str(o, "key", k->key);
	add_str(o, "feed", k->feed);
	add_int(o, "server_limit", k->server_limit);
	add_int(o, "servers", k->servers);
	json_object_object_add(o, "products", split_list(k->products));
	add_str(o, "note", k->note);
	add_str(o, "sticky", k->sticky);
	add_str(o, "ip_range", k->ip_range);
	add_int(o, "created", k->created);
	return o;
}

struct json_object *kc_ep_patchset_json(const void *record)
{
	const struct kc_ep_patchset *ps = record;
	struct json_object *o = json_object_new_object();

	add_str(o, "name", ps->name);
	add_str(o, "product", ps->product);
	add_int(o, "released", ps->released);
	add_str(o, "state", ps->state);
	add_int(o, "patches", ps->npatches);
	add_int(o, "deployed", ps->created);
	add_str(o, "origin", ps->origin);
	return o;
}

struct json_object *kc_ep_user_json(const void *record)
{
	const struct kc_ep_user *u = record;
	struct json_object *o = json_object_new_object();

	add_str(o, "name", u->name);
	add_bool(o, "readonly", u->readonly);
	add_int(o, "created", u->created);
	return o;
}

struct json_object *kc_ep_apikey_json(const void *record)
{
	const struct kc_ep_apikey *k = record;
	struct json_object *o = json_object_new_object();

	add_int(o, "id", k->id);
	add_str(o, "prefix", k->prefix);
	add_bool(o, "readonly", k->readonly);
	add_str(o, "note", k->note);
	add_int(o, "created", k->created);
	return o;
}

struct json_object *kc_ep_tag_json(const void *record)
{
	const struct kc_ep_tag *t = record;
	struct json_object *o = json_object_new_object();

	add_str(o, "tag", t->tag);
	add_int(o, "servers", t->servers);
	return o;
}

struct json_object *kc_ep_report_json(const void *record)
{
	const struct kc_ep_report *r = record;
	struct json_object *o = json_object_new_object();

	add_str(o, "id", r->id);
	add_str(o, "server_id", r->server_id);
	add_str(o, "ip", r->ip);
	add_int(o, "received", r->received);
	add_int(o, "size", r->size);
	return o;
}

struct json_object *kc_ep_json_array(const void *records, size_t n, size_t size,
				     kc_ep_json_encoder *encode)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, encode((const char *)records + i * size));
	return a;
}
