// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1201: 4 threads call hot_fn() of the library in a tight loop and
 * check results against the old (+1) and the new (+2) behaviour. Every
 * 100 ms the main thread prints how many calls each thread made, how many of
 * the latest results were new, and how many results were neither ("bad").
 * SIGUSR1 pauses the workers outside hot_fn(), and resumes them.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "kct.h"

#define NTHREADS 4

unsigned hot_mix(unsigned x);
unsigned hot_fn(unsigned x);

static atomic_ulong calls[NTHREADS], bad;
static atomic_int last_new[NTHREADS], paused;

static void *worker(void *arg)
{
	long i = (long)arg;

	for (unsigned long n = 0;; n++) {
		unsigned x = (unsigned)(i + 7 * n), got = hot_fn(x), base;

		/* checked on every 64th call only, so that hot_fn() takes nearly all the time */
		if (n & 63)
			continue;
		while (atomic_load_explicit(&paused, memory_order_relaxed))
			kct_sleep_ms(1);
		base = hot_mix(x);
		if (got == base + 2)
			atomic_store_explicit(&last_new[i], 1, memory_order_relaxed);
		else if (got == base + 1)
			atomic_store_explicit(&last_new[i], 0, memory_order_relaxed);
		else
			atomic_fetch_add(&bad, 1);
		atomic_fetch_add_explicit(&calls[i], 64, memory_order_relaxed);
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&paused, !atomic_load(&paused));
}

int main(void)
{
	pthread_t th;

	kct_init(120);
	signal(SIGUSR1, on_usr1);
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&th, NULL, worker, (void *)i)) {
			printf("cannot create thread\n");
			return 1;
		}
	printf("ready\n");
	for (;;) {
		unsigned long c[NTHREADS];
		int nnew = 0;

		for (int i = 0; i < NTHREADS; i++) {
			c[i] = atomic_load(&calls[i]);
			nnew += atomic_load(&last_new[i]);
		}
		printf("calls %lu %lu %lu %lu new %d bad %lu\n", c[0], c[1], c[2], c[3], nnew,
		       atomic_load(&bad));
		kct_sleep_ms(100);
	}
}
