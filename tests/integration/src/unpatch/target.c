// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1008: main prints f1..f3 every 10 ms; a second thread calls
 * blocker() in a loop. SIGUSR1 sets `release`, which only the fixed
 * blocker() waits for.
 */
#include <pthread.h>
#include <signal.h>

#include "kct.h"

volatile sig_atomic_t release;
volatile int k = 1;

KCT_PATCHABLE int f1(void)
{
	return k * 1;
}

KCT_PATCHABLE int f2(void)
{
	return k * 2;
}

KCT_PATCHABLE int f3(void)
{
	return k * 3;
}

KCT_PATCHABLE int blocker(void)
{
	return k;
}

static void on_usr1(int sig)
{
	(void)sig;
	release = 1;
}

static void *blocking(void *arg)
{
	(void)arg;
	for (;;) {
		printf("blocker %d\n", blocker());
		kct_sleep_ms(10);
	}
	return NULL;
}

int main(void)
{
	pthread_t t;

	kct_init(120);
	signal(SIGUSR1, on_usr1);
	pthread_create(&t, NULL, blocking, NULL);
	printf("ready\n");
	for (;;) {
		printf("values %d %d %d\n", f1(), f2(), f3());
		kct_sleep_ms(10);
	}
}
