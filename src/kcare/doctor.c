// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcarectl --doctor, the collecting half: one .tar.gz of what support needs
 * to understand a host's agent (include/kcare/doctor.h lists the members).
 * Collecting is best effort: an item that cannot be read is a line of
 * report.txt, not a failure, because a broken host is exactly the one a
 * report is asked for. Secrets never leave the host: config values that
 * look like credentials, the user:password of proxy URLs and all but the
 * start of the server id are redacted before anything is written.
 * The archive is written to a hidden temporary name and renamed when
 * complete (kc_file_atomic_*).
 */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kcare/doctor.h"

#define REDACTED	"<redacted>"
#define ID_KEEP		8    /* characters of the server id kept in the report */
#define LIST_MAX_ITEMS	5000 /* entries of the cache listing */
#define LIST_MAX_DEPTH	6
#define STATE_MAX_FILES 200

enum redact { R_NONE, R_CONF, R_SYSTEMID, R_JSON };

struct doc {
	struct archive *a;
	FILE *report; /* report.txt, built while collecting */
	char *report_buf;
	size_t report_len;
	time_t now;
	int failed; /* first archive error, negative errno */
	struct kc_err *err;
};

/* ---- redaction ------------------------------------------------------ */

/* Whether a config key or JSON member name names a secret. */
static bool secret_name(const char *name, size_t len)
{
	static const char *const words[] = {"KEY", "PASSWORD", "PASSWD", "TOKEN", "SECRET"};

	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= len; i++)
			if (!strncasecmp(name + i, words[w], wl))
				return true;
	}
	return false;
}

static int sb_put(FILE *f, const char *s, size_t n)
{
	return fwrite(s, 1, n, f) == n || n == 0 ? 0 : -ENOMEM;
}

/*
 * Copies @n bytes of @s to @f with the user:password@ of every URL
 * replaced. With @bare, a value without "://" that holds '@' (a proxy
 * written as user:pass@host:port) is treated as one authority.
 */
static void put_url_redacted(FILE *f, const char *s, size_t n, bool bare)
{
	/* a proxy may be written without a scheme: user:pass@host:port */
	bool whole = bare && !memmem(s, n, "://", 3);
	size_t i = 0, from = 0;

	for (;;) {
		const char *scheme = whole ? NULL : memmem(s + from, n - from, "://", 3);
		size_t start, end, at = 0;

		if (!scheme && !whole) {
			sb_put(f, s + i, n - i);
			return;
		}
		/*
		 * The next "://" is searched from the start of this authority, not its
		 * end: in "a://b://u:p@h" the second one begins inside the first.
		 * Since an authority holds no '/', it still starts after @end.
		 */
		start = whole ? 0 : (size_t)(scheme - s) + 3;
		whole = false;
		sb_put(f, s + i, start - i);
		/* the authority ends at the path, query, fragment, space or a quote */
		for (end = start; end < n && !strchr("/?#\"' \t\n", s[end]); end++)
			if (s[end] == '@')
				at = end + 1;
		if (at) {
			fputs(REDACTED "@", f);
			sb_put(f, s + at, end - at);
		} else {
			sb_put(f, s + start, end - start);
		}
		i = end;
		from = start;
	}
}

