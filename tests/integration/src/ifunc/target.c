// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1208: every 20 ms, calls two IFUNCs and prints what they
 * return: the C library's strlen() on a marked string (7 from glibc, 42
 * from the fix, which knows the mark), and pick(4) of the test's own
 * library (13 from either implementation, 14 from the fix).
 */
#include <string.h>

#include "kct.h"

int pick(int x);

/* volatile: the compiler must not know the string, or it would fold strlen() away */
static const char *volatile marked = "#KC!abc";

int main(void)
{
	kct_init(120);
	printf("ready\n");
	for (;;) {
		printf("len %zu pick %d\n", strlen(marked), pick(4));
		kct_sleep_ms(20);
	}
}
