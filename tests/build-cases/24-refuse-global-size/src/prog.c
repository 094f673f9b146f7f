// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int get(int i);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d\n", get(2));
		drv_sleep();
	}
}
