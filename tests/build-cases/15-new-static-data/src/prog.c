// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

const char *label(int n);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("label %s\n", label(3));
		drv_sleep();
	}
}
