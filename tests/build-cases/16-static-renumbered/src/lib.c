// SPDX-License-Identifier: GPL-2.0-or-later
int ticks(void)
{
	static int n;

	return ++n;
}

int tocks(void)
{
	static int n;

	return n += 2;
}
