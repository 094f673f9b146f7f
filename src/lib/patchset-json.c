// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * patchset.json both ways, shared by the writer and the reader: a strict
 * parser (exact types, known keys only, canonical release time, the
 * document and nothing but whitespace after it) that ends with
 * kc_patchset_meta_validate(), and an encoder with a fixed key order so
 * that the same metadata always gives the same bytes.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "lib/patchset-int.h"

#define PS_JSON_MAX   (16u << 20) /* refuse documents above this whatever the caller's limit */
#define PS_JSON_DEPTH 8		  /* object > patches array > patch > cves array */

static const char *const ps_top_keys[] = {"format",	 "name",    "product", "released",
					  "description", "patches", NULL};
static const char *const ps_patch_keys[] = {"file",
					    "length",
					    "sha256",
					    "kind",
					    "target_name",
					    "build_id",
					    "kernel_id",
					    "id",
					    "level",
					    "cves",
					    "description",
					    "release",
					    "effective_version",
					    "package",
					    "package_version",
					    NULL};

/* Refuses keys outside @known (plus the kpatch-* keys when @kpatch), except "x-..." ones. */
static int ps_known_keys(struct json_object *o, const char *const *known, int kpatch,
			 const char *where, struct kc_err *err)
{
	json_object_object_foreach(o, key, val)
	{
		int ok = !strncmp(key, "x-", 2);

		(void)val;
		for (const char *const *k = known; !ok && *k; k++)
			ok = !strcmp(key, *k);
		for (int f = 0; !ok && kpatch && f < KC_KPATCH_NFIELDS; f++)
			ok = !strcmp(key, kc_patchset_kpatch_key(f));
		if (!ok)
			return kc_err_set(
			    err, -EBADMSG, "%sunknown key '%s'", where,
			    ps_quote(key, (char[PS_QUOTE_MAX + 8]){0}, PS_QUOTE_MAX + 8));
	}
	return 0;
}