/* One line of a KEY=VALUE file; a comment or any other line only loses URL credentials. */
static void redact_line(FILE *f, const char *s, size_t n)
{
	size_t k = 0, ks, ke, eq;

	while (k < n && (s[k] == ' ' || s[k] == '\t'))
		k++;
	/* a commented-out assignment may still hold a real secret */
	if (k < n && s[k] == '#') {
		k++;
		while (k < n && (s[k] == ' ' || s[k] == '\t'))
			k++;
	}
	if (n - k > 7 && !strncmp(s + k, "export ", 7))
		k += 7;
	ks = k;
	while (k < n && (isalnum((unsigned char)s[k]) || s[k] == '_'))
		k++;
	ke = k;
	while (k < n && (s[k] == ' ' || s[k] == '\t'))
		k++;
	if (ke == ks || k >= n || s[k] != '=') {
		put_url_redacted(f, s, n, false);
		return;
	}
	eq = k + 1;
	sb_put(f, s, eq);
	if (secret_name(s + ks, ke - ks)) {
		/* keep an empty value visible: "not set" is useful to support */
		size_t v = eq, sp;
		while (v < n && (s[v] == ' ' || s[v] == '\t'))
			v++;
		sp = v;
		while (v < n && (s[v] == ' ' || s[v] == '\t' || s[v] == '"' || s[v] == '\''))
			v++;
		if (v < n && s[v] != '#') {
			sb_put(f, s + eq, sp - eq);
			fputs(REDACTED, f);
		}
		return;
	}
	bool proxy = false;
	for (size_t i = ks; i + 5 <= ke; i++)
		if (!strncasecmp(s + i, "PROXY", 5))
			proxy = true;
	/* skip an opening quote so that a bare proxy value is still recognised */
	size_t v = eq;
	while (v < n && (s[v] == ' ' || s[v] == '\t' || s[v] == '"' || s[v] == '\''))
		v++;
	sb_put(f, s + eq, v - eq);
	put_url_redacted(f, s + v, n - v, proxy);
}

static int redact_lines(const char *in, size_t len, bool systemid, char **out, size_t *out_len,
			struct kc_err *err)
{
	size_t olen = 0;
	char *obuf = NULL;
	FILE *f = open_memstream(&obuf, &olen);

	if (!f)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(in + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (in + i)) : len - i;
		const char *eq = memchr(in + i, '=', n);

		if (systemid && n) {
			/* server_id=VALUE (or a bare id): keep the start, enough to tell hosts
			 * apart */
			size_t vs = eq ? (size_t)(eq - (in + i)) + 1 : 0;
			sb_put(f, in + i, vs + (n - vs < ID_KEEP ? n - vs : ID_KEEP));
			if (n - vs > ID_KEEP)
				fputs("...", f);
		} else {
			redact_line(f, in + i, n);
		}
		if (nl)
			fputc('\n', f);
		i += n + (nl ? 1 : 0);
	}
	if (fclose(f) != 0 || !obuf) {
		free(obuf);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	*out = obuf;
	if (out_len)
		*out_len = olen;
	return 0;
}

int kc_doctor_redact_conf(const char *in, size_t len, char **out, struct kc_err *err)
{
	return redact_lines(in, len, false, out, NULL, err);
}

static struct json_object *redact_string(const char *name, const char *v)
{
	if (name && (!strcmp(name, "server_id") || !strcmp(name, "systemid"))) {
		char buf[ID_KEEP + 4];
		snprintf(buf, sizeof(buf), "%.*s%s", ID_KEEP, v, strlen(v) > ID_KEEP ? "..." : "");
		return json_object_new_string(buf);
	}
	if (name && secret_name(name, strlen(name)))
		return json_object_new_string(REDACTED);
	if (strstr(v, "://") || (name && strcasestr(name, "proxy"))) {
		char *b = NULL;
		size_t bl = 0;
		FILE *f = open_memstream(&b, &bl);
		struct json_object *o;
		if (!f)
			return NULL;
		put_url_redacted(f, v, strlen(v), name && strcasestr(name, "proxy"));
		fclose(f);
		o = b ? json_object_new_string(b) : NULL;
		free(b);
		return o;
	}
	return NULL; /* unchanged */
}

/* Walks @o replacing secret strings in place. */
static void redact_json(struct json_object *o, const char *name, struct json_object *parent,
			size_t idx)
{
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			redact_json(v, k, o, 0);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			redact_json(json_object_array_get_idx(o, i), name, o, i);
	} else if (json_object_is_type(o, json_type_string)) {
		struct json_object *r = redact_string(name, json_object_get_string(o));
		if (!r)
			return;
		if (json_object_is_type(parent, json_type_array))
			json_object_array_put_idx(parent, idx, r);
		else
			json_object_object_add(parent, name, r);
	} else if (name && secret_name(name, strlen(name)) &&
		   !json_object_is_type(o, json_type_null) && parent &&
		   json_object_is_type(parent, json_type_object)) {
		json_object_object_add(parent, name, json_object_new_string(REDACTED));
	}
}

