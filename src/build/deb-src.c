// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The source of an installed package, from the archive: deb-src entries
 * derived from the host's own deb entries (one-line .list and deb822
 * .sources), whether the archive still has the exact installed version,
 * and apt-get source. Never builds against another version than the
 * installed one: that would make a patch for different code.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/deb-int.h"

#define SRC_APT_ETC "/etc/apt"

struct src_entry {
	int src;	  /* deb-src */
	char uri[512];	  /* without a trailing slash */
	char suites[512]; /* space separated */
	char comps[512];
	char opts[512];	  /* one-line: the text inside [ ] */
	const char *para; /* deb822: the paragraph (borrowed), its length */
	size_t paralen;
};

struct src_list {
	struct src_entry *v;
	size_t n;
};

static int src_push(struct src_list *l, const struct src_entry *e)
{
	struct src_entry *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n++] = *e;
	return 0;
}

static void src_trim_uri(char *uri)
{
	size_t n = strlen(uri);

	while (n > 1 && uri[n - 1] == '/')
		uri[--n] = '\0';
}

/* "deb [signed-by=/k.gpg] http://x/debian bookworm main" */
static int src_parse_line(const char *line, struct src_list *l)
{
	struct src_entry e = {0};
	char buf[2048], *s = buf, *tok, *end;

	snprintf(buf, sizeof(buf), "%s", line);
	s += strspn(s, " \t");
	if (!strncmp(s, "deb-src", 7) && (s[7] == ' ' || s[7] == '\t'))
		e.src = 1, s += 7;
	else if (!strncmp(s, "deb", 3) && (s[3] == ' ' || s[3] == '\t'))
		s += 3;
	else
		return 0;
	s += strspn(s, " \t");
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return 0;
		snprintf(e.opts, sizeof(e.opts), "%.*s", (int)(end - s - 1), s + 1);
		s = end + 1;
	}
	if (!(tok = strtok(s, " \t")))
		return 0;
	snprintf(e.uri, sizeof(e.uri), "%s", tok);
	src_trim_uri(e.uri);
	if (!(tok = strtok(NULL, " \t")))
		return 0;
	snprintf(e.suites, sizeof(e.suites), "%s", tok);
	while ((tok = strtok(NULL, " \t")) != NULL) {
		if (*e.comps)
			strncat(e.comps, " ", sizeof(e.comps) - strlen(e.comps) - 1);
		strncat(e.comps, tok, sizeof(e.comps) - strlen(e.comps) - 1);
	}
	return src_push(l, &e);
}

/* The value of field @key in a deb822 paragraph (first line only), into @buf. */
static int src_field(const char *para, size_t len, const char *key, char *buf, size_t bufsz)
{
	size_t klen = strlen(key);

	for (const char *s = para; s < para + len;) {
		const char *nl = memchr(s, '\n', (size_t)(para + len - s));
		size_t ll = nl ? (size_t)(nl - s) : (size_t)(para + len - s);

		if (ll > klen && !strncasecmp(s, key, klen) && s[klen] == ':') {
			const char *v = s + klen + 1;
			size_t vl = ll - klen - 1;

			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
				vl--;
			snprintf(buf, bufsz, "%.*s", (int)vl, v);
			return 1;
		}
		s += ll + 1;
	}
	buf[0] = '\0';
	return 0;
}

static int src_has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *s = list; (s = strstr(s, word)) != NULL; s += n)
		if ((s == list || s[-1] == ' ' || s[-1] == '\t') &&
		    (s[n] == '\0' || s[n] == ' ' || s[n] == '\t'))
			return 1;
	return 0;
}

