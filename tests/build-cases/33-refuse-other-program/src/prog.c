// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int compute(int x);
int app_value(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d %d\n", compute(10), app_value(10));
		drv_sleep();
	}
}