/* A JSON document redacted and re-encoded; a file that is not JSON is redacted line by line. */
static int redact_json_text(const char *in, size_t len, char **out, size_t *out_len,
			    struct kc_err *err)
{
	struct json_tokener *tok = json_tokener_new_ex(32);
	struct json_object *o = tok ? json_tokener_parse_ex(tok, in, (int)len) : NULL;
	int ret = 0;

	if (o && json_tokener_get_error(tok) == json_tokener_success &&
	    (json_object_is_type(o, json_type_object) || json_object_is_type(o, json_type_array))) {
		redact_json(o, NULL, NULL, 0);
		const char *s = json_object_to_json_string_ext(
		    o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
		*out = strdup(s);
		*out_len = *out ? strlen(*out) : 0;
		if (!*out)
			ret = kc_err_set(err, -ENOMEM, "out of memory");
	} else {
		ret = redact_lines(in, len, false, out, out_len, err);
	}
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return ret;
}

/* ---- reading ------------------------------------------------------- */

/*
 * Reads at most @max bytes of the regular file @path into a malloc'd
 * NUL-terminated buffer; *@size is the file's full size (> *@len when cut).
 */
static int read_bounded(const char *path, size_t max, char **buf, size_t *len, off_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	char *b;
	size_t n = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	b = malloc(max + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	/* /proc files say size 0: read to the end (or the bound) whatever stat says */
	while (n < max) {
		ssize_t r = read(fd, b + n, max - n);
		if (r < 0) {
			int e = -errno;
			free(b);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	*size = st.st_size > (off_t)n ? st.st_size : (off_t)n;
	return 0;
}

static void unavailable(struct doc *d, const char *what, const char *path, int code)
{
	if (code == -EINVAL)
		fprintf(d->report, "unavailable: %s: '%s' is not a regular file\n", what, path);
	else
		fprintf(d->report, "unavailable: %s: '%s': %s\n", what, path, strerror(-code));
}

/* ---- writing ------------------------------------------------------- */

static void add_member(struct doc *d, const char *name, const void *data, size_t len)
{
	struct archive_entry *e;

	if (d->failed)
		return;
	e = archive_entry_new();
	if (!e) {
		d->failed = kc_err_set(d->err, -ENOMEM, "out of memory");
		return;
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, d->now, 0);
	if (archive_write_header(d->a, e) != ARCHIVE_OK ||
	    (len && archive_write_data(d->a, data, len) != (la_ssize_t)len)) {
		int e2 = archive_errno(d->a);
		d->failed = kc_err_set(d->err, e2 > 0 ? -e2 : -EIO, "cannot write member '%s': %s",
				       name, archive_error_string(d->a));
	}
	archive_entry_free(e);
}

/* Collects one file as member @name, redacted as @how, or notes why it could not. */
static void collect_file(struct doc *d, const char *name, const char *path, enum redact how)
{
	struct kc_err err = KC_ERR_INIT;
	char *buf = NULL, *red = NULL;
	size_t len = 0, rlen = 0;
	off_t size = 0;
	int ret = read_bounded(path, KC_DOCTOR_FILE_MAX, &buf, &len, &size);

	if (ret < 0) {
		unavailable(d, name, path, ret);
		return;
	}
	switch (how) {
	case R_NONE:
		break;
	case R_CONF:
	case R_SYSTEMID:
		ret = redact_lines(buf, len, how == R_SYSTEMID, &red, &rlen, &err);
		break;
	case R_JSON:
		ret = redact_json_text(buf, len, &red, &rlen, &err);
		break;
	}
	if (ret < 0) {
		/* never fall back to the unredacted text */
		fprintf(d->report, "unavailable: %s: %s\n", name, err.msg);
	} else {
		add_member(d, name, red ? red : buf, red ? rlen : len);
		fprintf(d->report, "collected: %s (%s)\n", name, path);
		if (size > (off_t)len)
			fprintf(d->report, "truncated: %s: first %zu of %lld bytes\n", name, len,
				(long long)size);
	}
	free(red);
	free(buf);
}

/* ---- the items ----------------------------------------------------- */

static void report_header(struct doc *d, const struct kc_agent_paths *p)
{
	static const char *const env[] = {"https_proxy", "HTTPS_PROXY", "http_proxy",
					  "HTTP_PROXY",	 "no_proxy",	"NO_PROXY"};
	char tbuf[32], host[256], path[KC_AGENT_PATH_MAX + 32];
	struct utsname u;
	struct tm tm;
	char *buf = NULL;
	size_t len;
	off_t size;
	int ret;

	gmtime_r(&d->now, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(d->report, "kcare doctor report\n");
	fprintf(d->report, "time: %s\n", tbuf);
	fprintf(d->report, "agent: kcarectl %s\n", KC_VERSION);
	fprintf(d->report, "root: %s\n", p->root[0] ? p->root : "/");
	fprintf(d->report, "euid: %u\n", (unsigned)geteuid());
	if (uname(&u) == 0)
		fprintf(d->report, "uname: %s %s %s %s %s\n", u.sysname, u.nodename, u.release,
			u.version, u.machine);
	else
		fprintf(d->report, "unavailable: uname: %s\n", strerror(errno));
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		fprintf(d->report, "hostname: %s\n", host);
	} else {
		fprintf(d->report, "unavailable: hostname: %s\n", strerror(errno));
	}
	ret = read_bounded("/proc/uptime", 256, &buf, &len, &size);
	if (ret == 0) {
		fprintf(d->report, "uptime: %lld s\n", (long long)strtod(buf, NULL));
		free(buf);
	} else {
		unavailable(d, "uptime", "/proc/uptime", ret);
	}
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		const char *v = getenv(env[i]);
		if (!v)
			continue;
		fprintf(d->report, "environment: %s=", env[i]);
		put_url_redacted(d->report, v, strlen(v), true);
		fputc('\n', d->report);
	}
	/* os-release: /etc first, /usr/lib as the fallback the format defines */
	ret = kc_agent_path(p, "/etc/os-release", path, sizeof(path), NULL);
	if (ret == 0)
		ret = read_bounded(path, 64 * 1024, &buf, &len, &size);
	if (ret < 0 && kc_agent_path(p, "/usr/lib/os-release", path, sizeof(path), NULL) == 0)
		ret = read_bounded(path, 64 * 1024, &buf, &len, &size);
	if (ret == 0) {
		fprintf(d->report, "os-release: %s\n", path);
		for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save))
			fprintf(d->report, "  %s\n", l);
		free(buf);
	} else {
		unavailable(d, "os-release", path, ret);
	}
	fputc('\n', d->report);
}

/* Regular files directly under /var/lib/kcare, as state/NAME; the trust state is trust.txt. */
static void collect_state(struct doc *d, const struct kc_agent_paths *p)
{
	const char *lock = strrchr(p->lock, '/') + 1;
	char path[KC_AGENT_PATH_MAX + 300], name[300];
	struct dirent **ents = NULL;
	int n = scandir(p->state_dir, &ents, NULL, alphasort);

	if (n < 0) {
		unavailable(d, "state", p->state_dir, -errno);
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		struct stat st;

		if (e[0] == '.' || !strcmp(e, lock) || !strcmp(e, "trust") || i >= STATE_MAX_FILES)
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->state_dir, e);
		snprintf(name, sizeof(name), "state/%s", e);
		if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			fprintf(d->report, "skipped: %s: not a regular file\n", name);
			continue;
		}
		size_t l = strlen(e);
		collect_file(d, name, path, l > 5 && !strcmp(e + l - 5, ".json") ? R_JSON : R_CONF);
	}
	if (n > STATE_MAX_FILES)
		fprintf(d->report, "truncated: state: first %d of %d entries\n", STATE_MAX_FILES,
			n);
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
}

