// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Request body and path decoding for the HTTP layer (http-json.h). Everything
 * here handles bytes from the network: sizes and depths are bounded, types are
 * checked member by member, and strings are handed on only after the model's
 * own validation (kc_ep_checkin_validate, kc_ep_key_validate) runs on them.
 */
#include <json-c/json.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "eportal/http-json.h"

int kc_httpd_json_object(const char *buf, size_t len, struct json_object **out, struct kc_err *err)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error e;

	if (len == 0)
		return kc_err_set(err, -EBADMSG, "empty body (a JSON object is expected)");
	if (len > 16 * 1024 * 1024 || memchr(buf, '\0', len))
		return kc_err_set(err, -EBADMSG, "body is not JSON text");
	tok = json_tokener_new_ex(KC_HTTPD_JSON_DEPTH);
	if (!tok)
		return kc_err_set(err, -ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	e = json_tokener_get_error(tok);
	if (e == json_tokener_success && json_tokener_get_parse_end(tok) < len) {
		/* trailing bytes other than white space are refused */
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
			if (!strchr(" \t\r\n", buf[i])) {
				e = json_tokener_error_parse_unexpected;
				break;
			}
	}
	json_tokener_free(tok);
	if (e != json_tokener_success || !o) {
		json_object_put(o);
		return kc_err_set(err, -EBADMSG, "malformed JSON: %s",
				  e == json_tokener_continue ? "unexpected end"
							     : json_tokener_error_desc(e));
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return kc_err_set(err, -EBADMSG, "body must be a JSON object");
	}
	*out = o;
	return 0;
}

int kc_httpd_json_str(struct json_object *o, const char *name, const char **v, struct kc_err *err)
{
	struct json_object *m;

	*v = NULL;
	if (!json_object_object_get_ex(o, name, &m) || json_object_is_type(m, json_type_null))
		return 0;
	if (!json_object_is_type(m, json_type_string))
		return kc_err_set(err, -EINVAL, "'%s' must be a string", name);
	*v = json_object_get_string(m);
	if (strlen(*v) != (size_t)json_object_get_string_len(m))
		return kc_err_set(err, -EINVAL, "'%s' holds a NUL character", name);
	return 0;
}

int kc_httpd_json_int(struct json_object *o, const char *name, int64_t *v, int *set,
		      struct kc_err *err)
{
	struct json_object *m;

	if (set)
		*set = 0;
	if (!json_object_object_get_ex(o, name, &m) || json_object_is_type(m, json_type_null))
		return 0;
	if (!json_object_is_type(m, json_type_int))
		return kc_err_set(err, -EINVAL, "'%s' must be an integer", name);
	errno = 0;
	*v = json_object_get_int64(m);
	if (errno == EINVAL)
		return kc_err_set(err, -EINVAL, "'%s' is out of range", name);
	if (set)
		*set = 1;
	return 0;
}

int kc_httpd_json_bool(struct json_object *o, const char *name, int *v, int *set,
		       struct kc_err *err)
{
	struct json_object *m;

	if (set)
		*set = 0;
	if (!json_object_object_get_ex(o, name, &m) || json_object_is_type(m, json_type_null))
		return 0;
	if (json_object_is_type(m, json_type_boolean))
		*v = json_object_get_boolean(m);
	else if (json_object_is_type(m, json_type_int) &&
		 (json_object_get_int64(m) == 0 || json_object_get_int64(m) == 1))
		*v = (int)json_object_get_int64(m);
	else
		return kc_err_set(err, -EINVAL, "'%s' must be true or false", name);
	if (set)
		*set = 1;
	return 0;
}

int kc_httpd_checkin_decode(struct json_object *o, struct kc_ep_checkin *c, struct kc_err *err)
{
	static const char *const names[] = {"hostname", "kernel_id", "effective_version", "distro",
					    "agent_version"};
	const char **dst[] = {&c->hostname, &c->kernel_id, &c->effective_version, &c->distro,
			      &c->agent_version};
	struct json_object *tags;
	int r = 0, set;

	memset(c, 0, sizeof(*c));
	c->patch_level = -2;
	c->uptime = -1;
	for (size_t i = 0; r == 0 && i < sizeof(names) / sizeof(names[0]); i++)
		r = kc_httpd_json_str(o, names[i], dst[i], err);
	if (r == 0)
		r = kc_httpd_json_int(o, "patch_level", &c->patch_level, &set, err);
	if (r == 0 && set && c->patch_level < -1)
		r = kc_err_set(err, -EINVAL, "'patch_level' must be -1 or more");
	if (r == 0)
		r = kc_httpd_json_int(o, "uptime", &c->uptime, &set, err);
	if (r == 0 && set && c->uptime < 0)
		r = kc_err_set(err, -EINVAL, "'uptime' must not be negative");
	if (r == 0 && json_object_object_get_ex(o, "tags", &tags) &&
	    !json_object_is_type(tags, json_type_null)) {
		if (!json_object_is_type(tags, json_type_array))
			return kc_err_set(err, -EINVAL, "'tags' must be an array of strings");
		size_t n = json_object_array_length(tags);
		if (n > KC_EP_MAX_TAGS)
			return kc_err_set(err, -EINVAL, "too many tags (at most %d)",
					  KC_EP_MAX_TAGS);
		for (size_t i = 0; i < n; i++) {
			struct json_object *t = json_object_array_get_idx(tags, i);
			if (!json_object_is_type(t, json_type_string))
				return kc_err_set(err, -EINVAL,
						  "'tags' must be an array of strings");
			c->tags[i] = json_object_get_string(t);
			if (strlen(c->tags[i]) != (size_t)json_object_get_string_len(t))
				return kc_err_set(err, -EINVAL, "a tag holds a NUL character");
		}
		c->ntags = n;
		c->tags_set = 1;
	}
	if (r == 0)
		r = kc_ep_checkin_validate(c, err);
	return r;
}

