// SPDX-License-Identifier: GPL-2.0-or-later
static __attribute__((noinline)) int helper(int x)
{
	return x * 7 + 3;
}

int compute(int x)
{
	if (x > 100)
		return helper(x - 1);
	return x * 2 + 2;
}
