// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int compute(int x);
int compute2(int x);
int other(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d %d %d\n", compute(20), compute2(20), other(1));
		drv_sleep();
	}
}
