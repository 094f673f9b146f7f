// SPDX-License-Identifier: GPL-2.0-or-later
/* Target of 2001: a function worth replacing, and tiny(), shorter than an entry jump. */
#include <stdio.h>

#include "kct.h"

volatile int one = 1;

KCT_PATCHABLE void tiny(void)
{
}

KCT_PATCHABLE int work(int x)
{
	return x * 7 + one;
}

int main(void)
{
	tiny();
	printf("%d\n", work(6));
	return 0;
}
