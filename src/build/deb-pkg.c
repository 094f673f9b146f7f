// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The installed Debian package a patch is for, as dpkg sees it: its
 * installed version, its source package and source version, and the
 * shared objects it installs (regular ELF files named *.so*). Nothing
 * here talks to apt or the network.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/deb-int.h"

void kc_deb_upstream_version(const char *version, char *buf, size_t bufsz)
{
	const char *colon = strchr(version, ':'), *dash;
	size_t n;

	if (colon)
		version = colon + 1;
	dash = strrchr(version, '-');
	n = dash ? (size_t)(dash - version) : strlen(version);
	snprintf(buf, bufsz, "%.*s", (int)n, version);
}

/* A regular ELF shared object (not a symlink, not an executable). */
static int pkg_is_shared_object(const char *path)
{
	unsigned char h[18];
	struct stat st;
	const char *base = strrchr(path, '/');
	int fd, ok = 0;

	base = base ? base + 1 : path;
	if (!strstr(base, ".so") || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (read(fd, h, sizeof(h)) == (ssize_t)sizeof(h))
		ok = !memcmp(h, "\177ELF", 4) && h[4] == 2 && h[16] == 3 && h[17] == 0;
	close(fd);
	return ok;
}

/* Splits the dpkg-query line "pkg\tversion\tsource\tsrcversion\tstatus\tarch". */
static int pkg_parse_line(char *line, char **f, size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		f[i] = line;
		line = strchr(line, i + 1 < nf ? '\t' : '\n');
		if (!line)
			return i + 1 == nf ? 0 : -1;
		*line++ = '\0';
	}
	return 0;
}

static int pkg_pick(struct kc_deb_pkg *p, const char *package, char *text, struct kc_err *err)
{
	char *native = NULL, *line = text, *next, *f[6];
	const char *const argv[] = {"dpkg", "--print-architecture", NULL};
	struct kc_deb_cmd c = {.argv = argv, .out = &native};
	int found = 0, ret;

	ret = kc_deb_exec(&c, err);
	if (ret != 0 || !native) {
		free(native);
		return kc_err_set(err, ret < 0 ? ret : -ECHILD, "dpkg --print-architecture failed");
	}
	native[strcspn(native, "\n")] = '\0';
	for (; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (pkg_parse_line(line, f, 6) < 0 || strcmp(f[4], "installed"))
			continue;
		/* several architectures installed (multiarch): the native one */
		if (found && strcmp(f[5], native))
			continue;
		snprintf(p->name, sizeof(p->name), "%s", f[0]);
		snprintf(p->version, sizeof(p->version), "%s", f[1]);
		snprintf(p->source, sizeof(p->source), "%s", f[2]);
		snprintf(p->src_version, sizeof(p->src_version), "%s", f[3]);
		found = 1;
	}
	free(native);
	if (!found)
		return kc_err_set(err, -ENOENT, "package '%s' is not installed", package);
	kc_deb_upstream_version(p->src_version, p->upstream, sizeof(p->upstream));
	return 0;
}

static int pkg_objects(struct kc_deb_pkg *p, struct kc_err *err)
{
	const char *const argv[] = {"dpkg-query", "-L", p->name, NULL};
	struct kc_deb_cmd c = {.argv = argv};
	char *text = NULL, *line, *next, **nv;
	int ret;

	c.out = &text;
	ret = kc_deb_exec(&c, err);
	if (ret != 0) {
		free(text);
		return ret < 0 ? ret
			       : kc_err_set(err, -ECHILD, "dpkg-query -L '%s' failed", p->name);
	}
	for (line = text; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!pkg_is_shared_object(line))
			continue;
		nv = realloc(p->objects, (p->nobjects + 1) * sizeof(*nv));
		if (!nv || !(nv[p->nobjects] = strdup(line))) {
			if (nv)
				p->objects = nv;
			free(text);
			return kc_err_set(err, -ENOMEM, "out of memory");
		}
		p->objects = nv;
		p->nobjects++;
	}
	free(text);
	if (!p->nobjects)
		return kc_err_set(err, -ENOEXEC, "package '%s' installs no shared object", p->name);
	return 0;
}

int kc_deb_pkg_query(const char *package, struct kc_deb_pkg *p, struct kc_err *err)
{
	const char *const argv[] = {
	    "dpkg-query", "-W",
	    "-f=${binary:Package}\\t${Version}\\t${source:Package}\\t${source:Version}\\t"
	    "${db:Status-Status}\\t${Architecture}\\n",
	    package, NULL};
	struct kc_deb_cmd c = {.argv = argv};
	char *text = NULL;
	int ret;

	memset(p, 0, sizeof(*p));
	if (!*package ||
	    strspn(package, "abcdefghijklmnopqrstuvwxyz0123456789+-.:") != strlen(package))
		return kc_err_set(err, -EINVAL, "bad package name '%s'", package);
	c.out = &text;
	ret = kc_deb_exec(&c, err);
	if (ret < 0)
		return ret;
	ret = ret ? kc_err_set(err, -ENOENT, "package '%s' is not installed", package)
		  : pkg_pick(p, package, text, err);
	free(text);
	if (ret == 0)
		ret = pkg_objects(p, err);
	if (ret < 0)
		kc_deb_pkg_release(p);
	return ret;
}

void kc_deb_pkg_release(struct kc_deb_pkg *p)
{
	for (size_t i = 0; i < p->nobjects; i++)
		free(p->objects[i]);
	free(p->objects);
	p->objects = NULL;
	p->nobjects = 0;
}
