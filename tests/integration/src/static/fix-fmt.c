// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1011 calling snprintf of a static program: buf "new-7-static", returns 12. */
#include <stdio.h>

extern char buf[64];
extern const char *volatile word;

int fmt(int x)
{
	return snprintf(buf, sizeof(buf), "new-%d-%s", x, word);
}
