// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int flag(void);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("flag %d\n", flag());
		drv_sleep();
	}
}
