// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <stdlib.h>

__attribute__((cold, noinline)) void report(int x)
{
	fprintf(stderr, "bad %d\n", x);
}

int compute(int x)
{
	if (__builtin_expect(x < 0, 0)) {
		report(x);
		fprintf(stderr, "negative %d %d\n", x, x * 7);
		abort();
	}
	return x * 3 + 1;
}
