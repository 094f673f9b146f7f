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
#include <stdio.h>
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

int kc_file_atomic_open(struct kc_file_atomic *f, const char *path, unsigned mode,
			struct kc_err *err)
{
	const char *base;
	int rc;

	KC_BUG_ON(!path || !*path);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	base = strrchr(path, '/');
	if (base) {
		f->dir = strndup(path, base == path ? 1 : (size_t)(base - path));
		base++;
	} else {
		f->dir = strdup(".");
		base = path;
	}
	f->path = strdup(path);
	if (!f->dir || !f->path) {
		kc_file_atomic_abort(f);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	if (!*base) {
		kc_file_atomic_abort(f);
		return kc_err_set(err, -EISDIR, "cannot write '%s': not a file name", path);
	}
	/* hidden and in the same directory: rename() must not cross file systems */
	rc = 0;
	if (asprintf(&f->tmp, "%s/.%s.tmp.XXXXXX", f->dir, base) < 0) {
		f->tmp = NULL;
		rc = kc_err_set(err, -ENOMEM, "out of memory");
	}
	if (rc == 0) {
		f->fd = mkostemp(f->tmp, O_CLOEXEC);
		if (f->fd < 0) {
			rc = kc_err_set(err, -errno, "cannot create a temporary file in '%s': %s",
					f->dir, strerror(errno));
			free(f->tmp);
			f->tmp = NULL;
		}
	}
	/* mkostemp makes 0600: the mode is set before the first byte is in */
	if (rc == 0 && fchmod(f->fd, mode & 07777) < 0)
		rc = kc_err_set(err, -errno, "cannot set the mode of '%s': %s", f->tmp,
				strerror(errno));
	if (rc < 0)
		kc_file_atomic_abort(f);
	return rc;
}

void kc_file_atomic_abort(struct kc_file_atomic *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp)
		unlink(f->tmp);
	free(f->tmp);
	free(f->dir);
	free(f->path);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

int kc_file_atomic_commit(struct kc_file_atomic *f, struct kc_err *err)
{
	int rc = 0, dfd;

	if (fsync(f->fd) < 0)
		rc = -errno;
	if (close(f->fd) < 0 && !rc)
		rc = -errno;
	f->fd = -1;
	if (rc) {
		kc_err_set(err, rc, "cannot write '%s': %s", f->tmp, strerror(-rc));
		kc_file_atomic_abort(f);
		return rc;
	}
	if (rename(f->tmp, f->path) < 0) {
		rc = kc_err_set(err, -errno, "cannot rename '%s' to '%s': %s", f->tmp, f->path,
				strerror(errno));
		kc_file_atomic_abort(f);
		return rc;
	}
	free(f->tmp);
	f->tmp = NULL;
	/* the rename itself is durable only once the directory is synced */
	dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		rc = kc_err_set(err, -errno, "cannot sync directory '%s': %s", f->dir,
				strerror(errno));
	if (dfd >= 0)
		close(dfd);
	kc_file_atomic_abort(f); /* frees the rest; nothing is left to unlink */
	return rc;
}

int kc_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode,
			 struct kc_err *err)
{
	char *dir, *slash;
	int rc;

	KC_BUG_ON(!path || (!buf && len));
	dir = strdup(path);
	if (!dir)
		return kc_err_set(err, -ENOMEM, "out of memory");
	slash = strrchr(dir, '/');
	rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		rc = fileio_mkdirs(dir, err);
	}
	free(dir);
	return rc < 0 ? rc : kc_file_replace(path, buf, len, mode, err);
}

int kc_file_replace(const char *path, const void *buf, size_t len, unsigned mode,
		    struct kc_err *err)
{
	struct kc_file_atomic f;
	int rc;

	KC_BUG_ON(!buf && len);
	rc = kc_file_atomic_open(&f, path, mode, err);
	if (rc < 0)
		return rc;
	rc = kc_fd_write_all(f.fd, buf, len);
	if (rc < 0) {
		kc_err_set(err, rc, "cannot write '%s': %s", f.tmp, strerror(-rc));
		kc_file_atomic_abort(&f);
		return rc;
	}
	return kc_file_atomic_commit(&f, err);
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
