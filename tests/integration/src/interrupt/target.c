// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1104: on SIGUSR1 a thread enters hold_fn() and stays inside
 * (sleeping, so that it costs no CPU) until SIGUSR2, which keeps a patch
 * of hold_fn() waiting for as long as a test likes; main prints
 * value_fn() every 10 ms.
 */
#include <pthread.h>
#include <signal.h>

#include "kct.h"

volatile sig_atomic_t hold, release;
volatile int one = 1;

KCT_PATCHABLE int hold_fn(void)
{
	printf("holding 1\n");
	while (!release)
		kct_sleep_ms(1);
	return 1;
}

KCT_PATCHABLE int value_fn(void)
{
	return one;
}

static void on_usr(int sig)
{
	if (sig == SIGUSR1) {
		release = 0;
		hold = 1;
	} else {
		release = 1;
	}
}

static void *holder(void *arg)
{
	(void)arg;
	for (;;) {
		while (!hold)
			kct_sleep_ms(2);
		hold = 0;
		printf("released %d\n", hold_fn());
	}
	return NULL;
}

int main(void)
{
	pthread_t t;

	kct_init(120);
	signal(SIGUSR1, on_usr);
	signal(SIGUSR2, on_usr);
	pthread_create(&t, NULL, holder, NULL);
	printf("ready\n");
	for (;;) {
		printf("value %d\n", value_fn());
		kct_sleep_ms(10);
	}
}