/* A string member; *out is NULL (and 0 returned) when absent and !@required. */
static int ps_get_str(struct json_object *o, const char *key, int required, char **out,
		      const char *where, struct kc_err *err)
{
	struct json_object *v;
	const char *s;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v)) {
		if (!required)
			return 0;
		return kc_err_set(err, -EBADMSG, "%smissing key '%s'", where, key);
	}
	if (!json_object_is_type(v, json_type_string))
		return kc_err_set(err, -EBADMSG, "%skey '%s': not a string", where, key);
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return kc_err_set(err, -EBADMSG, "%skey '%s': string holds a NUL character", where,
				  key);
	*out = strdup(s);
	if (!*out)
		return kc_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int ps_get_uint(struct json_object *o, const char *key, uint64_t max, uint64_t *out,
		       const char *where, struct kc_err *err)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return kc_err_set(err, -EBADMSG, "%smissing key '%s'", where, key);
	if (!json_object_is_type(v, json_type_int))
		return kc_err_set(err, -EBADMSG, "%skey '%s': not an integer", where, key);
	errno = 0;
	n = json_object_get_int64(v);
	if (n < 0 || errno || (uint64_t)n > max)
		return kc_err_set(err, -EBADMSG, "%skey '%s': out of range (0..%llu)", where, key,
				  (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

static int ps_parse_patch(struct json_object *o, struct kc_patchset_patch *p, size_t i,
			  struct kc_err *err)
{
	char where[48], *kind = NULL, *sha = NULL;
	struct json_object *cves;
	uint64_t n;
	int ret;

	snprintf(where, sizeof(where), "patches[%zu]: ", i);
	if (!json_object_is_type(o, json_type_object))
		return kc_err_set(err, -EBADMSG, "%snot an object", where);
	ret = ps_known_keys(o, ps_patch_keys, 1, where, err);
	if (!ret)
		ret = ps_get_str(o, "file", 1, &p->file, where, err);
	if (!ret)
		ret = ps_get_uint(o, "length", PS_LENGTH_MAX, &p->length, where, err);
	if (!ret)
		ret = ps_get_str(o, "sha256", 1, &sha, where, err);
	if (!ret && strlen(sha) != KC_PATCHSET_SHA256_HEX)
		ret = kc_err_set(err, -EBADMSG, "%skey 'sha256': not 64 hex digits", where);
	if (!ret)
		memcpy(p->sha256, sha, KC_PATCHSET_SHA256_HEX + 1);
	if (!ret)
		ret = ps_get_str(o, "kind", 1, &kind, where, err);
	if (!ret) {
		if (!strcmp(kind, "user"))
			p->kind = KC_PATCHSET_USER;
		else if (!strcmp(kind, "kernel"))
			p->kind = KC_PATCHSET_MODULE;
		else
			ret = kc_err_set(err, -EBADMSG, "%skey 'kind': want \"user\" or \"kernel\"",
					 where);
	}
	if (!ret)
		ret = ps_get_str(o, "target_name", 1, &p->target_name, where, err);
	if (!ret)
		ret = ps_get_str(o, "build_id", 0, &p->build_id, where, err);
	if (!ret)
		ret = ps_get_str(o, "kernel_id", 0, &p->kernel_id, where, err);
	if (!ret)
		ret = ps_get_str(o, "id", 1, &p->id, where, err);
	if (!ret)
		ret = ps_get_uint(o, "level", UINT32_MAX, &n, where, err);
	if (!ret)
		p->level = (uint32_t)n;
	if (!ret)
		ret = ps_get_str(o, "description", 1, &p->description, where, err);
	if (!ret)
		ret = ps_get_str(o, "release", 0, &p->release, where, err);
	if (!ret)
		ret = ps_get_str(o, "effective_version", 0, &p->effective, where, err);
	if (!ret)
		ret = ps_get_str(o, "package", 0, &p->package, where, err);
	if (!ret)
		ret = ps_get_str(o, "package_version", 0, &p->package_version, where, err);
	for (int f = 0; !ret && f < KC_KPATCH_NFIELDS; f++)
		ret = ps_get_str(o, kc_patchset_kpatch_key(f), 0, &p->kpatch[f], where, err);
	if (!ret && !json_object_object_get_ex(o, "cves", &cves))
		ret = kc_err_set(err, -EBADMSG, "%smissing key 'cves'", where);
	if (!ret && !json_object_is_type(cves, json_type_array))
		ret = kc_err_set(err, -EBADMSG, "%skey 'cves': not an array", where);
	if (!ret && json_object_array_length(cves) > PS_CVES_MAX)
		ret = kc_err_set(err, -EBADMSG, "%skey 'cves': more than %d entries", where,
				 PS_CVES_MAX);
	if (!ret && json_object_array_length(cves)) {
		p->cves = calloc(json_object_array_length(cves), sizeof(*p->cves));
		if (!p->cves)
			ret = kc_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t c = 0; !ret && c < json_object_array_length(cves); c++) {
		struct json_object *v = json_object_array_get_idx(cves, c);

		if (!json_object_is_type(v, json_type_string) ||
		    (size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v))) {
			ret = kc_err_set(err, -EBADMSG, "%skey 'cves': entry %zu is not a string",
					 where, c);
			break;
		}
		p->cves[c] = strdup(json_object_get_string(v));
		if (!p->cves[c])
			ret = kc_err_set(err, -ENOMEM, "out of memory");
		else
			p->ncves++;
	}
	free(kind);
	free(sha);
	return ret;
}

static int ps_parse_doc(struct json_object *doc, struct kc_patchset_meta *m, struct kc_err *err)
{
	struct json_object *patches;
	char *product = NULL, *released = NULL, canon[KC_PATCHSET_TIME_LEN + 1];
	uint64_t n;
	int ret;

	if (!json_object_is_type(doc, json_type_object))
		return kc_err_set(err, -EBADMSG, "not a JSON object");
	ret = ps_get_uint(doc, "format", UINT32_MAX, &n, "", err);
	if (ret < 0)
		return ret;
	m->format = (uint32_t)n;
	if (m->format != KC_PATCHSET_FORMAT)
		return kc_err_set(err, -EPROTONOSUPPORT, "format %u is not supported (want %u)",
				  m->format, KC_PATCHSET_FORMAT);
	ret = ps_known_keys(doc, ps_top_keys, 0, "", err);
	if (!ret)
		ret = ps_get_str(doc, "name", 1, &m->name, "", err);
	if (!ret)
		ret = ps_get_str(doc, "product", 1, &product, "", err);
	if (!ret && kc_patchset_product_parse(product, &m->product) < 0)
		ret = kc_err_set(err, -EBADMSG, "key 'product': unknown product '%s'",
				 ps_quote(product, (char[PS_QUOTE_MAX + 8]){0}, PS_QUOTE_MAX + 8));
	if (!ret)
		ret = ps_get_str(doc, "released", 1, &released, "", err);
	if (!ret && (kc_patchset_time_parse(released, &m->released, NULL) < 0 ||
		     strcmp(released, kc_patchset_time_format(m->released, canon, sizeof(canon)))))
		ret = kc_err_set(err, -EBADMSG,
				 "key 'released': want a UTC time YYYY-MM-DDTHH:MM:SSZ");
	if (!ret)
		ret = ps_get_str(doc, "description", 1, &m->description, "", err);
	if (!ret && !json_object_object_get_ex(doc, "patches", &patches))
		ret = kc_err_set(err, -EBADMSG, "missing key 'patches'");
	if (!ret && !json_object_is_type(patches, json_type_array))
		ret = kc_err_set(err, -EBADMSG, "key 'patches': not an array");
	if (!ret && json_object_array_length(patches) > PS_PATCHES_MAX)
		ret = kc_err_set(err, -EBADMSG, "key 'patches': more than %d entries",
				 PS_PATCHES_MAX);
	if (!ret && json_object_array_length(patches)) {
		m->patches = calloc(json_object_array_length(patches), sizeof(*m->patches));
		if (!m->patches)
			ret = kc_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; !ret && i < json_object_array_length(patches); i++) {
		/* counted first so that kc_patchset_meta_free() releases a half-parsed entry */
		m->npatches++;
		ret = ps_parse_patch(json_object_array_get_idx(patches, i), &m->patches[i], i, err);
	}
	free(product);
	free(released);
	return ret;
}

int kc_patchset_meta_parse(const void *buf, size_t len, struct kc_patchset_meta **out,
			   struct kc_err *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *doc = NULL;
	struct kc_patchset_meta *m = NULL;
	const char *s = buf;
	size_t end;
	int ret;

	*out = NULL;
	if (len > PS_JSON_MAX)
		return kc_err_set(err, -EBADMSG, "document larger than %u bytes", PS_JSON_MAX);
	tok = json_tokener_new_ex(PS_JSON_DEPTH);
	if (!tok)
		return kc_err_set(err, -ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					JSON_TOKENER_VALIDATE_UTF8);
	doc = json_tokener_parse_ex(tok, s, (int)len);
	if (!doc) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		ret = kc_err_set(
		    err, -EBADMSG, "bad JSON at byte %zu: %s", json_tokener_get_parse_end(tok),
		    e == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(e));
		goto out;
	}
	end = json_tokener_get_parse_end(tok);
	while (end < len && strchr(" \t\r\n", s[end]) && s[end])
		end++;
	if (end != len) {
		ret =
		    kc_err_set(err, -EBADMSG, "bad JSON at byte %zu: data after the document", end);
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	ret = ps_parse_doc(doc, m, err);
	if (!ret)
		ret = kc_patchset_meta_validate(m, err);
	if (!ret) {
		*out = m;
		m = NULL;
	}
out:
	kc_patchset_meta_free(m);
	json_object_put(doc);
	json_tokener_free(tok);
	return ret;
}

/* json_object_object_add() that records allocation failure in *@oom. */
static void ps_add(struct json_object *o, const char *key, struct json_object *v, int *oom)
{
	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		*oom = 1;
	}
}

