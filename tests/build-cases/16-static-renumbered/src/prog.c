// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int ticks(void);
int tocks(void);

int main(void)
{
	drv_init();
	for (int i = 0; i < 1000; i++)
		ticks(), tocks();
	printf("ready\n");
	for (;;) {
		int v = ticks(), n = v >= 1000000 ? v - 1000000 : v;

		printf("%s %s %s\n", v >= 1000000 ? "patched" : "orig", n > 1000 ? "kept" : "lost",
		       tocks() > 2000 ? "kept" : "lost");
		drv_sleep();
	}
}
