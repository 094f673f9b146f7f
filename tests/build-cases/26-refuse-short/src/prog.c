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
