// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Copy-on-write working trees of a prepared kernel tree. A tree is 1.5 GB
 * in 85,000 files, of which a build reads nearly all and writes a few:
 * hard links cost no space and a few seconds. kbuild rewrites some of
 * its own outputs in place (".cmd" files through a shell redirection),
 * which through a hard link would change the cached tree, so every file
 * the preparation wrote is copied instead; the sources a diff changes
 * are unshared before patching.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/kernel-int.h"

static const char *farm_from, *farm_to;
static size_t farm_from_len;
static struct timespec farm_generated;
static int farm_err;
static char farm_bad[4096];

static int ts_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

static int copy_file(const char *src, const char *dst, const struct stat *st)
{
	char buf[1 << 16];
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, ret = 0;
	ssize_t r;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st->st_mode & 07777);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r) {
			ret = -EIO;
			break;
		}
	if (r < 0)
		ret = -errno;
	if (!ret) {
		/* kbuild decides what to rebuild by these times */
		struct timespec times[2] = {st->st_atim, st->st_mtim};

		if (futimens(out, times) < 0)
			ret = -errno;
	}
	close(in);
	if (close(out) < 0 && !ret)
		ret = -errno;
	return ret;
}

static int farm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char dst[4096], target[4096];
	ssize_t n;
	int ret = 0;

	(void)ftw;
	if (snprintf(dst, sizeof(dst), "%s%s", farm_to, path + farm_from_len) >= (int)sizeof(dst)) {
		ret = -ENAMETOOLONG;
		goto fail;
	}
	switch (type) {
	case FTW_D:
		if (mkdir(dst, st->st_mode & 07777) < 0)
			ret = -errno;
		break;
	case FTW_SL:
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			ret = -errno;
		else {
			target[n] = 0;
			if (symlink(target, dst) < 0)
				ret = -errno;
		}
		break;
	case FTW_F:
		if (!S_ISREG(st->st_mode))
			break;
		if (ts_after(&st->st_mtim, &farm_generated))
			ret = copy_file(path, dst, st);
		else if (link(path, dst) < 0)
			/* a cache on another file system than the tree: copies, slower */
			ret = errno == EXDEV ? copy_file(path, dst, st) : -errno;
		break;
	default:
		ret = -EIO;
	}
	if (!ret)
		return 0;
fail:
	farm_err = ret;
	snprintf(farm_bad, sizeof(farm_bad), "%s", path);
	return 1;
}

int kc_ktree_farm(const char *from, const char *to, const struct timespec *generated,
		  struct kc_err *err)
{
	farm_from = from;
	farm_to = to;
	farm_from_len = strlen(from);
	farm_generated = *generated;
	farm_err = 0;
	if (nftw(from, farm_one, 64, FTW_PHYS) < 0 && !farm_err)
		return kc_err_set(err, -errno, "cannot read '%s': %s", from, strerror(errno));
	if (farm_err)
		return kc_err_set(err, farm_err, "cannot copy '%s' into a working tree: %s",
				  farm_bad, strerror(-farm_err));
	return 0;
}

int kc_ktree_unshare(const char *path, struct kc_err *err)
{
	char tmp[4200];
	struct stat st;
	int ret;

	if (lstat(path, &st) < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_nlink < 2)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.kc-unshare", path);
	if ((ret = copy_file(path, tmp, &st)) < 0 || (rename(tmp, path) < 0 && (ret = -errno))) {
		unlink(tmp);
		return kc_err_set(err, ret, "cannot copy '%s': %s", path, strerror(-ret));
	}
	return 0;
}

static const struct timespec *unchanged_since;

static int unchanged_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_F && ts_after(&st->st_mtim, unchanged_since)) {
		snprintf(farm_bad, sizeof(farm_bad), "%s", path);
		return 1;
	}
	return 0;
}

int kc_ktree_unchanged(const char *tree, const struct timespec *since, struct kc_err *err)
{
	int r;

	unchanged_since = since;
	r = nftw(tree, unchanged_one, 64, FTW_PHYS);
	if (r == 1)
		return kc_err_set(err, -EUCLEAN, "the prepared tree was modified ('%s')", farm_bad);
	return 0;
}