static struct json_object *ps_encode_patch(const struct kc_patchset_patch *p, int *oom)
{
	struct json_object *o = json_object_new_object(), *cves = json_object_new_array();

	if (!o || !cves) {
		json_object_put(o);
		json_object_put(cves);
		*oom = 1;
		return NULL;
	}
	ps_add(o, "file", json_object_new_string(p->file), oom);
	ps_add(o, "length", json_object_new_int64((int64_t)p->length), oom);
	ps_add(o, "sha256", json_object_new_string(p->sha256), oom);
	ps_add(o, "kind", json_object_new_string(p->kind == KC_PATCHSET_USER ? "user" : "kernel"),
	       oom);
	ps_add(o, "target_name", json_object_new_string(p->target_name), oom);
	if (p->build_id)
		ps_add(o, "build_id", json_object_new_string(p->build_id), oom);
	if (p->kernel_id)
		ps_add(o, "kernel_id", json_object_new_string(p->kernel_id), oom);
	ps_add(o, "id", json_object_new_string(p->id), oom);
	ps_add(o, "level", json_object_new_int64(p->level), oom);
	if (p->release)
		ps_add(o, "release", json_object_new_string(p->release), oom);
	if (p->effective)
		ps_add(o, "effective_version", json_object_new_string(p->effective), oom);
	if (p->package)
		ps_add(o, "package", json_object_new_string(p->package), oom);
	if (p->package_version)
		ps_add(o, "package_version", json_object_new_string(p->package_version), oom);
	for (size_t c = 0; c < p->ncves; c++) {
		struct json_object *v = json_object_new_string(p->cves[c]);

		if (!v || json_object_array_add(cves, v) < 0) {
			json_object_put(v);
			*oom = 1;
		}
	}
	ps_add(o, "cves", cves, oom);
	ps_add(o, "description", json_object_new_string(p->description), oom);
	for (int f = 0; f < KC_KPATCH_NFIELDS; f++)
		if (p->kpatch[f])
			ps_add(o, kc_patchset_kpatch_key(f), json_object_new_string(p->kpatch[f]),
			       oom);
	return o;
}

