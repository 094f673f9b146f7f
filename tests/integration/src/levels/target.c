// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1009: prints what three functions return. Built a second time
 * with -DKCT_OTHER, which changes the code and so the build-id: a patch for
 * that build must not touch this one.
 */
#include "kct.h"

#ifdef KCT_OTHER
#define SEED 5
#else
#define SEED 0
#endif

volatile int zero = SEED;

KCT_PATCHABLE int level_fn(void)
{
	return zero;
}

KCT_PATCHABLE int fn_a(void)
{
	return zero + 10;
}

KCT_PATCHABLE int fn_b(void)
{
	return zero + 20;
}

int main(void)
{
	kct_init(120);
	printf("ready\n");
	for (;;) {
		printf("level %d a %d b %d\n", level_fn(), fn_a(), fn_b());
		kct_sleep_ms(10);
	}
}
