// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Whole-file reads with a size bound and atomic replacement of a file
 * (temp file in the same directory, fsync, rename, fsync of the directory),
 * for the agent's config and state files (declared in kcare/conf.h).
 * A reader sees either the old or the new content, never a mix, and a crash
 * leaves at most a hidden temp file behind, never a truncated target.
 * Not here: what the files contain.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcare/conf.h"

/* Creates every missing directory of @dir (a copy is edited in place). */
static int fileio_mkdirs(const char *dir, struct kc_err *err)
{
	char *p, *s = strdup(dir);
	int rc = 0;

	if (!s)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (p = s + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(s, 0755) < 0 && errno != EEXIST) {
			rc = kc_err_set(err, -errno, "cannot create directory '%s': %s", s,
					strerror(errno));
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(s);
	return rc;
}

int kc_fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int kc_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode,
			 struct kc_err *err)
{
	char *dir = NULL, *tmp = NULL;
	const char *base;
	int fd = -1, dfd = -1, rc;

	KC_BUG_ON(!path || !*path || (!buf && len));
	base = strrchr(path, '/');
	if (base) {
		dir = strndup(path, base == path ? 1 : (size_t)(base - path));
		base++;
	} else {
		dir = strdup(".");
		base = path;
	}
	if (!dir)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (!*base) {
		rc = kc_err_set(err, -EISDIR, "cannot write '%s': not a file name", path);
		goto out;
	}
	rc = fileio_mkdirs(dir, err);
	if (rc)
		goto out;
	/* hidden and in the same directory: rename() must not cross file systems */
	if (asprintf(&tmp, "%s/.%s.tmp.XXXXXX", dir, base) < 0) {
		tmp = NULL;
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = kc_err_set(err, -errno, "cannot create a temporary file in '%s': %s", dir,
				strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	/* mkostemp makes 0600: the mode is set before the first byte is in */
	rc = fchmod(fd, mode & 07777) < 0 ? -errno : 0;
	if (!rc)
		rc = kc_fd_write_all(fd, buf, len);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	fd = -1;
	if (rc) {
		kc_err_set(err, rc, "cannot write '%s': %s", tmp, strerror(-rc));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc = kc_err_set(err, -errno, "cannot rename '%s' to '%s': %s", tmp, path,
				strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* the rename itself is durable only once the directory is synced */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		rc =
		    kc_err_set(err, -errno, "cannot sync directory '%s': %s", dir, strerror(errno));
out:
	if (dfd >= 0)
		close(dfd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	return rc;
}

int kc_file_read_all(const char *path, size_t max, char **buf, size_t *len, struct kc_err *err)
{
	struct stat st;
	size_t cap, n = 0;
	char *b = NULL;
	int fd, rc = 0;

	KC_BUG_ON(!path || !buf || !len);
	*buf = NULL;
	*len = 0;
	/* keeps max + 1 and the doubling below from overflowing */
	if (max > (size_t)SSIZE_MAX / 2)
		max = (size_t)SSIZE_MAX / 2;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = kc_err_set(err, -errno, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = kc_err_set(err, -EISDIR, "cannot read '%s': is a directory", path);
		goto out;
	}
	/* st_size is only a hint (/proc files say 0): the loop reads to EOF */
	cap =
	    st.st_size > 0 && (unsigned long long)st.st_size <= max ? (size_t)st.st_size + 1 : 4096;
	if (cap > max + 1)
		cap = max + 1;
	b = malloc(cap + 1);
	if (!b) {
		rc = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		if (n == cap) {
			/* one byte past @max is enough to tell that the file is too long */
			if (cap > max) {
				rc = kc_err_set(err, -EFBIG, "'%s' is longer than %zu bytes", path,
						max);
				goto out;
			}
			size_t ncap = cap > max / 2 ? max + 1 : cap * 2;
			char *nb = realloc(b, ncap + 1);
			if (!nb) {
				rc = kc_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			b = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = kc_err_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		rc = kc_err_set(err, -EFBIG, "'%s' is longer than %zu bytes", path, max);
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	close(fd);
	return rc;
}
