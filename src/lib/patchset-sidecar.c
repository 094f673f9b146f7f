// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The sidecar of a kernel patch level: `kcare-build kmod -o DIR` writes
 * kcare_<id>_<level>.json next to kcare_<id>_<level>.ko
 * (docs/kernel-patches.md). The module's .modinfo already names its series,
 * level and kernel; the sidecar adds what a patchset entry shows an
 * administrator and `kcarectl --patch-info` before the module is loaded:
 * the CVEs, the description and the kpatch-* fields of its fixes. What both
 * say must agree, so the sidecar's id, level and identity are handed on as
 * options the writer holds the module to.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/patchset-int.h"
#include "kcare/conf.h"

#define PS_SIDECAR_MAX (1u << 20)

/* "x.ko" -> "x.json" (any other name gets ".json" appended). */
static char *ps_sidecar_path(const char *ko)
{
	size_t n = strlen(ko);
	char *p;

	if (n > 3 && !strcmp(ko + n - 3, ".ko"))
		n -= 3;
	p = malloc(n + sizeof(".json"));
	if (p) {
		memcpy(p, ko, n);
		memcpy(p + n, ".json", sizeof(".json"));
	}
	return p;
}

/* Reads a whole small file; -ENOENT when it does not exist. */
static int ps_slurp(const char *path, char **out, struct kc_err *err)
{
	size_t len;
	int ret = kc_file_read_all(path, PS_SIDECAR_MAX, out, &len, err);

	if (ret == -ENOENT)
		kc_err_clear(err);
	return ret;
}

static const char *ps_jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A field worth showing: present, not empty, not the "N/A" of unknown values. */
static int ps_known(const char *s)
{
	return s && *s && strcmp(s, "N/A");
}

/* Appends @s to the growing one-line list @acc with @sep; 0 or -ENOMEM. */
static int ps_join(char **acc, const char *s, const char *sep)
{
	char *n;

	if (!ps_known(s))
		return 0;
	if (asprintf(&n, "%s%s%s", *acc ? *acc : "", *acc ? sep : "", s) < 0)
		return -ENOMEM;
	free(*acc);
	*acc = n;
	return 0;
}

static int ps_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds the string members of array @a to @sc's CVE list (duplicates removed later). */
static int ps_add_cves(struct ps_sidecar *sc, struct json_object *a)
{
	size_t n;

	if (!a || !json_object_is_type(a, json_type_array))
		return 0;
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(a, i);
		const char **grown;

		if (!json_object_is_type(v, json_type_string))
			return -EINVAL;
		if (sc->ncves >= PS_CVES_MAX)
			return -E2BIG;
		grown = realloc(sc->cves, (sc->ncves + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		sc->cves = grown;
		sc->cves[sc->ncves++] = json_object_get_string(v);
	}
	return 0;
}

/* The kpatch-* fields of the level from its fixes: one fix as it is, several joined. */
static int ps_from_fixes(struct ps_sidecar *sc, struct json_object *fixes)
{
	static const char *const keys[KC_KPATCH_NFIELDS] = {
	    [KC_KPATCH_NAME] = "name",	     [KC_KPATCH_DESCRIPTION] = "description",
	    [KC_KPATCH_CVE] = NULL,	     [KC_KPATCH_CVSS] = "cvss",
	    [KC_KPATCH_CVE_URL] = "cve_url", [KC_KPATCH_PATCH_URL] = "patch_url",
	};
	static const char *const seps[KC_KPATCH_NFIELDS] = {", ", "; ", ", ", " ", " ", " "};
	size_t n = json_object_array_length(fixes);
	double best = -1;
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++) {
		struct json_object *f = json_object_array_get_idx(fixes, i), *cves = NULL;
		const char *cvss;

		if (!json_object_is_type(f, json_type_object))
			return -EINVAL;
		for (int k = 0; !ret && k < KC_KPATCH_NFIELDS; k++)
			if (keys[k] && k != KC_KPATCH_CVSS)
				ret = ps_join(&sc->kpatch[k], ps_jstr(f, keys[k]), seps[k]);
		json_object_object_get_ex(f, "cves", &cves);
		if (!ret)
			ret = ps_add_cves(sc, cves);
		/* the level is as severe as its worst fix */
		cvss = ps_jstr(f, "cvss");
		if (!ret && ps_known(cvss) && strtod(cvss, NULL) > best) {
			best = strtod(cvss, NULL);
			free(sc->kpatch[KC_KPATCH_CVSS]);
			sc->kpatch[KC_KPATCH_CVSS] = strdup(cvss);
			if (!sc->kpatch[KC_KPATCH_CVSS])
				ret = -ENOMEM;
		}
	}
	return ret;
}

