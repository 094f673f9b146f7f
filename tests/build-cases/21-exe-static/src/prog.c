// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int a_val(int x);
int b_val(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d %d\n", a_val(10), b_val(10));
		drv_sleep();
	}
}
