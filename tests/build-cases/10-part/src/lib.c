// SPDX-License-Identifier: GPL-2.0-or-later
#include <string.h>

static char table[256];

static int lookup(const char *s)
{
	if (!s)
		return -1;
	int h = 0;
	for (const char *p = s; *p; p++) {
		h = h * 31 + *p;
		table[(unsigned char)*p]++;
	}
	for (int i = 0; i < 256; i++)
		if (table[i] > 100) {
			memset(table, 0, sizeof(table));
			break;
		}
	return h & 0xffff;
}

int compute(int x)
{
	return lookup(x > 0 ? "abc" : 0) + 1;
}

int compute2(const char *s)
{
	return lookup(s) + 2;
}

int compute3(const char *s)
{
	return lookup(s) * 3;
}
