// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1103: f, g and h put their new marks (200, 20, 2) into the result. */
extern volatile long hsink;

long h(long x)
{
	for (int i = 0; i < 20; i++)
		hsink += i;
	return x * 1000 + 2;
}

long g(long x)
{
	return h(x) + 20;
}

long f(long x)
{
	return g(x) + 200;
}
