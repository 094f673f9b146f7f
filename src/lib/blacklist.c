// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The LibCare process blacklist (include/kcare/blacklist.h): parsing the
 * rule file, choosing between the packaged and the admin's file, and
 * matching an executable path. Globs go through fnmatch(3) without
 * FNM_PATHNAME, so that a `*` at the end of a path rule also covers files
 * in subdirectories; regexes through regcomp(3) as POSIX EREs. This file does
 * not look at processes: the caller passes the path /proc/PID/exe names.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcare/blacklist.h"

enum bl_type {
	BL_PATH,
	BL_FILENAME,
	BL_REGEX,
};

struct bl_rule {
	enum bl_type type;
	char *text;    /* owned: "type:pattern", as kc_blacklist_match() returns it */
	char *pattern; /* borrowed: points into @text after the colon */
	regex_t re;    /* compiled for BL_REGEX only */
};

struct kc_blacklist {
	struct bl_rule *v; /* owned, @n used of @cap */
	size_t n;
	size_t cap;
};

static const struct {
	const char *name;
	enum bl_type type;
} bl_types[] = {
    {"path", BL_PATH},
    {"filename", BL_FILENAME},
    {"regex", BL_REGEX},
};

struct kc_blacklist *kc_blacklist_new_empty(void)
{
	return calloc(1, sizeof(struct kc_blacklist));
}

void kc_blacklist_free(struct kc_blacklist *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		if (b->v[i].type == BL_REGEX)
			regfree(&b->v[i].re);
		free(b->v[i].text);
	}
	free(b->v);
	free(b);
}

size_t kc_blacklist_count(const struct kc_blacklist *b)
{
	return b ? b->n : 0;
}

static bool bl_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Narrows [*s, *e) to its part without surrounding blanks. */
static void bl_trim(const char **s, const char **e)
{
	while (*s < *e && bl_space(**s))
		(*s)++;
	while (*e > *s && bl_space((*e)[-1]))
		(*e)--;
}

static int bl_type_of(const char *s, size_t len, enum bl_type *type)
{
	for (size_t i = 0; i < sizeof(bl_types) / sizeof(bl_types[0]); i++) {
		if (strlen(bl_types[i].name) == len && !memcmp(bl_types[i].name, s, len)) {
			*type = bl_types[i].type;
			return 0;
		}
	}
	return -1;
}

/*
 * glibc's regcomp expands every repetition into copies of the repeated
 * subexpression (x+ is x x*, x{3,5} five copies), so a short pattern with
 * stacked or nested repetitions ("a+++++...", "((a{99}){99}){99}") can take
 * gigabytes before it fails. This estimates the size of that expansion and
 * refuses patterns past BL_REGEX_COST: no sensible blacklist rule comes
 * near it. A repetition of a repetition ("a+*", "a?{2}") is refused too:
 * POSIX leaves it undefined, and glibc's epsilon closures over such chains
 * take time that grows with the square of the expansion. Saturating
 * arithmetic; an unbalanced pattern is left for regcomp to reject.
 */
#define BL_REGEX_COST  2000u
#define BL_REGEX_DEPTH 32

static size_t bl_sat_mul(size_t a, size_t b)
{
	return (b != 0 && a > BL_REGEX_COST / b) ? BL_REGEX_COST + 1 : a * b;
}

static size_t bl_sat_add(size_t a, size_t b)
{
	return a + b > BL_REGEX_COST ? BL_REGEX_COST + 1 : a + b;
}

/* Parses "{m}", "{m,}" or "{m,n}" at @p; returns its end or NULL, the copy count in *@k. */
static const char *bl_interval(const char *p, size_t *k)
{
	size_t m = 0, n;
	const char *q = p + 1;

	if (*q < '0' || *q > '9')
		return NULL;
	while (*q >= '0' && *q <= '9' && m <= BL_REGEX_COST)
		m = m * 10 + (size_t)(*q++ - '0');
	n = m;
	if (*q == ',') {
		q++;
		n = m + 1; /* unbounded: glibc keeps m copies and a starred one */
		if (*q >= '0' && *q <= '9') {
			n = 0;
			while (*q >= '0' && *q <= '9' && n <= BL_REGEX_COST)
				n = n * 10 + (size_t)(*q++ - '0');
		}
	}
	if (*q != '}')
		return NULL;
	*k = (m > n ? m : n) ? (m > n ? m : n) : 1;
	return q + 1;
}

/* Skips a bracket expression starting at @p ('['); returns the char after ']' or the end. */
static const char *bl_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char *close = strchr(p + 2, p[1]);

			while (close && close[1] != ']')
				close = strchr(close + 1, p[1]);
			if (!close)
				return p + strlen(p);
			p = close + 2;
			continue;
		}
		p++;
	}
	return *p ? p + 1 : p;
}

