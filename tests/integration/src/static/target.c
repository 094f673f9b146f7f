// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1011, linked with gcc -static: libc lives inside the program,
 * so a fix calling libc calls the program's own copy. fmt() and measure()
 * are replaced by two separate patches: one calls snprintf (a plain
 * function), the other strlen and memcpy (IFUNCs, resolved inside a static
 * program through its IRELATIVE relocations).
 */
#include <stdio.h>
#include <string.h>

#include "kct.h"

char buf[64];
char copy[64];
const char *volatile word;

KCT_PATCHABLE int fmt(int x)
{
	return snprintf(buf, sizeof(buf), "old-%d", x);
}

KCT_PATCHABLE int measure(void)
{
	return -1 - (int)(word == NULL);
}

int main(void)
{
	char tmp[64];

	kct_init(120);
	word = "static";
	/* pull strlen and memcpy into the program */
	snprintf(tmp, sizeof(tmp), "%zu", strlen(word));
	memcpy(copy, tmp, strlen(tmp) + 1);
	printf("ready\n");
	for (;;) {
		int n = fmt(7), m = measure();

		printf("value %d buf %s measure %d copy %s\n", n, buf, m, copy);
		kct_sleep_ms(10);
	}
}
