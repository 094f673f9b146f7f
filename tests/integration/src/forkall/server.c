// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1202: a pre-forking server. Every 3 ms it forks a short-lived
 * child (it calls value_fn() for 5 to 40 ms and exits; every 16th execs
 * sleep instead), and whenever it notices it is being traced (a patcher
 * holds it) it forks one long-lived child, a "session" that keeps calling
 * value_fn() until killed: the child that a single pass over the processes
 * leaves behind. Every process reports nothing itself; the test reads the
 * patch state of every live process with libcare-ctl info.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "kct.h"

volatile int value_bias;

KCT_PATCHABLE int value_fn(int x)
{
	return x + 1 + value_bias;
}

static int traced(void)
{
	char buf[2048], *p;
	int fd = open("/proc/self/status", O_RDONLY), tracer = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "TracerPid:");
	if (p)
		tracer = atoi(p + 10);
	return tracer != 0;
}

static void run_for(long ms)
{
	volatile int sink = 0;
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 1000; i++)
			sink = value_fn(sink);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (ms < 0 ||
		 (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

int main(void)
{
	unsigned n = 0;
	int was_traced = 0;

	kct_init(120);
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	printf("ready\n");
	for (;; n++) {
		int now_traced = traced();

		if (now_traced && !was_traced && fork() == 0) {
			alarm(120);
			run_for(-1); /* a session: until killed */
		}
		was_traced = now_traced;
		if (n % 3 == 0 && fork() == 0) {
			if (n % 48 == 0)
				execl("/bin/sleep", "sleep", "0.05", (char *)NULL);
			run_for(5 + (long)(n % 36));
			_exit(0);
		}
		kct_sleep_ms(1);
	}
}
