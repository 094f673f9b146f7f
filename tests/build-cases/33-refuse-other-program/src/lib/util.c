// SPDX-License-Identifier: GPL-2.0-or-later
static int level = 3;

static __attribute__((noinline)) int helper(int x)
{
	return x * level + 1;
}

int compute(int x)
{
	return helper(x) + helper(x + 1);
}
