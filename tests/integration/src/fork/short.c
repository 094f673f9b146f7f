// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1010 (exit during patch): four threads call value_fn() while
 * main sleeps argv[1] milliseconds and then exits, so that the process
 * disappears at any moment of a patch operation.
 */
#include <pthread.h>
#include <stdlib.h>

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

int main(int argc, char **argv)
{
	pthread_t t;

	kct_init(30);
	for (int i = 0; i < 4; i++)
		pthread_create(&t, NULL, worker, NULL);
	kct_sleep_ms(argc > 1 ? atol(argv[1]) : 10);
	exit(0);
}
