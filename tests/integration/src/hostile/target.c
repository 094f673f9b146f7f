// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1106: a process that changes under the patcher's feet. Two
 * workers call value_fn() every millisecond and main prints its value
 * every 10 ms, while, by mode (argv[1]):
 *   exec N      every 20 ms the process execs itself (generation N+1),
 *               from main in even generations and from a worker in odd
 *               ones (then the kernel makes that thread the leader)
 *   fork        every 10 ms main forks a child that prints value_fn()
 *               and exits; an abnormal child death prints BAD
 *   threads US  a thread every US microseconds (10000: 100 a second),
 *               each calling value_fn() five times over 5 ms
 *   exit MS     the process exits after MS ms, from a worker thread when
 *               MS is odd, by returning from main when even
 * Only the first generation prints "ready".
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "kct.h"

volatile int one = 1;
volatile long sink;
static const char *mode;
static long arg;
static char **args;

KCT_PATCHABLE int value_fn(void)
{
	return one;
}

static void re_exec(void)
{
	char gen[32], *argv[] = {args[0], "exec", gen, NULL};

	snprintf(gen, sizeof(gen), "%ld", arg + 1);
	execv("/proc/self/exe", argv);
	printf("BAD exec: errno %d\n", errno);
	exit(1);
}

static void *worker(void *first)
{
	for (int n = 0;; n++) {
		sink += value_fn();
		kct_sleep_ms(1);
		if (first && !strcmp(mode, "exec") && arg % 2 && n == 20)
			re_exec();
		if (first && !strcmp(mode, "exit") && arg % 2 && n == arg)
			exit(0);
	}
	return NULL;
}

static void *short_lived(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5; i++) {
		sink += value_fn();
		kct_sleep_ms(1);
	}
	return NULL;
}

static void reap(void)
{
	int st;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			printf("BAD child %d status 0x%x\n", p, st);
}

static void spawn(void)
{
	pthread_attr_t at;
	pthread_t t;
	int e;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&t, &at, short_lived, NULL);
	if (e)
		printf("BAD pthread_create %d\n", e);
	pthread_attr_destroy(&at);
}

int main(int argc, char **argv)
{
	pthread_t t;
	long next_us = 0;

	kct_init(120);
	args = argv;
	mode = argc > 1 ? argv[1] : "fork";
	arg = argc > 2 ? atol(argv[2]) : 0;
	pthread_create(&t, NULL, worker, (void *)1);
	pthread_create(&t, NULL, worker, NULL);
	if (!strcmp(mode, "exec") && arg == 0)
		printf("ready\n");
	else if (strcmp(mode, "exec"))
		printf("ready\n");
	for (long ms = 0;; ms++) {
		if (ms % 10 == 0 && strcmp(mode, "exit"))
			printf("%s %ld value %d\n", mode, arg, value_fn());
		if (!strcmp(mode, "exec") && !(arg % 2) && ms == 20)
			re_exec();
		if (!strcmp(mode, "exit") && !(arg % 2) && ms >= arg)
			return 0;
		if (!strcmp(mode, "fork") && ms % 10 == 0) {
			pid_t p = fork();

			if (p == 0) {
				printf("child value %d\n", value_fn());
				_exit(0);
			}
			if (p < 0)
				printf("BAD fork: errno %d\n", errno);
			reap();
		}
		if (!strcmp(mode, "threads")) {
			for (next_us -= 1000; next_us <= 0; next_us += arg ? arg : 10000)
				spawn();
		}
		kct_sleep_ms(1);
	}
}
