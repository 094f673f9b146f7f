// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1104: hold_fn() and value_fn() say 2; hold_fn() still waits for SIGUSR2. */
#include <signal.h>
#include <stdio.h>
#include <time.h>

extern volatile sig_atomic_t release;
extern volatile int one;

int hold_fn(void)
{
	struct timespec ms = {0, 1000000};

	printf("holding 2\n");
	while (!release)
		nanosleep(&ms, NULL);
	return 2;
}

int value_fn(void)
{
	return one + 1;
}
