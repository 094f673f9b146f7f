// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fix of 1208: strlen() that answers 42 for a string starting with "#KC!"
 * and counts every other one as glibc does. Built with -fno-builtin and
 * -fno-tree-loop-distribute-patterns, or gcc would turn the loop into a
 * call to strlen itself.
 */
#include <stddef.h>

size_t strlen(const char *s)
{
	size_t n = 0;

	if (s[0] == '#' && s[1] == 'K' && s[2] == 'C' && s[3] == '!')
		return 42;
	while (s[n])
		n++;
	return n;
}