static void collect_trust(struct doc *d, const struct kc_agent_paths *p)
{
	char cur[KC_AGENT_PATH_MAX + 16], path[KC_AGENT_PATH_MAX + 300], target[256];
	struct dirent **ents = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	ssize_t tl;
	int n;

	snprintf(cur, sizeof(cur), "%s/current", p->trust_dir);
	n = scandir(cur, &ents, NULL, alphasort);
	if (n < 0) {
		unavailable(d, "trust.txt", cur, -errno);
		return;
	}
	f = open_memstream(&buf, &len);
	if (f) {
		tl = readlink(cur, target, sizeof(target) - 1);
		if (tl >= 0) {
			target[tl] = '\0';
			fprintf(f, "current -> %s\n", target);
		}
		for (int i = 0; i < n; i++) {
			struct stat st;
			if (ents[i]->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", cur, ents[i]->d_name);
			if (lstat(path, &st) == 0)
				fprintf(f, "%10lld %s\n", (long long)st.st_size, ents[i]->d_name);
		}
		fclose(f);
	}
	if (buf) {
		add_member(d, "trust.txt", buf, len);
		fprintf(d->report, "collected: trust.txt (%s)\n", cur);
	}
	free(buf);
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
}

/* Resource limits and privileges of the agent process itself. */
static void collect_limits(struct doc *d)
{
	static const char *const keep[] = {
	    "Uid:",    "Gid:",	      "Groups:",  "CapPrm:", "CapEff:",
	    "CapBnd:", "NoNewPrivs:", "Seccomp:", "VmRSS:",  "Threads:"};
	char *out = NULL, *buf = NULL;
	size_t olen = 0, len;
	off_t size;
	FILE *f = open_memstream(&out, &olen);
	int ret;

	if (!f)
		return;
	ret = read_bounded("/proc/self/limits", 64 * 1024, &buf, &len, &size);
	if (ret == 0) {
		fwrite(buf, 1, len, f);
		free(buf);
	} else {
		unavailable(d, "limits.txt", "/proc/self/limits", ret);
	}
	ret = read_bounded("/proc/self/status", 64 * 1024, &buf, &len, &size);
	if (ret == 0) {
		fputc('\n', f);
		for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save))
			for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
				if (!strncmp(l, keep[k], strlen(keep[k])))
					fprintf(f, "%s\n", l);
		free(buf);
	} else {
		unavailable(d, "limits.txt", "/proc/self/status", ret);
	}
	fclose(f);
	if (out && olen) {
		add_member(d, "limits.txt", out, olen);
		fprintf(d->report, "collected: limits.txt (/proc/self)\n");
	}
	free(out);
}

