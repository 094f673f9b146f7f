// SPDX-License-Identifier: GPL-2.0-or-later
/* Reads the library's variables directly: the program holds the live copies (R_X86_64_COPY). */
#include "driver.h"

extern int lib_state, lib_total;
int compute(int x);

int main(void)
{
	drv_init();
	printf("ready\n");
	for (;;) {
		int v = compute(20);

		printf("value %d state %d total %d\n", v, lib_state, lib_total);
		drv_sleep();
	}
}
