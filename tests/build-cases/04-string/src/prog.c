// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

const char *greeting(int n);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("says %s\n", greeting(7));
		drv_sleep();
	}
}
