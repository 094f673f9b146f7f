// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Paths under the system root and the small reads and writes of procfs and
 * sysfs files that the rest of src/kpatch is made of. The root lets unit
 * tests hand in a fake /proc and /sys; in production it is "".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kcare/kpatch.h"

int kc_kpatch_path(const char *sysroot, const char *abs, char *out, size_t size, struct kc_err *err)
{
	int n = snprintf(out, size, "%s%s", sysroot ? sysroot : "", abs);

	if (n < 0 || (size_t)n >= size)
		return kc_err_set(err, -ENAMETOOLONG, "path '%s%s' is too long",
				  sysroot ? sysroot : "", abs);
	return 0;
}

int kc_kpatch_read(const char *sysroot, const char *abs, char *buf, size_t size, struct kc_err *err)
{
	char path[4096];
	ssize_t n;
	int fd, ret = kc_kpatch_path(sysroot, abs, path, sizeof(path), err);

	if (ret < 0)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	/* procfs and sysfs files of this size come in one read */
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	ret = -errno;
	close(fd);
	if (n < 0)
		return kc_err_set(err, ret, "cannot read '%s': %s", path, strerror(-ret));
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return (int)n;
}

int kc_kpatch_write(const char *sysroot, const char *abs, const char *text, struct kc_err *err)
{
	char path[4096];
	size_t len = strlen(text);
	ssize_t n;
	int fd, ret = kc_kpatch_path(sysroot, abs, path, sizeof(path), err);

	if (ret < 0)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	do
		n = write(fd, text, len);
	while (n < 0 && errno == EINTR);
	ret = -errno;
	close(fd);
	if (n < 0)
		return kc_err_set(err, ret, "cannot write '%s' to '%s': %s", text, path,
				  strerror(-ret));
	if ((size_t)n != len)
		return kc_err_set(err, -EIO, "short write to '%s'", path);
	return 0;
}
