// SPDX-License-Identifier: GPL-2.0-or-later
static int level = 5;

static __attribute__((noinline)) int helper(int x)
{
	return x * level + 2;
}

int app_value(int x)
{
	return helper(x) + helper(x + 1);
}