static int copy_str(struct json_object *o, const char *name, char *dst, size_t sz, unsigned bit,
		    unsigned *mask, struct kc_err *err)
{
	const char *v;
	int r = kc_httpd_json_str(o, name, &v, err);

	if (r < 0 || !v)
		return r;
	if (strlen(v) >= sz)
		return kc_err_set(err, -EINVAL, "'%s' is too long", name);
	snprintf(dst, sz, "%s", v);
	*mask |= bit;
	return 0;
}

int kc_httpd_key_decode(struct json_object *o, struct kc_ep_key *k, unsigned *mask,
			struct kc_err *err)
{
	struct json_object *prods;
	unsigned dummy = 0;
	int r, set = 0;

	memset(k, 0, sizeof(*k));
	*mask = 0;
	r = copy_str(o, "key", k->key, sizeof(k->key), 0, &dummy, err);
	if (r == 0)
		r = copy_str(o, "feed", k->feed, sizeof(k->feed), KC_EP_KEY_FEED, mask, err);
	if (r == 0)
		r = copy_str(o, "note", k->note, sizeof(k->note), KC_EP_KEY_NOTE, mask, err);
	if (r == 0)
		r = copy_str(o, "sticky", k->sticky, sizeof(k->sticky), KC_EP_KEY_STICKY, mask,
			     err);
	if (r == 0)
		r = copy_str(o, "ip_range", k->ip_range, sizeof(k->ip_range), KC_EP_KEY_IPRANGE,
			     mask, err);
	if (r == 0)
		r = kc_httpd_json_int(o, "server_limit", &k->server_limit, &set, err);
	if (r == 0 && set)
		*mask |= KC_EP_KEY_LIMIT;
	if (r == 0 && json_object_object_get_ex(o, "products", &prods) &&
	    !json_object_is_type(prods, json_type_null)) {
		if (!json_object_is_type(prods, json_type_array))
			return kc_err_set(err, -EINVAL, "'products' must be an array of names");
		for (size_t i = 0; i < json_object_array_length(prods); i++) {
			struct json_object *p = json_object_array_get_idx(prods, i);
			const char *s = json_object_get_string(p);
			size_t n = strlen(k->products);
			if (!json_object_is_type(p, json_type_string) || !kc_ep_product_valid(s))
				return kc_err_set(err, -EINVAL,
						  "'products' holds an unknown product (kernel, "
						  "libs, qemu, db)");
			if (strstr(k->products, s))
				continue;
			snprintf(k->products + n, sizeof(k->products) - n, "%s%s", n ? "," : "", s);
		}
		*mask |= KC_EP_KEY_PRODUCTS;
	}
	if (r == 0)
		r = kc_ep_key_validate(k, *mask, err);
	return r;
}

int kc_httpd_repo_path_ok(const char *path)
{
	int depth = 0;
	size_t comp = 0;

	if (!path || !*path || strlen(path) > 255)
		return 0;
	for (const char *p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			if (comp == 0 || p[-(long)comp] == '.')
				return 0;
			if (++depth > 4)
				return 0;
			if (*p == '\0')
				return 1;
			comp = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return 0;
		comp++;
	}
}

int kc_httpd_basic_decode(const char *hdr, char *user, char *pass, struct kc_err *err)
{
	unsigned char raw[KC_HTTPD_BASIC_MAX + 1];
	const char *b64, *end;
	size_t n = 0, len;
	char *colon;

	if (strncasecmp(hdr, "Basic", 5) || (hdr[5] != ' ' && hdr[5] != '\t'))
		return 1;
	for (b64 = hdr + 6; *b64 == ' ' || *b64 == '\t'; b64++)
		;
	len = strlen(b64);
	while (len && (b64[len - 1] == ' ' || b64[len - 1] == '\t'))
		len--;
	if (len > (KC_HTTPD_BASIC_MAX + 2) / 3 * 4)
		return kc_err_set(err, -E2BIG, "basic-auth credentials are too long");
	if (sodium_base642bin(raw, sizeof(raw) - 1, b64, len, NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + len)
		return kc_err_set(err, -EBADMSG, "basic-auth credentials are not base64");
	if (n > KC_HTTPD_BASIC_MAX)
		return kc_err_set(err, -E2BIG, "basic-auth credentials are too long");
	/* a NUL would end the name or password early: another credential than sent */
	if (memchr(raw, '\0', n))
		return kc_err_set(err, -EBADMSG, "basic-auth credentials hold a NUL byte");
	raw[n] = '\0';
	colon = strchr((char *)raw, ':');
	if (!colon) {
		sodium_memzero(raw, sizeof(raw));
		return kc_err_set(err, -EBADMSG, "basic-auth credentials have no ':'");
	}
	*colon = '\0';
	memcpy(user, raw, (size_t)(colon - (char *)raw) + 1);
	memcpy(pass, colon + 1, n - (size_t)(colon + 1 - (char *)raw) + 1);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}
