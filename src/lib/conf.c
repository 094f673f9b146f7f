// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's configuration file (kcare/conf.h): the table of known keys,
 * the parser of shell-like KEY=VALUE lines, the getters, and the in-place
 * editor behind kcarectl's --set-* options.
 * A file written by hand must never stop the agent: anything odd is a
 * warning and the key's default applies. The editor keeps every line it
 * does not own byte for byte, so admins' comments and unknown keys survive.
 * Not here: where the file lives, and the atomic write (fileio.c).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "kcare/conf.h"

const struct kc_conf_key kc_conf_keys[] = {
    {"AUTO_UPDATE", "True", KC_CONF_BOOL, NULL},
    {"PATCH_METHOD", "normal", KC_CONF_ENUM, "normal|nofreeze|smart"},
    {"PATCH_SERVER", "", KC_CONF_STR, NULL},
    {"REGISTRATION_URL", "", KC_CONF_STR, NULL},
    {"PREFIX", "", KC_CONF_STR, NULL},
    {"UPDATE_POLICY", "REMOTE", KC_CONF_ENUM, "REMOTE|LOCAL|LOCAL_FIRST"},
    {"IGNORE_UNKNOWN_KERNEL", "False", KC_CONF_BOOL, NULL},
    {"LOAD_KCARE_SYSCTL", "True", KC_CONF_BOOL, NULL},
    {"STICKY_PATCH", "", KC_CONF_STR, NULL},
    {"REPORT_FQDN", "False", KC_CONF_BOOL, NULL},
    {"FORCE_GID", "", KC_CONF_INT, NULL},
    {"USERSPACE_PATCHES", "libs,qemu,db", KC_CONF_STR, NULL},
    {"HTTPS_PROXY", "", KC_CONF_STR, NULL},
    {"HTTP_PROXY", "", KC_CONF_STR, NULL},
    /* the documents treat proxy variables case-insensitively, as shells do */
    {"https_proxy", "", KC_CONF_STR, NULL},
    {"http_proxy", "", KC_CONF_STR, NULL},
    {"PATCH_TYPE", "default", KC_CONF_ENUM, "default|extra|free"},
    {"LIBCARE_DISABLED", "False", KC_CONF_BOOL, NULL},
    {"MONITORING_KEY", "", KC_CONF_STR, NULL},
    {"TAG", "", KC_CONF_STR, NULL},
    {"AUTO_UPDATE_INTERVAL", "4", KC_CONF_INT, NULL}, /* hours */
    {"CHECK_SSL_CERTS", "True", KC_CONF_BOOL, NULL},
    {"LIBCARE_TIMEOUT", "5", KC_CONF_INT, NULL}, /* seconds per process */
    {NULL, NULL, KC_CONF_STR, NULL},
};

/*
 * One assignment of the file. @value NULL marks a typed key whose value was
 * refused: it still overrides earlier lines (the last line wins), but what
 * wins is the default.
 */
struct conf_entry {
	char *key;
	char *value;
	size_t seq; /* position in the file, to keep the last of duplicates */
};

/* Sorted by key with one entry per key once parsing is done (bsearch). */
struct kc_conf {
	struct conf_entry *e;
	size_t n, cap;
};

