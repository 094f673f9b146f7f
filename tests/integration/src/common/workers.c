// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1102, 1105 and 1108: four workers call value_fn() every millisecond and main
 * prints what it returns every 10 ms, so a test sees at once whether the
 * process runs (new lines) or is stopped (none), and which code it runs.
 */
#include <pthread.h>

#include "kct.h"

volatile int one = 1;
volatile long sink;

KCT_PATCHABLE int value_fn(void)
{
	return one;
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		sink += value_fn();
		kct_sleep_ms(1);
	}
	return NULL;
}

int main(void)
{
	pthread_t t;

	kct_init(180);
	for (int i = 0; i < 4; i++)
		pthread_create(&t, NULL, worker, NULL);
	printf("ready\n");
	for (;;) {
		printf("value %d\n", value_fn());
		kct_sleep_ms(10);
	}
}
