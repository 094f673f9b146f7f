// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1012: calls the target (helper) and libc (printf), so the patch has symbols and
 * relocations. */
#include <stdio.h>

extern int helper(int x);

int check(int x)
{
	int r = helper(x) * 3;

	if (r < 0)
		printf("negative %d\n", r);
	return r;
}
