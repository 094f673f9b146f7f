// SPDX-License-Identifier: GPL-2.0-or-later
static int level = 3;

static __attribute__((noinline)) int get(int x)
{
	return x * level + 1;
}

int a_val(int x)
{
	return get(x) + get(x + 1);
}
