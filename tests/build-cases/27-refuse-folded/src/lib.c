// SPDX-License-Identifier: GPL-2.0-or-later
static __attribute__((noinline)) int f(int x)
{
	return x * 3 + 11 + (x >> 2);
}

static __attribute__((noinline)) int g(int x)
{
	return x * 3 + 11 + (x >> 2);
}

int uf(int x)
{
	return f(x) + 1;
}

int ug(int x)
{
	return g(x) + 2;
}
