// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fix of 1004: libc from patch code. strlen and memcpy are IFUNCs in the
 * shared libc; snprintf/printf/fprintf are plain; stderr is libc data; errno
 * is libc's thread-local data reached through __errno_location(). With
 * greeting "hello": outbuf "hello-new-7", stderr "fix stderr 6 5", and the
 * result is EBADF (9) from close(-1).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char outbuf[64];
extern const char *greeting;

int report(int x)
{
	size_t len = strlen(greeting);
	int n;

	if (len > 32)
		return -3;
	memcpy(outbuf, greeting, len);
	n = snprintf(outbuf + len, sizeof(outbuf) - len, "-new-%d", x);
	fprintf(stderr, "fix stderr %d %zu\n", n, len);
	printf("fix printf %s\n", outbuf);
	errno = 0;
	if (close(-1) == 0)
		return -2;
	return errno;
}
