// SPDX-License-Identifier: GPL-2.0-or-later
/* Target of 1012: the process that bad patch files are tried on; it must stay untouched. */
#include <stdio.h>

#include "kct.h"

volatile int one = 1;

KCT_PATCHABLE int helper(int x)
{
	return x + one;
}

KCT_PATCHABLE int check(int x)
{
	return helper(x) * 2;
}

int main(void)
{
	kct_init(120);
	printf("ready\n");
	for (;;) {
		printf("value %d\n", check(10));
		kct_sleep_ms(10);
	}
}
