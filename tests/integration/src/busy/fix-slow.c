// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1007 for the function a thread leaves after 300 ms: applying it waits, then succeeds. */
#include <stdio.h>

int slow_fn(void)
{
	printf("in new slow\n");
	return 2;
}
