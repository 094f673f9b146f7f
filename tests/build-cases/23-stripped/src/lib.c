// SPDX-License-Identifier: GPL-2.0-or-later
static int base = 2;

static __attribute__((noinline)) int inner(int x)
{
	return x * 2 + base;
}

int compute(int x)
{
	return inner(x) + inner(x + 1);
}
