// SPDX-License-Identifier: GPL-2.0-or-later
static __attribute__((noinline)) int scale(int x, int k)
{
	return x * k + 1;
}

int compute(int x)
{
	return scale(x, 7) + scale(x + 1, 7);
}
