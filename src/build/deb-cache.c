// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cache of checked rebuilds: one directory per source package and
 * version (ROOT/SOURCE/VERSION, an epoch's ':' written '_'), locked for
 * the whole run so that two runs never build into one tree. It holds
 *   src/       apt-get source: the pristine tree SOURCE-UPSTREAM
 *   build/     the rebuilt tree (a copy of the pristine one, built)
 *   logs/      one log per step
 *   manifest   written last, atomically: which rebuilt file is which
 *              installed object and how they matched
 * A directory without a manifest is an unfinished rebuild, never used.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/deb-int.h"
#include "kcare/conf.h"

#define CACHE_MAGIC "kcare-build-deb-cache 1"

static int cache_mkdirs(const char *path, struct kc_err *err)
{
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return kc_err_set(err, -ENAMETOOLONG, "path too long '%s'", path);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return kc_err_set(err, -errno, "cannot create '%s': %s", buf,
					  strerror(errno));
		*s = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return kc_err_set(err, -errno, "cannot create '%s': %s", buf, strerror(errno));
	return 0;
}

char *kc_deb_cache_path(const struct kc_deb_cache *c, const char *rel)
{
	char *p;

	return asprintf(&p, "%s/%s", c->dir, rel) < 0 ? NULL : p;
}

static void cache_forget(struct kc_deb_cache *c)
{
	for (size_t i = 0; i < c->nobjs; i++) {
		free(c->objs[i].installed);
		free(c->objs[i].rebuilt);
	}
	free(c->objs);
	free(c->mode);
	c->objs = NULL;
	c->nobjs = 0;
	c->mode = NULL;
}

/* "object HOW BUILDID INSTALLED\tREBUILT" */
static int cache_parse_object(struct kc_deb_cache *c, char *line)
{
	char *tab = strchr(line, '\t'), *sp1, *sp2;
	struct kc_deb_obj o = {0}, *nv;

	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!tab || !sp1 || !sp2 || sp2 > tab)
		return -EINVAL;
	*sp1 = *sp2 = *tab = '\0';
	o.how = atoi(line);
	if ((o.how != KC_DEB_SAME_BUILDID && o.how != KC_DEB_SAME_SECTIONS) ||
	    kc_buildid_from_hex(sp1 + 1, &o.id, NULL) < 0)
		return -EINVAL;
	nv = realloc(c->objs, (c->nobjs + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->objs = nv;
	o.installed = strdup(sp2 + 1);
	o.rebuilt = strdup(tab + 1);
	if (!o.installed || !o.rebuilt) {
		free(o.installed);
		free(o.rebuilt);
		return -ENOMEM;
	}
	c->objs[c->nobjs++] = o;
	return 0;
}

/* A missing or unreadable manifest is no cache; never an error. */
static void cache_read_manifest(struct kc_deb_cache *c)
{
	char *path = kc_deb_cache_path(c, "manifest"), line[8192];
	FILE *f = path ? fopen(path, "re") : NULL;
	int ok = 0;

	free(path);
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f) || strncmp(line, CACHE_MAGIC "\n", sizeof(line)))
		goto out;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "mode ", 5)) {
			free(c->mode);
			if (!(c->mode = strdup(line + 5)))
				goto out;
		} else if (!strncmp(line, "object ", 7)) {
			if (cache_parse_object(c, line + 7) < 0)
				goto out;
		} else if (!strcmp(line, "end")) {
			ok = c->mode && c->nobjs;
		}
	}
out:
	fclose(f);
	if (!ok)
		cache_forget(c);
}

int kc_deb_cache_open(const char *root, const char *source, const char *version,
		      struct kc_deb_cache *c, struct kc_err *err)
{
	char ver[256], *lock = NULL;
	int ret;

	memset(c, 0, sizeof(*c));
	c->lock_fd = -1;
	snprintf(ver, sizeof(ver), "%s", version);
	for (char *s = ver; *s; s++)
		if (*s == ':' || *s == '/')
			*s = '_';
	if (strchr(source, '/') || asprintf(&c->dir, "%s/%s/%s", root, source, ver) < 0) {
		c->dir = NULL;
		return kc_err_set(err, -EINVAL, "bad source package '%s'", source);
	}
	if ((ret = cache_mkdirs(c->dir, err)) < 0)
		return kc_err_prefix(err, "cache");
	lock = kc_deb_cache_path(c, "lock");
	if (!lock)
		return kc_err_set(err, -ENOMEM, "out of memory");
	c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (c->lock_fd < 0 || flock(c->lock_fd, LOCK_EX) < 0) {
		ret = kc_err_set(err, -errno, "cannot lock '%s': %s", lock, strerror(errno));
		free(lock);
		return ret;
	}
	free(lock);
	cache_read_manifest(c);
	return 0;
}

void kc_deb_cache_close(struct kc_deb_cache *c)
{
	cache_forget(c);
	if (c->lock_fd >= 0)
		close(c->lock_fd); /* drops the flock */
	free(c->dir);
	c->dir = NULL;
	c->lock_fd = -1;
}

static int cache_rm(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int kc_deb_rmtree(const char *path, struct kc_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0 && errno == ENOENT)
		return 0;
	if (nftw(path, cache_rm, 32, FTW_DEPTH | FTW_PHYS) < 0)
		return kc_err_set(err, -errno, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

int kc_deb_cache_reset(struct kc_deb_cache *c, struct kc_err *err)
{
	static const char *const parts[] = {"manifest", "build", "src", "logs"};
	char *p;
	int ret = 0;

	cache_forget(c);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && ret == 0; i++) {
		if (!(p = kc_deb_cache_path(c, parts[i])))
			return kc_err_set(err, -ENOMEM, "out of memory");
		ret = kc_deb_rmtree(p, err);
		free(p);
	}
	return ret;
}

int kc_deb_cache_commit(struct kc_deb_cache *c, const char *mode, const struct kc_deb_obj *objs,
			size_t n, struct kc_err *err)
{
	char *path = kc_deb_cache_path(c, "manifest"), *text = NULL;
	char hex[2 * KC_BUILDID_MAX + 1];
	size_t len = 0;
	FILE *f = NULL;
	int ret = 0;

	if (!path || !(f = open_memstream(&text, &len))) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	fprintf(f, CACHE_MAGIC "\nmode %s\n", mode);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "object %d %s %s\t%s\n", (int)objs[i].how,
			kc_buildid_to_hex(&objs[i].id, hex, sizeof(hex)), objs[i].installed,
			objs[i].rebuilt);
	fprintf(f, "end\n");
	if (fclose(f) != 0) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	ret = kc_file_replace(path, text, len, 0644, err);
	if (ret < 0)
		goto out;
	/* @c now describes what is on disk (callers may pass c->objs themselves: copy first) */
	cache_forget(c);
	cache_read_manifest(c);
out:
	free(path);
	free(text);
	return ret;
}
