// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The file handling of the trust code: directory syncs, bounded reads,
 * mkdir -p, advisory locks and removal of old state trees (atomic
 * replacement is kc_file_write_atomic()). Nothing here knows about keys or
 * metadata.
 */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust-int.h"
#include "kcare/conf.h"

int kc_trust_fsync_dir(const char *path, struct kc_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open directory '%s': %m", path);
	if (fsync(fd) < 0) {
		int rc = kc_err_set(err, -errno, "cannot sync directory '%s': %m", path);

		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

int kc_trust_read_fd(int fd, size_t max, unsigned char **buf, size_t *len, struct kc_err *err)
{
	size_t cap = 4096, n = 0;
	unsigned char *p = malloc(cap + 1);

	if (!p)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (;;) {
		if (n == cap) {
			size_t ncap = cap * 2;
			unsigned char *q;

			/* one byte past @max is enough to know the file is too long */
			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= cap)
				ncap = cap + 1;
			q = realloc(p, ncap + 1);
			if (!q) {
				free(p);
				return kc_err_set(err, -ENOMEM, "out of memory");
			}
			p = q;
			cap = ncap;
		}
		ssize_t r = read(fd, p + n, cap - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			int rc = kc_err_set(err, -errno, "read failed: %m");

			free(p);
			return rc;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(p);
			return kc_err_set(err, -EFBIG, "longer than %zu bytes", max);
		}
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

int kc_trust_read_file(const char *path, size_t max, unsigned char **buf, size_t *len,
		       struct kc_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %m", path);
	rc = kc_trust_read_fd(fd, max, buf, len, err);
	close(fd);
	if (rc)
		return kc_err_prefix(err, "'%s'", path);
	return 0;
}

int kc_trust_mkdirs(const char *path, unsigned int mode, struct kc_err *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return kc_err_set(err, -ENAMETOOLONG, "bad directory path '%s'", path);
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];

		buf[i] = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return kc_err_set(err, -errno, "cannot create directory '%s': %m", buf);
		buf[i] = c;
	}
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return kc_err_set(err, -ENOTDIR, "'%s' is not a directory", path);
	return 0;
}

int kc_trust_lock(const char *dir, const char *name, struct kc_err *err)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return kc_err_set(err, -ENAMETOOLONG, "path too long '%s'", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open lock '%s': %m", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int rc = kc_err_set(err, -errno, "cannot lock '%s': %m", path);

		close(fd);
		return rc;
	}
	return fd;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

int kc_trust_remove_tree(const char *path, struct kc_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : kc_err_set(err, -errno, "cannot stat '%s': %m", path);
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return kc_err_set(err, -errno, "cannot remove '%s': %m", path);
	return 0;
}
