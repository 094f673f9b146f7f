// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int uf(int x);
int ug(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d %d\n", uf(8), ug(8));
		drv_sleep();
	}
}