/* One deb822 paragraph: one entry per URI. */
static int src_parse_para(const char *para, size_t len, struct src_list *l)
{
	char types[128], uris[1024], enabled[16], *tok, *save;
	struct src_entry e = {0};
	int ret;

	if (!src_field(para, len, "Types", types, sizeof(types)) ||
	    !src_field(para, len, "URIs", uris, sizeof(uris)) ||
	    !src_field(para, len, "Suites", e.suites, sizeof(e.suites)))
		return 0;
	if (src_field(para, len, "Enabled", enabled, sizeof(enabled)) && !strcasecmp(enabled, "no"))
		return 0;
	src_field(para, len, "Components", e.comps, sizeof(e.comps));
	e.para = para;
	e.paralen = len;
	for (int src = 0; src < 2; src++) {
		if (!src_has_word(types, src ? "deb-src" : "deb"))
			continue;
		e.src = src;
		for (tok = strtok_r(uris, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
			snprintf(e.uri, sizeof(e.uri), "%s", tok);
			src_trim_uri(e.uri);
			if ((ret = src_push(l, &e)) < 0)
				return ret;
		}
		src_field(para, len, "URIs", uris, sizeof(uris));
	}
	return 0;
}

static int src_parse(const struct kc_deb_aptfile *f, struct src_list *l)
{
	const char *s = f->text, *nl, *start = NULL;
	char line[2048];
	int ret;

	for (; *s; s = nl ? nl + 1 : s + strlen(s)) {
		nl = strchr(s, '\n');
		size_t ll = nl ? (size_t)(nl - s) : strlen(s);

		if (!f->deb822) {
			snprintf(line, sizeof(line), "%.*s", (int)ll, s);
			line[strcspn(line, "#")] = '\0';
			if ((ret = src_parse_line(line, l)) < 0)
				return ret;
			continue;
		}
		/* deb822: comment lines drop out, blank lines end a paragraph */
		if (strspn(s, " \t\r") == ll) {
			if (start && (ret = src_parse_para(start, (size_t)(s - start), l)) < 0)
				return ret;
			start = NULL;
		} else if (!start && *s != '#') {
			start = s;
		}
	}
	if (start)
		return src_parse_para(start, strlen(start), l);
	return 0;
}

/* One-line options ("signed-by=/k arch=amd64") as deb822 fields. */
static void src_emit_opts(FILE *o, const char *opts)
{
	static const char *const map[][2] = {
	    {"signed-by", "Signed-By"},
	    {"arch", "Architectures"},
	    {"trusted", "Trusted"},
	    {"lang", "Languages"},
	    {"check-valid-until", "Check-Valid-Until"},
	};
	char buf[512], *tok, *save, *eq;

	snprintf(buf, sizeof(buf), "%s", opts);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (!(eq = strchr(tok, '=')))
			continue;
		*eq = '\0';
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (!strcmp(tok, map[i][0]))
				fprintf(o, "%s: %s\n", map[i][1], eq + 1);
	}
}

/* A deb822 paragraph's fields except Types, URIs and Suites, continuation lines kept. */
static void src_emit_para_rest(FILE *o, const char *para, size_t len)
{
	int skip = 0;

	for (const char *s = para; s < para + len;) {
		const char *nl = memchr(s, '\n', (size_t)(para + len - s));
		size_t ll = nl ? (size_t)(nl - s) : (size_t)(para + len - s);

		if (*s != ' ' && *s != '\t')
			skip = *s == '#' || !strncasecmp(s, "Types:", 6) ||
			       !strncasecmp(s, "URIs:", 5) || !strncasecmp(s, "Suites:", 7) ||
			       !strncasecmp(s, "Enabled:", 8);
		if (!skip && ll)
			fprintf(o, "%.*s\n", (int)ll, s);
		s += ll + 1;
	}
}

static int src_covered(const struct src_list *l, const char *uri, const char *suite)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].src && !strcmp(l->v[i].uri, uri) && src_has_word(l->v[i].suites, suite))
			return 1;
	return 0;
}

int kc_deb_src_derive(const struct kc_deb_aptfile *files, size_t nfiles, const char *codename,
		      char **out, struct kc_err *err)
{
	struct src_list l = {0};
	char want[3][128], suites[512], *tok, *save, buf[512];
	size_t size = 0, added = 0;
	FILE *o;
	int ret = 0;

	*out = NULL;
	snprintf(want[0], sizeof(want[0]), "%s", codename);
	snprintf(want[1], sizeof(want[1]), "%s-updates", codename);
	snprintf(want[2], sizeof(want[2]), "%s-security", codename);
	for (size_t i = 0; i < nfiles; i++)
		if ((ret = src_parse(&files[i], &l)) < 0)
			goto out;
	o = open_memstream(out, &size);
	if (!o) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct src_entry *e = &l.v[i];

		if (e->src)
			continue;
		suites[0] = '\0';
		snprintf(buf, sizeof(buf), "%s", e->suites);
		for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
			int wanted = 0;

			for (int w = 0; w < 3; w++)
				wanted |= !strcmp(tok, want[w]);
			if (!wanted || src_covered(&l, e->uri, tok) || src_has_word(suites, tok))
				continue;
			if (*suites)
				strncat(suites, " ", sizeof(suites) - strlen(suites) - 1);
			strncat(suites, tok, sizeof(suites) - strlen(suites) - 1);
		}
		if (!*suites)
			continue;
		fprintf(o, "%sTypes: deb-src\nURIs: %s\nSuites: %s\n", added ? "\n" : "", e->uri,
			suites);
		if (e->para) {
			src_emit_para_rest(o, e->para, e->paralen);
		} else {
			fprintf(o, "Components: %s\n", e->comps);
			src_emit_opts(o, e->opts);
		}
		added++;
	}
	if (fclose(o) != 0 || !*out)
		ret = -ENOMEM;
