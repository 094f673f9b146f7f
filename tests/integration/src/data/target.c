// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1003: process() uses a static function, a global function and
 * variables that main() changes at run time (so a patch that read a copy of
 * the file's data would compute something else). counter, gvalue and
 * message are written only by the patch; main prints them every loop.
 */
#include "kct.h"

volatile int base = 1;
static volatile int sbase = 2;
static volatile int counter;
volatile int gvalue;
char message[32] = "original";

static KCT_PATCHABLE int scale(int x)
{
	return x * 10;
}

KCT_PATCHABLE int twice(int x)
{
	return x * 2;
}

KCT_PATCHABLE int process(int x)
{
	return scale(x) + base + twice(0);
}

int main(void)
{
	kct_init(120);
	base = 1000;
	sbase = 2000;
	printf("ready\n");
	for (;;) {
		int v = process(3);

		printf("value %d counter %d gvalue %d sbase %d message %s\n", v, counter, gvalue,
		       sbase, message);
		kct_sleep_ms(10);
	}
}
