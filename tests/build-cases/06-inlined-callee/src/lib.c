// SPDX-License-Identifier: GPL-2.0-or-later
static inline int weight(int x)
{
	return x * 3;
}

int compute(int x)
{
	return weight(x) + 1;
}

int compute2(int x)
{
	return weight(x + 1) - 1;
}

int other(int x)
{
	return x * 7 + 2;
}