static const struct kc_conf_key *conf_key_find(const char *name)
{
	for (const struct kc_conf_key *k = kc_conf_keys; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

static bool conf_key_valid(const char *k)
{
	if (!k || !(isalpha((unsigned char)*k) || *k == '_'))
		return false;
	for (k++; *k; k++)
		if (!(isalnum((unsigned char)*k) || *k == '_'))
			return false;
	return true;
}

/* 1 true, 0 false, -1 not a boolean */
static int conf_parse_bool(const char *v)
{
	static const char *const yes[] = {"1", "yes", "true", "on", "y"};
	static const char *const no[] = {"0", "no", "false", "off", "n"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

static bool conf_int_valid(const char *v)
{
	unsigned long long x = 0;

	if (!*v)
		return false;
	for (; *v; v++) {
		if (!isdigit((unsigned char)*v))
			return false;
		x = x * 10 + (unsigned)(*v - '0');
		if (x > INT_MAX)
			return false;
	}
	return true;
}

static bool conf_enum_valid(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = choices; *p;) {
		size_t m = strcspn(p, "|");
		if (m == n && n && !strncasecmp(p, v, n))
			return true;
		p += m;
		if (*p == '|')
			p++;
	}
	return false;
}

/*
 * Checks @v against the type of @k; on a mismatch writes what was expected
 * to @want and returns false. An empty value is accepted only where the
 * default itself is empty (FORCE_GID=).
 */
static bool conf_value_valid(const struct kc_conf_key *k, const char *v, char *want, size_t sz)
{
	if (!*v && !*k->def)
		return true;
	switch (k->type) {
	case KC_CONF_BOOL:
		if (conf_parse_bool(v) >= 0)
			return true;
		snprintf(want, sz, "a boolean (yes/no, true/false, on/off, y/n, 1/0)");
		return false;
	case KC_CONF_INT:
		if (conf_int_valid(v))
			return true;
		snprintf(want, sz, "a number from 0 to %d", INT_MAX);
		return false;
	case KC_CONF_ENUM:
		if (conf_enum_valid(k->choices, v))
			return true;
		snprintf(want, sz, "one of %s", k->choices);
		return false;
	case KC_CONF_STR:
		break;
	}
	return true;
}

static void conf_warn(kc_conf_warn_fn warn, void *ctx, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void conf_warn(kc_conf_warn_fn warn, void *ctx, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(ctx, line, msg);
}

static bool conf_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * The key part of one line: skips blanks and an `export ` prefix and returns
 * the length of the key at *@key if `=` follows it (blanks allowed), with
 * *@rest just past the `=`; 0 for blank lines, comments and anything else.
 * Shared by the parser and the editor, so both agree on which line sets what.
 */
static size_t conf_line_key(const char *p, const char *end, const char **key, const char **rest)
{
	const char *k;

	while (p < end && conf_blank(*p))
		p++;
	if (end - p > 7 && !memcmp(p, "export", 6) && conf_blank(p[6])) {
		p += 7;
		while (p < end && conf_blank(*p))
			p++;
	}
	k = p;
	if (p == end || !(isalpha((unsigned char)*p) || *p == '_'))
		return 0;
	while (p < end && (isalnum((unsigned char)*p) || *p == '_'))
		p++;
	size_t n = (size_t)(p - k);
	while (p < end && conf_blank(*p))
		p++;
	if (p == end || *p != '=')
		return 0;
	*key = k;
	*rest = p + 1;
	return n;
}

/*
 * The value after `=` (@p..@end, one line): unquoted into @out (room for
 * end - p + 1 bytes). Returns NULL on success, else why the line is bad.
 */
static const char *conf_line_value(const char *p, const char *end, char *out)
{
	const char *start = p;
	char *o = out;

	while (p < end && conf_blank(*p))
		p++;
	if (p < end && (*p == '\'' || *p == '"')) {
		char q = *p++;
		for (;; p++) {
			if (p == end)
				return "unterminated quote";
			if (*p == q)
				break;
			if (q == '"' && *p == '\\' && p + 1 < end && strchr("\"\\$`", p[1]))
				p++;
			*o++ = *p;
		}
		for (p++; p < end && conf_blank(*p); p++)
			;
		if (p < end && *p != '#')
			return "text after the closing quote";
		*o = '\0';
		return NULL;
	}
	/* bare: a `#` after a blank starts a comment, as in the shell */
	for (; p < end; p++) {
		if (*p == '#' && p > start && conf_blank(p[-1]))
			break;
		*o++ = *p;
	}
	while (o > out && conf_blank(o[-1]))
		o--;
	*o = '\0';
	return NULL;
}

static int conf_add(struct kc_conf *c, const char *key, size_t klen, const char *value)
{
	struct conf_entry *e;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		e = realloc(c->e, ncap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		c->e = e;
		c->cap = ncap;
	}
	e = &c->e[c->n];
	e->key = strndup(key, klen);
	e->value = value ? strdup(value) : NULL;
	e->seq = c->n;
	if (!e->key || (value && !e->value)) {
		free(e->key);
		free(e->value);
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

static int conf_entry_cmp(const void *a, const void *b)
{
	const struct conf_entry *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts by key and keeps, per key, the last line; refused values then drop out. */
static void conf_finish(struct kc_conf *c)
{
	size_t i, w = 0;

	if (c->n)
		qsort(c->e, c->n, sizeof(*c->e), conf_entry_cmp);
	for (i = 0; i < c->n; i++) {
		bool last = i + 1 == c->n || strcmp(c->e[i].key, c->e[i + 1].key);
		if (!last || !c->e[i].value) {
			free(c->e[i].key);
			free(c->e[i].value);
			continue;
		}
		c->e[w++] = c->e[i];
	}
	c->n = w;
}

static const struct conf_entry *conf_lookup(const struct kc_conf *c, const char *key)
{
	size_t lo = 0, hi = c ? c->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(key, c->e[mid].key);
		if (!r)
			return &c->e[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct kc_conf *kc_conf_new_empty(void)
{
	return calloc(1, sizeof(struct kc_conf));
}

void kc_conf_free(struct kc_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c->e);
	free(c);
}

int kc_conf_parse(const char *text, size_t len, kc_conf_warn_fn warn, void *ctx,
		  struct kc_conf **out, struct kc_err *err)
{
	struct kc_conf *c = NULL;
	char *val = NULL;
	const char *p, *end;
	unsigned line = 0;
	int rc = 0;

	KC_BUG_ON(!out || (!text && len));
	*out = NULL;
	if (len > KC_CONF_MAX_BYTES)
		return kc_err_set(err, -EFBIG, "config is longer than %u bytes", KC_CONF_MAX_BYTES);
	if (len && memchr(text, '\0', len))
		return kc_err_set(err, -EBADMSG, "config contains a NUL byte");
	c = kc_conf_new_empty();
	val = malloc(len + 1);
	if (!c || !val) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (p = text, end = text + len; len && p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *key, *rest, *s;
		size_t klen;

		line++;
		for (s = p; s < le && conf_blank(*s); s++)
			;
		if (s == le || *s == '#')
			goto next;
		klen = conf_line_key(p, le, &key, &rest);
		if (!klen) {
			conf_warn(warn, ctx, line, "ignoring a line that is not KEY=VALUE");
			goto next;
		}
		const char *why = conf_line_value(rest, le, val);
		if (why) {
			conf_warn(warn, ctx, line, "ignoring '%.*s': %s", (int)klen, key, why);
			goto next;
		}
		char kbuf[128];
		const struct kc_conf_key *k = NULL;
		if (klen < sizeof(kbuf)) {
			memcpy(kbuf, key, klen);
			kbuf[klen] = '\0';
			k = conf_key_find(kbuf);
		}
		char want[128];
		if (!k) {
			conf_warn(warn, ctx, line, "unknown key '%.*s'", (int)klen, key);
		} else if (!conf_value_valid(k, val, want, sizeof(want))) {
			conf_warn(warn, ctx, line,
				  "bad value '%s' for '%s': expected %s, using '%s'", val, k->name,
				  want, k->def);
			if (conf_add(c, key, klen, NULL)) {
				rc = kc_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			goto next;
		}
		if (conf_add(c, key, klen, val)) {
			rc = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	next:
		if (!eol)
			break;
		p = eol + 1;
	}
	conf_finish(c);
	*out = c;
	c = NULL;
out:
	free(val);
	kc_conf_free(c);
	return rc;
}

int kc_conf_load(const char *path, kc_conf_warn_fn warn, void *ctx, struct kc_conf **out,
		 struct kc_err *err)
{
	char *buf;
	size_t len;
	int rc;

	KC_BUG_ON(!path || !out);
	*out = NULL;
	rc = kc_file_read_all(path, KC_CONF_MAX_BYTES, &buf, &len, err);
	if (rc == -ENOENT) {
		*out = kc_conf_new_empty();
		if (!*out)
			return kc_err_set(err, -ENOMEM, "out of memory");
		if (err)
			kc_err_clear(err);
		return 0;
	}
	if (rc)
		return rc;
	rc = kc_conf_parse(buf, len, warn, ctx, out, err);
	free(buf);
	if (rc)
		return kc_err_prefix(err, "config '%s'", path);
	return 0;
}

const char *kc_conf_get(const struct kc_conf *c, const char *key)
{
	const struct conf_entry *e;
	const struct kc_conf_key *k;

	if (!key)
		return NULL;
	e = conf_lookup(c, key);
	if (e)
		return e->value;
	k = conf_key_find(key);
	return k ? k->def : NULL;
}

bool kc_conf_is_set(const struct kc_conf *c, const char *key)
{
	return key && conf_lookup(c, key) != NULL;
}

bool kc_conf_get_bool(const struct kc_conf *c, const char *key, bool fallback)
{
	const struct conf_entry *e = key ? conf_lookup(c, key) : NULL;
	const struct kc_conf_key *k = key ? conf_key_find(key) : NULL;
	int b;

	if (e && (b = conf_parse_bool(e->value)) >= 0)
		return b;
	if (k && (b = conf_parse_bool(k->def)) >= 0)
		return b;
	return fallback;
}

/* Whether @v must be quoted to read back as itself (and to be safe in a shell). */
static bool conf_needs_quotes(const char *v)
{
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr("_-.,/:@%+=", *v))
			return true;
	return false;
}

/* Appends the line KEY=VALUE (with its newline) to @o, which has room for it. */
static char *conf_format_line(char *o, const char *key, const char *value)
{
	size_t kl = strlen(key);

	memcpy(o, key, kl);
	o += kl;
	*o++ = '=';
	if (!conf_needs_quotes(value)) {
		size_t vl = strlen(value);
		memcpy(o, value, vl);
		o += vl;
	} else {
		*o++ = '"';
		for (const char *v = value; *v; v++) {
			if (strchr("\"\\$`", *v))
				*o++ = '\\';
			*o++ = *v;
		}
		*o++ = '"';
	}
	*o++ = '\n';
	return o;
}

int kc_conf_set_file(const char *path, const char *key, const char *value, struct kc_err *err)
{
	char *old = NULL, *buf = NULL, *o;
	size_t len = 0, klen;
	unsigned mode = 0644;
	struct stat st;
	bool done = false;
	int rc;

	KC_BUG_ON(!path);
	if (!conf_key_valid(key))
		return kc_err_set(err, -EINVAL, "bad config key '%s'", key ? key : "(null)");
	if (value && strchr(value, '\n'))
		return kc_err_set(err, -EINVAL, "value of '%s' has a newline", key);
	rc = kc_file_read_all(path, KC_CONF_MAX_BYTES, &old, &len, err);
	if (rc == -ENOENT) {
		if (err)
			kc_err_clear(err);
	} else if (rc) {
		return rc;
	}
	if (!old && !(old = strdup("")))
		return kc_err_set(err, -ENOMEM, "out of memory");
	/* an existing file keeps its permissions */
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	klen = strlen(key);
	/* worst case: every byte of the value escaped, quotes, `=`, newline, one added newline */
	size_t vmax = value ? 2 * strlen(value) + 2 : 0;
	buf = malloc(len + klen + vmax + 4);
	if (!buf) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	o = buf;
	for (const char *p = old, *end = old + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		const char *k, *rest;
		size_t n = conf_line_key(p, eol ? eol : end, &k, &rest);

		if (n == klen && !memcmp(k, key, klen)) {
			if (value && !done)
				o = conf_format_line(o, key, value);
			done = true;
		} else {
			memcpy(o, p, (size_t)(next - p));
			o += next - p;
		}
		p = next;
	}
	if (value && !done) {
		if (o > buf && o[-1] != '\n')
			*o++ = '\n';
		o = conf_format_line(o, key, value);
	}
	if ((size_t)(o - buf) > KC_CONF_MAX_BYTES) {
		rc = kc_err_set(err, -EFBIG, "config '%s' would be longer than %u bytes", path,
				KC_CONF_MAX_BYTES);
		goto out;
	}
	rc = kc_file_write_atomic(path, buf, (size_t)(o - buf), mode, err);
out:
	free(buf);
	free(old);
	return rc;
}
