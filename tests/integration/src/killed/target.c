// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1103: four busy workers call f(), which calls g(), which calls
 * h(); each of the three adds its own mark to the result (1, 10, 100 in
 * the original, 2, 20, 200 in the fix), so every result tells which
 * version of each function ran: 111 all original, 222 all fixed, any
 * other mix of 1s and 2s a call that saw only part of the patch (counted,
 * and printed once per kind: "MIX 121"). Anything else means a function
 * ran torn code: the worker prints BAD and aborts.
 * main prints the totals every 20 ms.
 */
#include <pthread.h>
#include <stdlib.h>

#include "kct.h"

#define NTHREADS 4

volatile long hsink;
static unsigned long olds, news, mixes;
static int seen[300];

KCT_PATCHABLE long h(long x)
{
	for (int i = 0; i < 20; i++)
		hsink += i;
	return x * 1000 + 1;
}

KCT_PATCHABLE long g(long x)
{
	return h(x) + 10;
}

KCT_PATCHABLE long f(long x)
{
	return g(x) + 100;
}

static int mark_ok(long code)
{
	int fm = code / 100, gm = code / 10 % 10, hm = code % 10;

	return code >= 100 && code < 300 && gm >= 1 && gm <= 2 && hm >= 1 && hm <= 2 && fm >= 1;
}

static void *worker(void *arg)
{
	long t = (long)arg;
	volatile unsigned long sink = 0;

	for (long x = t;; x += NTHREADS) {
		long code = f(x) - x * 1000;

		if (code == 111) {
			__atomic_add_fetch(&olds, 1, __ATOMIC_RELAXED);
		} else if (code == 222) {
			__atomic_add_fetch(&news, 1, __ATOMIC_RELAXED);
		} else if (mark_ok(code)) {
			__atomic_add_fetch(&mixes, 1, __ATOMIC_RELAXED);
			if (!__atomic_exchange_n(&seen[code], 1, __ATOMIC_RELAXED))
				printf("MIX %ld\n", code);
		} else {
			printf("BAD thread %ld x %ld code %ld\n", t, x, code);
			abort();
		}
		for (int i = 0; i < 300; i++)
			sink += i ^ x;
		/* a pause now and then: four spinning threads would starve the patcher */
		if ((x / NTHREADS) % 200 == 0)
			kct_sleep_ms(1);
	}
	return NULL;
}

int main(void)
{
	pthread_t th;

	kct_init(1800);
	for (long t = 0; t < NTHREADS; t++)
		pthread_create(&th, NULL, worker, (void *)t);
	printf("ready\n");
	for (;;) {
		printf("tick olds %lu news %lu mixes %lu\n",
		       __atomic_load_n(&olds, __ATOMIC_RELAXED),
		       __atomic_load_n(&news, __ATOMIC_RELAXED),
		       __atomic_load_n(&mixes, __ATOMIC_RELAXED));
		kct_sleep_ms(20);
	}
}
