// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1207: two threads call short_fn() of the library in tight
 * bursts (100,000 calls, then 1 ms of sleep, so as not to take the host's
 * cores) and check every result: x+1 (original), x+2 (level 1) or x+3
 * (level 2); anything else is "bad". Every 50 ms the main thread prints the
 * calls so far, the level of each thread's latest result and the bad count.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "kct.h"

#define NTHREADS 2

int short_fn(int x);

static atomic_ulong calls[NTHREADS], bad;
static atomic_int last[NTHREADS];

static void *worker(void *arg)
{
	long i = (long)arg;

	for (unsigned n = 0;; n++) {
		int x = (int)(n & 0xffff), d = short_fn(x) - x;

		if (d < 1 || d > 3)
			atomic_fetch_add(&bad, 1);
		else
			atomic_store_explicit(&last[i], d - 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&calls[i], 1, memory_order_relaxed);
		if (n % 100000 == 0)
			kct_sleep_ms(1);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[NTHREADS];

	kct_init(120);
	/* without its threads the target prints no "ready": the test fails at its start */
	if (pthread_create(&th[0], NULL, worker, (void *)0L) ||
	    pthread_create(&th[1], NULL, worker, (void *)1L))
		return 1;
	printf("ready\n");
	for (;;) {
		printf("calls %lu %lu level %d %d bad %lu\n", atomic_load(&calls[0]),
		       atomic_load(&calls[1]), atomic_load(&last[0]), atomic_load(&last[1]),
		       atomic_load(&bad));
		kct_sleep_ms(50);
	}
}
