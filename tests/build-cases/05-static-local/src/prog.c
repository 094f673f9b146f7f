// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int tick(void);

int main(void)
{
	drv_init();
	for (int i = 0; i < 1000; i++)
		tick();
	printf("ready\n");
	for (;;) {
		int v = tick();
		int n = v >= 1000000 ? v - 1000000 : v;

		/* storage kept: the count goes on past 1000; new storage would start at 1 */
		printf("%s %s\n", v >= 1000000 ? "patched" : "orig", n > 1000 ? "kept" : "lost");
		drv_sleep();
	}
}
