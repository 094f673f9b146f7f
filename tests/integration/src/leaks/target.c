// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1111: an idle process (a worker blocked in a long sleep, main
 * printing twice a second) whose mappings, memory use and file
 * descriptors a test compares before and after thousands of patch and
 * unpatch cycles.
 */
#include <pthread.h>

#include "kct.h"

volatile int one = 1;

KCT_PATCHABLE int value_fn(void)
{
	return one;
}

KCT_PATCHABLE int other_fn(int x)
{
	return x + one;
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		kct_sleep_ms(100000);
	return NULL;
}

int main(void)
{
	pthread_t t;

	kct_init(3600);
	pthread_create(&t, NULL, sleeper, NULL);
	printf("ready\n");
	for (;;) {
		printf("value %d %d\n", value_fn(), other_fn(1));
		kct_sleep_ms(500);
	}
}
