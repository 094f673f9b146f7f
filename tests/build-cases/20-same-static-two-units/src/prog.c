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
