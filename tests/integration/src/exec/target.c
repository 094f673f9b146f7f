// SPDX-License-Identifier: GPL-2.0-or-later
/* Target of 1001: a PIE executable whose main loop keeps calling compute(). */
#include "kct.h"

volatile int bias;

KCT_PATCHABLE int compute(int x)
{
	return x * 2 + bias;
}

int main(void)
{
	kct_init(120);
	printf("ready\n");
	for (;;) {
		printf("value %d\n", compute(21));
		kct_sleep_ms(10);
	}
}
