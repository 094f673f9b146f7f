// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1008 whose new code a thread stays in until the target gets SIGUSR1. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

extern volatile sig_atomic_t release;

int blocker(void)
{
	if (!release)
		printf("in new blocker\n");
	while (!release)
		usleep(5000);
	return 2;
}
