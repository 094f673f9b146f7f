// SPDX-License-Identifier: GPL-2.0-or-later
/* The driver of most cases: prints compute(20) every 10 ms (4001 copies it into a case without its own). */
#include "driver.h"

int compute(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d\n", compute(20));
		drv_sleep();
	}
}
