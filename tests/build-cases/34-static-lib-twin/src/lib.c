// SPDX-License-Identifier: GPL-2.0-or-later
int base = 2;

static __attribute__((noinline)) int scale(int x)
{
	return x * base;
}

int compute(int x)
{
	return scale(x) + 2;
}
