// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

const char *where(int n);
const char *other(void);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("at %s %s\n", where(7), other());
		drv_sleep();
	}
}
