// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int u7(int x);
int u3(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d %d\n", u7(10), u3(10));
		drv_sleep();
	}
}
