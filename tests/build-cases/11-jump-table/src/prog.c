// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int compute(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d %d\n", compute(20), compute(21));
		drv_sleep();
	}
}
