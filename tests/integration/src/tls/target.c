// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1005: threads t1..t4 (and t5, started on SIGUSR1) give their
 * thread-local variables values proportional to their number, then keep
 * printing what four patchable functions return. The originals return
 * negative constants; the fixes compute from the thread's variables, so a
 * line shows whether each thread reads its own storage.
 */
#include <pthread.h>
#include <signal.h>

#include "kct.h"

__thread int tls_exe = -1;

void lib_set(int i);
int lib_get(void);

KCT_PATCHABLE int get_gd(void)
{
	return -1 - tls_exe * 0;
}

KCT_PATCHABLE int get_ie(void)
{
	return -2 - tls_exe * 0;
}

KCT_PATCHABLE int get_le(void)
{
	return -3 - tls_exe * 0;
}

static volatile sig_atomic_t spawn;
static volatile int started;

static void on_usr1(int sig)
{
	(void)sig;
	spawn = 1;
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;

	tls_exe = 100 * i;
	lib_set(i);
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		printf("t%d gd %d ie %d le %d lib %d\n", i, get_gd(), get_ie(), get_le(),
		       lib_get());
		kct_sleep_ms(20);
	}
	return NULL;
}

int main(void)
{
	pthread_t t;

	kct_init(120);
	signal(SIGUSR1, on_usr1);
	for (long i = 1; i <= 4; i++)
		pthread_create(&t, NULL, worker, (void *)i);
	while (started < 4)
		kct_sleep_ms(1);
	printf("ready\n");
	for (;;) {
		if (spawn) {
			spawn = 0;
			pthread_create(&t, NULL, worker, (void *)5L);
		}
		kct_sleep_ms(10);
	}
}
