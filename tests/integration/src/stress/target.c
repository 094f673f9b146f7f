// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1006: 16 threads call value() in a tight loop and check every
 * result against the original formula and the fixed one (+1000000); any
 * other value prints BAD and aborts. Between calls each thread does some
 * work of its own, so that a stop finds most threads outside value() (with
 * all threads always inside it, no patcher could ever find a safe moment),
 * and every 1000 calls a 1 ms pause.
 * main prints the totals every 20 ms.
 */
#include <pthread.h>
#include <stdlib.h>

#include "kct.h"

#define NTHREADS  16
#define NEW_DELTA 1000000L

static struct {
	unsigned long olds, news;
	char pad[48];
} counts[NTHREADS];

KCT_PATCHABLE long value(long x)
{
	long s = 0;

	for (int i = 0; i < 8; i++)
		s += (x >> i) & 0xff;
	return s;
}

static long expected_old(long x)
{
	long s = 0;

	for (int i = 0; i < 8; i++)
		s += (x >> i) & 0xff;
	return s;
}

static void *worker(void *arg)
{
	long t = (long)arg;
	volatile unsigned long sink = 0;

	for (long x = t;; x += NTHREADS) {
		long r = value(x), e = expected_old(x);

		if (r == e) {
			__atomic_add_fetch(&counts[t].olds, 1, __ATOMIC_RELAXED);
		} else if (r == e + NEW_DELTA) {
			__atomic_add_fetch(&counts[t].news, 1, __ATOMIC_RELAXED);
		} else {
			printf("BAD thread %ld x %ld got %ld want %ld\n", t, x, r, e);
			abort();
		}
		for (int i = 0; i < 400; i++)
			sink += i ^ x;
		/* bursts of ~1 ms: 16 spinning threads would starve the patcher on 2 cores */
		if ((x / NTHREADS) % 1000 == 0)
			kct_sleep_ms(1);
	}
	return NULL;
}

int main(void)
{
	pthread_t th;

	kct_init(300);
	for (long t = 0; t < NTHREADS; t++)
		pthread_create(&th, NULL, worker, (void *)t);
	printf("ready\n");
	for (;;) {
		unsigned long o = 0, n = 0;

		for (int t = 0; t < NTHREADS; t++) {
			o += __atomic_load_n(&counts[t].olds, __ATOMIC_RELAXED);
			n += __atomic_load_n(&counts[t].news, __ATOMIC_RELAXED);
		}
		printf("tick olds %lu news %lu\n", o, n);
		kct_sleep_ms(20);
	}
}
