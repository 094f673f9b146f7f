// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1007: one thread enters spin_fn() and never leaves it; another
 * enters slow_fn() on each SIGUSR1 and leaves it 300 ms later; main prints
 * a tick every 10 ms, so a test can see the process keep running while a
 * patch waits.
 */
#include <pthread.h>
#include <signal.h>

#include "kct.h"

volatile int stop_spin;
volatile unsigned long spins;
static volatile sig_atomic_t go_slow;

KCT_PATCHABLE int spin_fn(void)
{
	while (!stop_spin)
		spins++;
	return 1;
}

KCT_PATCHABLE int slow_fn(void)
{
	printf("in slow\n");
	kct_sleep_ms(300);
	return 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	go_slow = 1;
}

static void *spinner(void *arg)
{
	(void)arg;
	printf("spinning\n");
	printf("spin done %d\n", spin_fn());
	return NULL;
}

static void *slow(void *arg)
{
	(void)arg;
	for (;;) {
		while (!go_slow)
			kct_sleep_ms(5);
		go_slow = 0;
		printf("left slow %d\n", slow_fn());
	}
	return NULL;
}

int main(void)
{
	pthread_t t;

	kct_init(120);
	signal(SIGUSR1, on_usr1);
	pthread_create(&t, NULL, spinner, NULL);
	pthread_create(&t, NULL, slow, NULL);
	while (!spins)
		kct_sleep_ms(1);
	printf("ready\n");
	for (unsigned long n = 0;; n++) {
		printf("tick %lu\n", n);
		kct_sleep_ms(10);
	}
}
