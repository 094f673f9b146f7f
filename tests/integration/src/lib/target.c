// SPDX-License-Identifier: GPL-2.0-or-later
/* Target of 1002: a program calling a function of its shared library in a loop. */
#include "kct.h"

int lib_compute(int x);
int lib_wrapper(int x);

int main(void)
{
	kct_init(120);
	printf("ready\n");
	for (;;) {
		printf("value %d wrapped %d\n", lib_compute(21), lib_wrapper(21));
		kct_sleep_ms(10);
	}
}
