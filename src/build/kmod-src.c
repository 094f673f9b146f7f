// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A fix source's own metadata: the "key: value" lines of the comment
 * that opens the file (docs/kernel-patches.md), and the module name of
 * a series id and level. Pure text work, fuzzed by fuzz-kmod-src.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "build/kmod.h"

#define SRC_LINE_MAX 4096

void kc_kmod_fix_release(struct kc_kmod_fix *f)
{
	free(f->path);
	free(f->name);
	free(f->description);
	free(f->kernel);
	free(f->cvss);
	free(f->cve_url);
	free(f->patch_url);
	free(f->sw);
	for (size_t i = 0; i < f->ncves; i++)
		free(f->cves[i]);
	free(f->cves);
	for (size_t i = 0; i < f->npicks; i++)
		free(f->picks[i]);
	free(f->picks);
	for (size_t i = 0; i < f->nfuncs; i++) {
		free(f->funcs[i].name);
		free(f->funcs[i].obj);
	}
	free(f->funcs);
	memset(f, 0, sizeof(*f));
}

static int src_push(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strndup(s, len)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* CVE-YYYY-NNNN with at least 4 digits after the year. */
static int src_cve_ok(const char *s, size_t len)
{
	size_t d = 0;

	if (len < 13 || len > 40 || strncmp(s, "CVE-", 4))
		return 0;
	for (size_t i = 4; i < 8; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	if (s[8] != '-')
		return 0;
	for (size_t i = 9; i < len; i++, d++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return d >= 4;
}

static int src_word_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_' &&
		    !(extra && strchr(extra, *s)))
			return 0;
	return 1;
}

static int src_set(char **field, const char *key, const char *val, struct kc_err *err)
{
	if (*field)
		return kc_err_set(err, -EINVAL, "'%s' is said twice in the header", key);
	if (!(*field = strdup(val)))
		return kc_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* "[OBJ:]NAME,POS" with a position from 1. */
static int src_pick_ok(const char *v)
{
	const char *comma = strrchr(v, ',');
	char *end;
	unsigned long pos;

	if (!comma || comma == v || !comma[1])
		return 0;
	pos = strtoul(comma + 1, &end, 10);
	if (*end || pos > 1000000 || !isdigit((unsigned char)comma[1]))
		return 0;
	for (const char *p = v; p < comma; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.:-", *p))
			return 0;
	return 1;
}

static int src_key(struct kc_kmod_fix *f, const char *key, const char *val, struct kc_err *err)
{
	if (!*val)
		return kc_err_set(err, -EINVAL, "'%s' has no value", key);
	if (!strcmp(key, "kpatch-name"))
		return src_set(&f->name, key, val, err);
	if (!strcmp(key, "kpatch-description"))
		return src_set(&f->description, key, val, err);
	if (!strcmp(key, "kpatch-kernel"))
		return src_set(&f->kernel, key, val, err);
	if (!strcmp(key, "kpatch-cvss"))
		return src_set(&f->cvss, key, val, err);
	if (!strcmp(key, "kpatch-cve-url"))
		return src_set(&f->cve_url, key, val, err);
	if (!strcmp(key, "kpatch-patch-url"))
		return src_set(&f->patch_url, key, val, err);
	if (!strcmp(key, "kcare-switch")) {
		if (!src_word_ok(val, 40, NULL))
			return kc_err_set(err, -EINVAL,
					  "bad kcare-switch '%s' (want [a-z0-9_]{1,40})", val);
		return src_set(&f->sw, key, val, err);
	}
	if (!strcmp(key, "kcare-sympos")) {
		if (!src_pick_ok(val))
			return kc_err_set(err, -EINVAL,
					  "bad kcare-sympos '%s' (want [OBJ:]NAME,POS)", val);
		return src_push(&f->picks, &f->npicks, val, strlen(val)) < 0
			   ? kc_err_set(err, -ENOMEM, "out of memory")
			   : 0;
	}
	if (!strcmp(key, "kpatch-cve")) {
		for (const char *p = val; *p;) {
			size_t l = strcspn(p, " ,\t");

			if (l) {
				if (!src_cve_ok(p, l))
					return kc_err_set(err, -EINVAL, "bad CVE id '%.*s'", (int)l,
							  p);
				if (src_push(&f->cves, &f->ncves, p, l) < 0)
					return kc_err_set(err, -ENOMEM, "out of memory");
			}
			p += l;
			p += strspn(p, " ,\t");
		}
		return 0;
	}
	return 1; /* not a key of ours: text of the comment */
}

/* Strips the comment decoration of one line: leading spaces, "*", "//", trailing spaces. */
static char *src_strip(char *line)
{
	size_t n;

	while (isspace((unsigned char)*line))
		line++;
	if (!strncmp(line, "/*", 2) || !strncmp(line, "//", 2))
		line += 2;
	else if (*line == '*' && line[1] != '/')
		line++;
	while (isspace((unsigned char)*line))
		line++;
	n = strlen(line);
	if (n >= 2 && !strcmp(line + n - 2, "*/"))
		line[n -= 2] = 0;
	while (n && isspace((unsigned char)line[n - 1]))
		line[--n] = 0;
	return line;
}

int kc_kmod_fix_parse(const char *text, size_t len, struct kc_kmod_fix *f, struct kc_err *err)
{
	size_t off = 0;
	int in_block = 0, ret;

	/* Only the comment lines at the very top form the header. */
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t l = (nl ? (size_t)(nl - text) : len) - off;
		char line[SRC_LINE_MAX], *s;
		const char *raw = text + off;
		size_t lead = 0, keylen, from;

		off += l + 1;
		while (lead < l && isspace((unsigned char)raw[lead]))
			lead++;
		if (!in_block) {
			if (lead == l)
				continue;
			if (l - lead >= 2 && !strncmp(raw + lead, "/*", 2))
				in_block = 1;
			else if (!(l - lead >= 2 && !strncmp(raw + lead, "//", 2)))
				break;
		}
		if (l >= sizeof(line))
			return kc_err_set(err, -EINVAL, "header line too long");
		memcpy(line, raw, l);
		line[l] = 0;
		if (memchr(line, 0, l))
			return kc_err_set(err, -EINVAL, "NUL byte in the header");
		/* does this line close the block? (the opening slash-star does not count) */
		from = lead + (l - lead >= 2 && raw[lead] == '/' && raw[lead + 1] == '*' ? 2 : 0);
		if (in_block && strstr(line + from, "*/"))
			in_block = 2;
		s = src_strip(line);
		keylen = strspn(s, "abcdefghijklmnopqrstuvwxyz-");
		if (keylen && s[keylen] == ':') {
			char *v = s + keylen + 1;

			s[keylen] = 0;
			while (isspace((unsigned char)*v))
				v++;
			if ((ret = src_key(f, s, v, err)) < 0)
				return ret;
		}
		if (in_block == 2)
			break;
	}
	return 0;
}

int kc_kmod_module_name(const char *id, uint32_t level, char *buf, size_t bufsz, struct kc_err *err)
{
	size_t n = id ? strlen(id) : 0;
	int w;

	if (!n || n > 63)
		return kc_err_set(err, -EINVAL, "bad id '%s' (want [A-Za-z0-9._-]{1,63})",
				  id ? id : "");
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("._-", id[i]))
			return kc_err_set(err, -EINVAL, "bad id '%s' (want [A-Za-z0-9._-]{1,63})",
					  id);
	if (!level)
		return kc_err_set(err, -EINVAL, "level must be 1 or more");
	w = snprintf(buf, bufsz, "kcare_%s_%u", id, level);
	if (w < 0 || (size_t)w >= bufsz || w > KC_KMOD_NAME_MAX)
		return kc_err_set(err, -ENAMETOOLONG,
				  "module name 'kcare_%s_%u' is longer than %d characters", id,
				  level, KC_KMOD_NAME_MAX);
	for (char *p = buf; *p; p++)
		if (!isalnum((unsigned char)*p))
			*p = '_';
	return 0;
}
