// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

int a_val(void);
int b_val(void);

static const char *show(int v, int off)
{
	int n = v >= off ? v - off : v;

	return n > 1000 ? (v >= off ? "patched-kept" : "orig-kept") : "lost";
}

int main(void)
{
	drv_init();
	for (int i = 0; i < 1000; i++)
		a_val(), b_val(), b_val();
	printf("ready\n");
	for (;;) {
		printf("a %s b %s\n", show(a_val(), 5000000), show(b_val(), 7000000));
		drv_sleep();
	}
}