static bool bl_regex_too_big(const char *re)
{
	size_t sum[BL_REGEX_DEPTH + 1] = {0}, last[BL_REGEX_DEPTH + 1] = {0};
	unsigned d = 0;
	const char *p = re;
	bool repeated = false; /* the previous token was a repetition */

	while (*p) {
		size_t k = 0;
		const char *q;

		switch (*p) {
		case '(':
			if (d == BL_REGEX_DEPTH)
				return true;
			repeated = false;
			d++;
			sum[d] = last[d] = 0;
			p++;
			continue;
		case ')':
			repeated = false;
			if (d > 0) {
				size_t g = sum[d];

				d--;
				sum[d] = bl_sat_add(sum[d], g);
				last[d] = g ? g : 1;
			}
			p++;
			continue;
		case '+':
			k = 2;
			q = p + 1;
			break;
		case '*':
		case '?':
			k = 1;
			q = p + 1;
			break;
		case '{':
			q = bl_interval(p, &k);
			break;
		default:
			q = NULL;
			break;
		}
		if (k && repeated)
			return true;
		repeated = k != 0;
		if (k) {
			/* the last atom (or group) is copied k times in all */
			size_t more = bl_sat_mul(last[d], k - 1);

			sum[d] = bl_sat_add(sum[d], more);
			last[d] = bl_sat_mul(last[d], k);
			p = q;
		} else {
			if (*p == '[')
				p = bl_bracket(p);
			else if (*p == '\\' && p[1])
				p += 2;
			else
				p++;
			sum[d] = bl_sat_add(sum[d], 1);
			last[d] = 1;
		}
		if (sum[d] > BL_REGEX_COST || last[d] > BL_REGEX_COST)
			return true;
	}
	return sum[0] > BL_REGEX_COST;
}

/*
 * Adds one rule from the trimmed, non-empty, non-comment line [s, e).
 * Messages quote at most 64 bytes of the line so that a huge line cannot
 * push the line number out of the error buffer.
 */
static int bl_add(struct kc_blacklist *b, const char *s, const char *e, unsigned line,
		  struct kc_err *err)
{
	const char *colon = memchr(s, ':', (size_t)(e - s));
	const char *ts = s, *te, *ps, *pe = e;
	struct bl_rule r = {0};
	size_t tlen, plen;
	int rc;

	if (memchr(s, '\0', (size_t)(e - s)))
		return kc_err_set(err, -EBADMSG, "line %u: NUL byte in rule", line);
	if (!colon)
		return kc_err_set(err, -EBADMSG, "line %u: no ':' in rule '%.*s'", line,
				  (int)(e - s > 64 ? 64 : e - s), s);
	te = colon;
	ps = colon + 1;
	bl_trim(&ts, &te);
	bl_trim(&ps, &pe);
	tlen = (size_t)(te - ts);
	plen = (size_t)(pe - ps);
	if (bl_type_of(ts, tlen, &r.type) < 0)
		return kc_err_set(err, -EBADMSG, "line %u: unknown rule type '%.*s'", line,
				  (int)(tlen > 64 ? 64 : tlen), ts);
	if (plen == 0)
		return kc_err_set(err, -EBADMSG, "line %u: empty pattern in '%.*s' rule", line,
				  (int)tlen, ts);
	if (b->n == KC_BLACKLIST_MAX_RULES)
		return kc_err_set(err, -EFBIG, "line %u: more than %u rules", line,
				  KC_BLACKLIST_MAX_RULES);

	/* Stored without the blanks around the colon, whatever the spacing in the file. */
	r.text = malloc(tlen + 1 + plen + 1);
	if (!r.text)
		return kc_err_set(err, -ENOMEM, "line %u: out of memory", line);
	memcpy(r.text, ts, tlen);
	r.text[tlen] = ':';
	memcpy(r.text + tlen + 1, ps, plen);
	r.text[tlen + 1 + plen] = '\0';
	r.pattern = r.text + tlen + 1;

