// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1110, run in a container (PID and mount namespace) from a
 * tmpfs only visible there: prints the pid it has in its namespace, then
 * what ct_value() of libct.so returns every 10 ms.
 */
#include "kct.h"

int ct_value(void);

int main(void)
{
	kct_init(120);
	printf("ready pid %d\n", (int)getpid());
	for (;;) {
		printf("value %d\n", ct_value());
		kct_sleep_ms(10);
	}
}
