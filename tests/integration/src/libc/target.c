// SPDX-License-Identifier: GPL-2.0-or-later
/* Target of 1004: report() formats into outbuf; main prints its result and outbuf. */
#include <stdio.h>

#include "kct.h"

char outbuf[64] = "none";
const char *greeting;

KCT_PATCHABLE int report(int x)
{
	snprintf(outbuf, sizeof(outbuf), "old-%d", x);
	return 0;
}

int main(void)
{
	kct_init(120);
	greeting = "hello";
	printf("ready\n");
	for (;;) {
		int r = report(7);

		printf("value %d out %s\n", r, outbuf);
		kct_sleep_ms(10);
	}
}
