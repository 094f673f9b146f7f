// SPDX-License-Identifier: GPL-2.0-or-later
#include "driver.h"

double scale(double x);
double half(double x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %.2f %.2f\n", scale(8), half(8));
		drv_sleep();
	}
}