static int ps_sidecar_parse(const char *path, struct ps_sidecar *sc, struct kc_err *err)
{
	struct json_object *v, *fixes = NULL;
	const char *desc;
	int64_t level;
	int ret;

	if (!json_object_is_type(sc->doc, json_type_object))
		return kc_err_set(err, -EINVAL, "'%s' is not a JSON object", path);
	sc->id = ps_jstr(sc->doc, "id");
	if (!sc->id || !json_object_object_get_ex(sc->doc, "level", &v) ||
	    !json_object_is_type(v, json_type_int))
		return kc_err_set(err, -EINVAL, "'%s' has no id or level", path);
	level = json_object_get_int64(v);
	if (level < 1 || level > UINT32_MAX)
		return kc_err_set(err, -EINVAL, "'%s': level %lld is out of range", path,
				  (long long)level);
	sc->level = (uint32_t)level;
	sc->build_id = ps_known(ps_jstr(sc->doc, "build_id")) ? ps_jstr(sc->doc, "build_id") : NULL;
	sc->kernel_id =
	    ps_known(ps_jstr(sc->doc, "kernel_id")) ? ps_jstr(sc->doc, "kernel_id") : NULL;
	if (json_object_object_get_ex(sc->doc, "fixes", &fixes) &&
	    !json_object_is_type(fixes, json_type_array))
		return kc_err_set(err, -EINVAL, "'%s': fixes is not an array", path);
	ret = fixes ? ps_from_fixes(sc, fixes) : 0;
	if (!ret && json_object_object_get_ex(sc->doc, "cves", &v))
		ret = ps_add_cves(sc, v);
	if (ret == -ENOMEM)
		return kc_err_set(err, ret, "out of memory");
	if (ret < 0)
		return kc_err_set(err, -EINVAL,
				  "'%s': a fix or CVE list is not what kcare-build "
				  "kmod writes",
				  path);
	if (sc->ncves)
		qsort(sc->cves, sc->ncves, sizeof(*sc->cves), ps_cmp_str);
	for (size_t i = 1; i < sc->ncves;) {
		if (!strcmp(sc->cves[i], sc->cves[i - 1])) {
			memmove(&sc->cves[i], &sc->cves[i + 1],
				(sc->ncves - i - 1) * sizeof(*sc->cves));
			sc->ncves--;
		} else {
			i++;
		}
	}
	for (size_t i = 0; i < sc->ncves; i++)
		if (ps_join(&sc->kpatch[KC_KPATCH_CVE], sc->cves[i], ", ") < 0)
			return kc_err_set(err, -ENOMEM, "out of memory");
	/* the level's own description, else those of its fixes */
	desc = ps_jstr(sc->doc, "description");
	sc->description = ps_known(desc) ? desc : sc->kpatch[KC_KPATCH_DESCRIPTION];
	return 0;
}

int ps_sidecar_parse_text(const char *text, const char *what, struct ps_sidecar *sc,
			  struct kc_err *err)
{
	int ret;

	memset(sc, 0, sizeof(*sc));
	sc->doc = json_tokener_parse(text);
	ret = sc->doc ? ps_sidecar_parse(what, sc, err)
		      : kc_err_set(err, -EINVAL, "'%s' is not valid JSON", what);
	if (ret < 0)
		ps_sidecar_release(sc);
	else
		sc->found = 1;
	return ret;
}

int ps_sidecar_load(const char *ko_path, struct ps_sidecar *sc, struct kc_err *err)
{
	char *path = ps_sidecar_path(ko_path), *text = NULL;
	int ret;

	memset(sc, 0, sizeof(*sc));
	if (!path)
		return kc_err_set(err, -ENOMEM, "out of memory");
	ret = ps_slurp(path, &text, err);
	if (ret == 0)
		ret = ps_sidecar_parse_text(text, path, sc, err);
	else if (ret == -ENOENT)
		ret = 0;
	free(text);
	free(path);
	return ret;
}

void ps_sidecar_release(struct ps_sidecar *sc)
{
	for (int f = 0; f < KC_KPATCH_NFIELDS; f++)
		free(sc->kpatch[f]);
	free(sc->cves);
	json_object_put(sc->doc);
	memset(sc, 0, sizeof(*sc));
}
