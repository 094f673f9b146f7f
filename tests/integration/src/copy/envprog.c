// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1206: uses environ directly (so the program holds the live copy) and changes its
 * environment with setenv(), which moves environ to a new array.
 */
#include <stdlib.h>

#include "kct.h"

extern char **environ;

int main(void)
{
	kct_init(120);
	setenv("KC_LATE", "late", 1);
	printf("ready %d\n", environ != NULL);
	for (;;) {
		const char *home = getenv("HOME"), *late = getenv("KC_LATE"),
			   *mark = getenv("KC_PATCHED");

		printf("home %s late %s mark %s\n", home ? home : "(null)", late ? late : "(null)",
		       mark ? mark : "(null)");
		kct_sleep_ms(10);
	}
}
