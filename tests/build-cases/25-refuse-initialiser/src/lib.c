// SPDX-License-Identifier: GPL-2.0-or-later
static int base = 10;

void set_base(int b)
{
	base = b;
}

int compute(int x)
{
	return x * 3 + base;
}
