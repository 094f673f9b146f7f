// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1008 replacing three functions at once. */
extern volatile int k;

int f1(void)
{
	return k * 100 + 1;
}

int f2(void)
{
	return k * 100 + 2;
}

int f3(void)
{
	return k * 100 + 3;
}
