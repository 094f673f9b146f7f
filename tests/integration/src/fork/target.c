// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1010 (fork and exec): prints "ROLE PID value N" every 10 ms.
 * SIGUSR1 makes it fork (the child goes on as "child"); SIGUSR2 makes it
 * exec itself (the new image goes on as "exec", same pid).
 */
#include <signal.h>
#include <unistd.h>

#include "kct.h"

volatile int one = 1;
static volatile sig_atomic_t want_fork, want_exec;

KCT_PATCHABLE int value_fn(void)
{
	return one;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_fork = 1;
	else
		want_exec = 1;
}

int main(int argc, char **argv)
{
	const char *role = argc > 1 ? argv[1] : "parent";

	kct_init(120);
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	printf("ready %s %d\n", role, (int)getpid());
	for (;;) {
		if (want_fork) {
			pid_t c;

			want_fork = 0;
			c = fork();
			if (c == 0) {
				role = "child";
				alarm(60);
			} else if (c > 0) {
				printf("forked %d\n", (int)c);
			}
		}
		if (want_exec) {
			want_exec = 0;
			execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
			printf("exec failed\n");
		}
		printf("%s %d value %d\n", role, (int)getpid(), value_fn());
		kct_sleep_ms(10);
	}
}
