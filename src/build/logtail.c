// SPDX-License-Identifier: GPL-2.0-or-later
/* The last line of a build log, for one-line errors; see logtail.h. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build/logtail.h"

const char *kc_log_last_line(const char *path, char *buf, size_t bufsz)
{
	char tail[1024];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end;
	ssize_t n;
	char *s, *nl;

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	/* only the end is read: logs of a package build run to megabytes */
	end = lseek(fd, 0, SEEK_END);
	n = pread(fd, tail, sizeof(tail) - 1,
		  end > (off_t)sizeof(tail) - 1 ? end - (off_t)sizeof(tail) + 1 : 0);
	close(fd);
	if (n <= 0)
		return buf;
	tail[n] = '\0';
	while (n > 0 && strchr("\n\r \t", tail[n - 1]))
		tail[--n] = '\0';
	s = tail;
	while ((nl = strchr(s, '\n')) != NULL)
		s = nl + 1;
	snprintf(buf, bufsz, "%s", s);
	return buf;
}
