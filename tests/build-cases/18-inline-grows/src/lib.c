// SPDX-License-Identifier: GPL-2.0-or-later
static inline int helper(int x)
{
	return x + 1;
}

int compute(int x)
{
	return helper(x) * 2 + 3;
}
