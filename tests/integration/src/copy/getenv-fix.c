// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A hand-written fix of glibc's getenv() for 1206: the same lookup in libc's __environ, which a
 * program that uses environ has copied. "KC_PATCHED" answers "yes", to show that the fix runs.
 * No libc call (built with -fno-builtin), so the fix needs nothing but __environ.
 */
#include <stddef.h>

extern char **__environ;

/* length of the common prefix of @a and @b, at most @n */
static size_t prefix(const char *a, const char *b, size_t n)
{
	size_t i = 0;

	while (i < n && a[i] && a[i] == b[i])
		i++;
	return i;
}

char *getenv(const char *name)
{
	size_t len = 0;

	if (!name)
		return NULL;
	while (name[len])
		len++;
	if (len == 10 && prefix(name, "KC_PATCHED", 10) == 10)
		return (char *)"yes";
	for (char **e = __environ; e && *e; e++)
		if (prefix(*e, name, len) == len && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}
