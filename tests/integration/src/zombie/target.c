// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1107: main starts three workers and calls pthread_exit(), so
 * the thread-group leader is a zombie while the process lives on. One
 * worker prints value_fn() every 10 ms (after "ready" and its thread id,
 * which a test uses to read the process's memory: /proc/PID/mem of a
 * zombie leader cannot be read); the others call it every millisecond.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "kct.h"

volatile int one = 1;
volatile long sink;

KCT_PATCHABLE int value_fn(void)
{
	return one;
}

static void *printer(void *arg)
{
	(void)arg;
	kct_sleep_ms(50); /* let main exit first */
	printf("ready tid %ld\n", (long)syscall(SYS_gettid));
	for (;;) {
		printf("value %d\n", value_fn());
		kct_sleep_ms(10);
	}
	return NULL;
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

int main(void)
{
	pthread_t t;

	kct_init(120);
	pthread_create(&t, NULL, printer, NULL);
	pthread_create(&t, NULL, worker, NULL);
	pthread_create(&t, NULL, worker, NULL);
	pthread_exit(NULL);
}