static void mode_string(mode_t m, char *s)
{
	static const char rwx[] = "rwxrwxrwx";

	s[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISREG(m) ? '-' : '?';
	for (int i = 0; i < 9; i++)
		s[i + 1] = (m & (0400u >> i)) ? rwx[i] : '-';
	s[10] = '\0';
}

/* ls -lR of @dir into @f, relative names under @rel; *@budget entries at most. */
static void list_dir(FILE *f, const char *dir, const char *rel, int depth, int *budget)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);

	if (n < 0) {
		fprintf(f, "%s: %s\n", rel[0] ? rel : ".", strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		char path[KC_AGENT_PATH_MAX + 300], name[KC_AGENT_PATH_MAX], mode[11], tb[32];
		const char *e = ents[i]->d_name;
		struct stat st;
		struct tm tm;

		if (!strcmp(e, ".") || !strcmp(e, ".."))
			continue;
		if (*budget <= 0) {
			fprintf(f, "... (listing cut at %d entries)\n", LIST_MAX_ITEMS);
			break;
		}
		(*budget)--;
		snprintf(path, sizeof(path), "%s/%s", dir, e);
		snprintf(name, sizeof(name), "%s%s%s", rel, rel[0] ? "/" : "", e);
		if (lstat(path, &st) < 0) {
			fprintf(f, "?????????? %s: %s\n", name, strerror(errno));
			continue;
		}
		mode_string(st.st_mode, mode);
		gmtime_r(&st.st_mtime, &tm);
		strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(f, "%s %5u %5u %10lld %s %s", mode, (unsigned)st.st_uid,
			(unsigned)st.st_gid, (long long)st.st_size, tb, name);
		if (S_ISLNK(st.st_mode)) {
			char t[256];
			ssize_t tl = readlink(path, t, sizeof(t) - 1);
			if (tl >= 0)
				fprintf(f, " -> %.*s", (int)tl, t);
		}
		fputc('\n', f);
		/* earlier reports (and this one, half written) say nothing about the agent */
		if (S_ISDIR(st.st_mode) && depth < LIST_MAX_DEPTH &&
		    !(depth == 0 && !strcmp(e, "doctor")))
			list_dir(f, path, name, depth + 1, budget);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
}

static void collect_cache_listing(struct doc *d, const struct kc_agent_paths *p)
{
	struct stat st;
	char *out = NULL;
	size_t olen = 0;
	int budget = LIST_MAX_ITEMS;
	FILE *f;

	if (stat(p->cache_dir, &st) < 0) {
		unavailable(d, "cache.txt", p->cache_dir, -errno);
		return;
	}
	f = open_memstream(&out, &olen);
	if (!f)
		return;
	fprintf(f, "%s:\n", p->cache_dir);
	list_dir(f, p->cache_dir, "", 0, &budget);
	fclose(f);
	if (out) {
		add_member(d, "cache.txt", out, olen);
		fprintf(d->report, "collected: cache.txt (%s)\n", p->cache_dir);
	}
	free(out);
}

static void collect_rooted(struct doc *d, const struct kc_agent_paths *p, const char *name,
			   const char *abs)
{
	char path[KC_AGENT_PATH_MAX];

	if (kc_agent_path(p, abs, path, sizeof(path), NULL) < 0)
		unavailable(d, name, abs, -ENAMETOOLONG);
	else
		collect_file(d, name, path, R_NONE);
}

/* ---- the archive --------------------------------------------------- */

static int section_name_ok(const char *s)
{
	static const char *const taken[] = {"report", "trust", "limits", "cache"};
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
		if (!strcmp(s, taken[i]))
			return 0;
	return 1;
}

/* mkdir -p of @path (0755 for parents), then @path itself with @mode, enforced. */
static int make_dir(const char *path, mode_t mode, struct kc_err *err)
{
	char tmp[KC_AGENT_PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return kc_err_set(err, -ENAMETOOLONG, "path '%s' is too long", path);
	memcpy(tmp, path, n + 1);
	for (char *s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return kc_err_set(err, -errno, "cannot create directory '%s': %s", tmp,
					  strerror(errno));
		*s = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return kc_err_set(err, -errno, "cannot create directory '%s': %s", path,
				  strerror(errno));
	/* an existing directory may be wider: a report holds host details */
	if (chmod(path, mode) < 0)
		return kc_err_set(err, -errno, "cannot set the mode of '%s': %s", path,
				  strerror(errno));
	return 0;
}

/* A report name not taken yet (the pid in it keeps two runs apart). */
static int output_name(const char *dir, time_t now, char *final, size_t fsize, struct kc_err *err)
{
	char stamp[32];
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	for (int i = 0; i < 100; i++) {
		char sfx[16] = "";
		struct stat st;
		int n;

		if (i)
			snprintf(sfx, sizeof(sfx), "-%d", i);
		n = snprintf(final, fsize, "%s/kcare-report-%s-%ld%s.tar.gz", dir, stamp,
			     (long)getpid(), sfx);
		if (n < 0 || (size_t)n >= fsize)
			return kc_err_set(err, -ENAMETOOLONG, "report path in '%s' is too long",
					  dir);
		if (lstat(final, &st) < 0 && errno == ENOENT)
			return 0;
	}
	return kc_err_set(err, -EEXIST, "no free report name in '%s'", dir);
}

static void collect_all(struct doc *d, const struct kc_agent_paths *p,
			const struct kc_doctor_section *extra, size_t nextra)
{
	report_header(d, p);
	collect_file(d, "kcare.conf", p->conf, R_CONF);
	collect_file(d, "systemid", p->systemid, R_SYSTEMID);
	collect_state(d, p);
	collect_trust(d, p);
	collect_file(d, "blacklist-packaged", p->blacklist_pkg, R_NONE);
	collect_file(d, "blacklist-user", p->blacklist_user, R_NONE);
	collect_rooted(d, p, "cron/libcare-cron", "/etc/cron.d/libcare-cron");
	collect_rooted(d, p, "cron/libcare-cron.service",
		       "/etc/systemd/system/libcare-cron.service");
	collect_rooted(d, p, "cron/libcare-cron.timer", "/etc/systemd/system/libcare-cron.timer");
	collect_rooted(d, p, "audit/kernelcare.rules", "/etc/audit/rules.d/kernelcare.rules");
	collect_limits(d);
	collect_cache_listing(d, p);
	for (size_t i = 0; i < nextra; i++) {
		char name[80];
		snprintf(name, sizeof(name), "%s.txt", extra[i].name);
		add_member(d, name, extra[i].text ? extra[i].text : "",
			   extra[i].text ? strlen(extra[i].text) : 0);
		fprintf(d->report, "collected: %s (from kcarectl)\n", name);
	}
}

int kc_doctor_collect(const struct kc_agent_paths *paths, const struct kc_doctor_section *extra,
		      size_t nextra, char *out_path, size_t out_size, struct kc_err *err)
{
	char dir[KC_AGENT_PATH_MAX + 16], final[KC_AGENT_PATH_MAX + 100];
	struct doc d = {.err = err, .now = time(NULL)};
	struct kc_file_atomic f = {.fd = -1};
	int ret;

	KC_BUG_ON(!paths || !out_path || (nextra && !extra));
	for (size_t i = 0; i < nextra; i++)
		if (!extra[i].name || !section_name_ok(extra[i].name))
			return kc_err_set(err, -EINVAL, "invalid report section name '%s'",
					  extra[i].name ? extra[i].name : "(null)");
	ret = snprintf(dir, sizeof(dir), "%s/doctor", paths->cache_dir);
	if (ret < 0 || (size_t)ret >= sizeof(dir))
		return kc_err_set(err, -ENAMETOOLONG, "path '%s/doctor' is too long",
				  paths->cache_dir);
	ret = make_dir(dir, 0700, err);
	if (ret < 0)
		return ret;
	ret = output_name(dir, d.now, final, sizeof(final), err);
	if (ret < 0)
		return ret;
	if (strlen(final) >= out_size)
		return kc_err_set(err, -ENAMETOOLONG, "report path '%s' does not fit", final);
	ret = kc_file_atomic_open(&f, final, 0600, err);
	if (ret < 0)
		return ret;
	d.report = open_memstream(&d.report_buf, &d.report_len);
	d.a = archive_write_new();
	if (!d.report || !d.a) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (archive_write_set_format_pax_restricted(d.a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(d.a) != ARCHIVE_OK ||
	    archive_write_open_fd(d.a, f.fd) != ARCHIVE_OK) {
		ret = kc_err_set(err, -EIO, "cannot start report '%s': %s", final,
				 archive_error_string(d.a));
		goto out;
	}
	collect_all(&d, paths, extra, nextra);
	if (fclose(d.report) != 0 || !d.report_buf) {
		d.report = NULL;
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	d.report = NULL;
	add_member(&d, "report.txt", d.report_buf, d.report_len);
	if (d.failed) {
		ret = kc_err_prefix(err, "report '%s'", final);
		goto out;
	}
	if (archive_write_close(d.a) != ARCHIVE_OK) {
		int e = archive_errno(d.a);
		ret = kc_err_set(err, e > 0 ? -e : -EIO, "cannot write report '%s': %s", final,
				 archive_error_string(d.a));
		goto out;
	}
	ret = kc_file_atomic_commit(&f, err);
	if (ret == 0)
		snprintf(out_path, out_size, "%s", final);
out:
	if (d.a)
		archive_write_free(d.a);
	if (d.report)
		fclose(d.report);
	free(d.report_buf);
	kc_file_atomic_abort(&f);
	return ret;
}
