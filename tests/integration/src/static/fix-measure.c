// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1011 calling strlen and memcpy (IFUNCs) of a static program: returns 6, copy "static". */
#include <string.h>

extern char copy[64];
extern const char *volatile word;

int measure(void)
{
	const char *w = word;
	size_t n = strlen(w);

	memcpy(copy, w, n + 1);
	return (int)n;
}
