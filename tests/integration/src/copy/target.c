// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1206: reads the library's counters directly (the linker gives it its own copies) and
 * prints them next to what the library itself reads.
 */
#include "kct.h"

extern int lib_errors, lib_seen;
void lib_fail(void);
int lib_count(void);

int main(void)
{
	kct_init(120);
	printf("ready\n");
	for (;;) {
		lib_fail();
		printf("errors %d lib %d seen %d\n", lib_errors, lib_count(), lib_seen);
		kct_sleep_ms(10);
	}
}
