// SPDX-License-Identifier: GPL-2.0-or-later
/* The demo's long-running service: every 0.5 s it asks libgreet.so about the next user (0..3) and
 * prints the answer. */
#include <stdio.h>
#include <time.h>

const char *greet(int user);

int main(void)
{
	const struct timespec half = {0, 500000000L};

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned n = 0;; n++) {
		printf("service: user %u -> %s\n", n % 4, greet(n % 4));
		nanosleep(&half, NULL);
	}
}