	if (r.type == BL_REGEX && bl_regex_too_big(r.pattern)) {
		rc = kc_err_set(err, -EBADMSG, "line %u: regex '%.64s' is too complex", line,
				r.pattern);
		free(r.text);
		return rc;
	}
	if (r.type == BL_REGEX) {
		rc = regcomp(&r.re, r.pattern, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char why[128];

			regerror(rc, &r.re, why, sizeof(why));
			rc = kc_err_set(err, -EBADMSG, "line %u: bad regex '%.64s': %s", line,
					r.pattern, why);
			free(r.text);
			return rc;
		}
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct bl_rule *v = realloc(b->v, cap * sizeof(*v));

		if (!v) {
			if (r.type == BL_REGEX)
				regfree(&r.re);
			free(r.text);
			return kc_err_set(err, -ENOMEM, "line %u: out of memory", line);
		}
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = r;
	return 0;
}

int kc_blacklist_parse(const char *text, size_t len, struct kc_blacklist **out, struct kc_err *err)
{
	const char *p = text, *end = text + len;
	struct kc_blacklist *b;
	unsigned line = 0;
	int rc;

	*out = NULL;
	if (len > KC_BLACKLIST_MAX_BYTES)
		return kc_err_set(err, -EFBIG, "blacklist of %zu bytes is over the limit of %u",
				  len, KC_BLACKLIST_MAX_BYTES);
	b = kc_blacklist_new_empty();
	if (!b)
		return kc_err_set(err, -ENOMEM, "out of memory");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = nl ? nl : end;

		line++;
		p = nl ? nl + 1 : end;
		bl_trim(&s, &e);
		if (s == e || *s == '#')
			continue;
		rc = bl_add(b, s, e, line, err);
		if (rc < 0) {
			kc_blacklist_free(b);
			return rc;
		}
	}
	*out = b;
	return 0;
}

/*
 * Reads @path whole into a malloc'd buffer (caller frees). -ENOENT is
 * returned without a message: the caller decides whether absence is an
 * error.
 */
static int bl_read(const char *path, char **buf, size_t *len, struct kc_err *err)
{
	size_t cap = 4096, n = 0;
	char *data = NULL;
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = kc_err_set(err, -errno, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = kc_err_set(err, -EINVAL, "'%s' is not a regular file", path);
		goto out;
	}
	data = malloc(cap);
	if (!data) {
		rc = kc_err_set(err, -ENOMEM, "out of memory reading '%s'", path);
		goto out;
	}
	for (;;) {
		ssize_t got;

		if (n == cap) {
			char *more;

			/* The limit is checked on what is read, not on st_size, which may change.
			 */
			if (cap > KC_BLACKLIST_MAX_BYTES) {
				rc = kc_err_set(err, -EFBIG, "'%s' is over the limit of %u bytes",
						path, KC_BLACKLIST_MAX_BYTES);
				goto out;
			}
			more = realloc(data, cap * 2);
			if (!more) {
				rc = kc_err_set(err, -ENOMEM, "out of memory reading '%s'", path);
				goto out;
			}
			data = more;
			cap *= 2;
		}
		got = read(fd, data + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = kc_err_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > KC_BLACKLIST_MAX_BYTES) {
		rc = kc_err_set(err, -EFBIG, "'%s' is over the limit of %u bytes", path,
				KC_BLACKLIST_MAX_BYTES);
		goto out;
	}
	*buf = data;
	*len = n;
	data = NULL;
out:
	free(data);
	close(fd);
	return rc;
}

int kc_blacklist_load(const char *packaged, const char *override, struct kc_blacklist **out,
		      const char **source, struct kc_err *err)
{
	const char *paths[2] = {override, packaged};
	int rc;

	*out = NULL;
	if (source)
		*source = NULL;
	for (size_t i = 0; i < 2; i++) {
		char *buf = NULL;
		size_t len = 0;

		if (!paths[i])
			continue;
		rc = bl_read(paths[i], &buf, &len, err);
		if (rc == -ENOENT)
			continue;
		if (rc < 0)
			return rc;
		rc = kc_blacklist_parse(buf, len, out, err);
		free(buf);
		if (rc < 0)
			return err ? kc_err_prefix(err, "blacklist '%s'", paths[i]) : rc;
		if (source)
			*source = paths[i];
		return 0;
	}
	*out = kc_blacklist_new_empty();
	if (!*out)
		return kc_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

const char *kc_blacklist_match(const struct kc_blacklist *b, const char *exe_path)
{
	const char *base;

	if (!b || !exe_path)
		return NULL;
	base = strrchr(exe_path, '/');
	base = base ? base + 1 : exe_path;
	for (size_t i = 0; i < b->n; i++) {
		const struct bl_rule *r = &b->v[i];
		bool hit = false;

		switch (r->type) {
		case BL_PATH:
			hit = fnmatch(r->pattern, exe_path, 0) == 0;
			break;
		case BL_FILENAME:
			hit = fnmatch(r->pattern, base, 0) == 0;
			break;
		case BL_REGEX:
			hit = regexec(&r->re, exe_path, 0, NULL, 0) == 0;
			break;
		}
		if (hit)
			return r->text;
	}
	return NULL;
}