out:
	free(l.v);
	if (ret < 0) {
		free(*out);
		*out = NULL;
		return kc_err_set(err, ret, "cannot derive the deb-src entries: %s",
				  strerror(-ret));
	}
	return 0;
}

/* Reads a whole small file. */
static char *src_read(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	/* apt's source lists are small: 1 MiB is plenty */
	buf = malloc(1 << 20);
	if (buf) {
		n = fread(buf, 1, (1 << 20) - 1, f);
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

static int src_codename(char *buf, size_t bufsz, struct kc_err *err)
{
	char *text = src_read("/etc/os-release"), *s;

	if (!text)
		return kc_err_set(err, -ENOENT, "cannot read '/etc/os-release'");
	s = strstr(text, "VERSION_CODENAME=");
	if (s) {
		s += strlen("VERSION_CODENAME=");
		s += *s == '"';
		snprintf(buf, bufsz, "%.*s", (int)strcspn(s, "\"\n"), s);
	}
	free(text);
	if (!s || !*buf)
		return kc_err_set(err, -ENOENT, "'/etc/os-release' names no VERSION_CODENAME");
	return 0;
}

static int src_apt_update(const char *log, struct kc_err *err)
{
	const char *const argv[] = {"apt-get", "-q", "update", NULL};
	struct kc_deb_cmd c = {.argv = argv, .log = log};
	char tail[256];
	int ret = kc_deb_exec(&c, err);

	if (ret < 0)
		return ret;
	if (ret || kc_deb_log_offline(log)) {
		if (kc_deb_log_offline(log))
			return kc_err_set(err, -ENETUNREACH,
					  "apt cannot reach the archive (see '%s')", log);
		return kc_err_set(err, -ECHILD, "apt-get update failed: %s (see '%s')",
				  kc_log_last_line(log, tail, sizeof(tail)), log);
	}
	return 0;
}

int kc_deb_src_ensure(const char *log, int *added, struct kc_err *err)
{
	struct kc_deb_aptfile files[64];
	size_t n = 0;
	char codename[64], *text = NULL, path[1024];
	DIR *d;
	struct dirent *de;
	int ret, fd;

	if ((ret = src_codename(codename, sizeof(codename), err)) < 0)
		return ret;
	if ((files[0].text = src_read(SRC_APT_ETC "/sources.list")) != NULL) {
		files[0].path = SRC_APT_ETC "/sources.list";
		files[0].deb822 = 0;
		n = 1;
	}
	d = opendir(SRC_APT_ETC "/sources.list.d");
	while (d && (de = readdir(d)) != NULL && n < sizeof(files) / sizeof(files[0])) {
		size_t len = strlen(de->d_name);
		int deb822 = len > 8 && !strcmp(de->d_name + len - 8, ".sources");

		if (!deb822 && !(len > 5 && !strcmp(de->d_name + len - 5, ".list")))
			continue;
		snprintf(path, sizeof(path), SRC_APT_ETC "/sources.list.d/%s", de->d_name);
		if ((files[n].text = src_read(path)) == NULL)
			continue;
		files[n].path = NULL;
		files[n++].deb822 = deb822;
	}
	if (d)
		closedir(d);
	ret = kc_deb_src_derive(files, n, codename, &text, err);
	for (size_t i = 0; i < n; i++)
		free((char *)files[i].text);
	if (ret < 0)
		return ret;
	if (!*text) {
		free(text);
		return 0;
	}
	/*
	 * Some are missing: add them in our own file (appending to it when an
	 * earlier run already wrote some), then refresh apt's lists.
	 */
	fd = open(KC_DEB_SRC_LIST, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0)
		*added = 1;
	else if (errno == EEXIST)
		fd = open(KC_DEB_SRC_LIST, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		free(text);
		return kc_err_set(err, -errno, "cannot write '%s': %s", KC_DEB_SRC_LIST,
				  strerror(errno));
	}
	if (lseek(fd, 0, SEEK_END) == 0)
		dprintf(fd, "# deb-src entries added by kcare-build deb, made from the deb "
			    "entries of this host\n");
	else
		dprintf(fd, "\n");
	if (dprintf(fd, "%s", text) < 0 || close(fd) < 0) {
		free(text);
		return kc_err_set(err, -EIO, "cannot write '%s'", KC_DEB_SRC_LIST);
	}
	free(text);
	return src_apt_update(log, err);
}

int kc_deb_src_remove(const char *log, struct kc_err *err)
{
	struct kc_err ignored = KC_ERR_INIT;

	if (unlink(KC_DEB_SRC_LIST) < 0 && errno != ENOENT)
		return kc_err_set(err, -errno, "cannot remove '%s': %s", KC_DEB_SRC_LIST,
				  strerror(errno));
	/* an archive out of reach keeps the indexes until the next update: harmless */
	(void)src_apt_update(log, &ignored);
	return 0;
}

/* "Version: x" lines of apt-cache showsrc, as "x, y, z" into @buf; whether @want is among them. */
static int src_versions(const char *text, const char *want, char *buf, size_t bufsz)
{
	int found = 0;

	buf[0] = '\0';
	for (const char *s = text; (s = strstr(s, "\nVersion: ")) != NULL;) {
		s += strlen("\nVersion: ");
		size_t n = strcspn(s, "\n");

		if (strlen(want) == n && !strncmp(s, want, n))
			found = 1;
		if (strlen(buf) + n + 3 < bufsz)
			snprintf(buf + strlen(buf), bufsz - strlen(buf), "%s%.*s", *buf ? ", " : "",
				 (int)n, s);
	}
	return found;
}

/* The versions of @p's source that apt knows, into @have; whether the installed one is among them.
 */
static int src_query(const struct kc_deb_pkg *p, const char *log, char *have, size_t havesz,
		     struct kc_err *err)
{
	const char *const argv[] = {"apt-cache", "showsrc", "--only-source", p->source, NULL};
	struct kc_deb_cmd c = {.argv = argv, .log = log};
	char *text = NULL, *nl_text = NULL;
	int ret;

	c.out = &text;
	ret = kc_deb_exec(&c, err);
	if (ret < 0)
		return ret;
	/* a leading newline so that the first "Version:" is found like the others */
	if (asprintf(&nl_text, "\n%s", text ? text : "") < 0) {
		free(text);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	free(text);
	ret = src_versions(nl_text, p->src_version, have, havesz);
	free(nl_text);
	return ret;
}

int kc_deb_src_check(const struct kc_deb_pkg *p, const char *log, struct kc_err *err)
{
	char have[512];
	int ret = src_query(p, log, have, sizeof(have), err);

	/* deb-src entries whose lists were never fetched: fetch them once */
	if (ret == 0 && !*have) {
		if ((ret = src_apt_update(log, err)) < 0)
			return ret;
		ret = src_query(p, log, have, sizeof(have), err);
	}
	if (ret < 0)
		return ret;
	if (ret)
		return 0;
	if (!*have)
		return kc_err_set(err, -ENOPKG,
				  "no source for %s %s in the archive (source package '%s' is "
				  "unknown to apt)",
				  p->name, p->version, p->source);
	return kc_err_set(err, -ENOPKG,
			  "no source for %s %s in the archive (it has %s %s); upgrade the package "
			  "first",
			  p->name, p->version, p->source, have);
}

int kc_deb_src_fetch(const struct kc_deb_pkg *p, const char *dir, const char *log,
		     struct kc_err *err)
{
	char spec[300], tail[256];
	const char *const argv[] = {"apt-get", "-q", "source", "--only-source", spec, NULL};
	struct kc_deb_cmd c = {.argv = argv, .cwd = dir, .log = log};
	int ret;

	snprintf(spec, sizeof(spec), "%s=%s", p->source, p->src_version);
	ret = kc_deb_exec(&c, err);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return 0;
	if (kc_deb_log_offline(log))
		return kc_err_set(err, -ENETUNREACH, "apt cannot reach the archive (see '%s')",
				  log);
	kc_log_last_line(log, tail, sizeof(tail));
	/* listed in the index but its files are gone (seen for security updates) */
	if (strstr(tail, "404") || strstr(tail, "Failed to fetch"))
		return kc_err_set(err, -ENOPKG,
				  "no source for %s %s in the archive (its files cannot be "
				  "fetched: see '%s'); upgrade the package first",
				  p->name, p->version, log);
	return kc_err_set(err, -ECHILD, "apt-get source %s failed: %s (see '%s')", spec, tail, log);
}
