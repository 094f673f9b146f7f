// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void drv_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(120);
}

static void drv_sleep(void)
{
	usleep(10000);
}

int compute(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		printf("value %d\n", compute(20));
		drv_sleep();
	}
}
