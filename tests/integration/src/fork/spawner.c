// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1010 (threads created during patch): main keeps creating
 * batches of four short-lived threads, each calling value_fn() 20 times,
 * and prints per batch how many calls gave the old (1) and the new (2)
 * result; a long-lived thread prints what value_fn() gives it.
 */
#include <pthread.h>

#include "kct.h"

volatile int one = 1;
static int olds, news;

KCT_PATCHABLE int value_fn(void)
{
	return one;
}

static void *short_lived(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		int v = value_fn();

		__atomic_add_fetch(v == 1 ? &olds : &news, 1, __ATOMIC_RELAXED);
		kct_sleep_ms(1);
	}
	return NULL;
}

static void *long_lived(void *arg)
{
	(void)arg;
	for (;;) {
		printf("long value %d\n", value_fn());
		kct_sleep_ms(10);
	}
	return NULL;
}

int main(void)
{
	pthread_t t, batch[4];

	kct_init(120);
	pthread_create(&t, NULL, long_lived, NULL);
	printf("ready\n");
	for (;;) {
		olds = news = 0;
		for (int i = 0; i < 4; i++)
			pthread_create(&batch[i], NULL, short_lived, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(batch[i], NULL);
		printf("batch olds %d news %d\n", olds, news);
	}
}