int kc_patchset_meta_encode(const struct kc_patchset_meta *m, char **out, size_t *len,
			    struct kc_err *err)
{
	struct json_object *doc, *patches;
	char released[KC_PATCHSET_TIME_LEN + 1];
	const char *s;
	size_t n;
	int oom = 0, ret;

	*out = NULL;
	ret = kc_patchset_meta_validate(m, err);
	if (ret < 0)
		return ret;
	doc = json_object_new_object();
	patches = json_object_new_array();
	if (!doc || !patches) {
		json_object_put(doc);
		json_object_put(patches);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	ps_add(doc, "format", json_object_new_int64(m->format), &oom);
	ps_add(doc, "name", json_object_new_string(m->name), &oom);
	ps_add(doc, "product", json_object_new_string(kc_patchset_product_name(m->product)), &oom);
	kc_patchset_time_format(m->released, released, sizeof(released));
	ps_add(doc, "released", json_object_new_string(released), &oom);
	ps_add(doc, "description", json_object_new_string(m->description), &oom);
	for (size_t i = 0; i < m->npatches; i++) {
		struct json_object *p = ps_encode_patch(&m->patches[i], &oom);

		if (p && json_object_array_add(patches, p) < 0) {
			json_object_put(p);
			oom = 1;
		}
	}
	ps_add(doc, "patches", patches, &oom);
	s = oom ? NULL
		: json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_SPACED |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s) {
		json_object_put(doc);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	n = strlen(s);
	*out = malloc(n + 2);
	if (!*out) {
		json_object_put(doc);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	memcpy(*out, s, n);
	(*out)[n] = '\n';
	(*out)[n + 1] = '\0';
	*len = n + 1;
	json_object_put(doc);
	return 0;
}
