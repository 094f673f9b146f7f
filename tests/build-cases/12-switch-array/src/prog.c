// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int code(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d %d\n", code(2), code(5));
		drv_sleep();
	}
}
