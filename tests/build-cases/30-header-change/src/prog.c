// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int compute(int x);
int compute2(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d %d\n", compute(10), compute2(10));
		drv_sleep();
	}
}
