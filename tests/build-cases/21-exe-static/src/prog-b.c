// SPDX-License-Identifier: GPL-2.0-or-later
static int level = 5;

static __attribute__((noinline)) int get(int x)
{
	return x * level + 2;
}

int b_val(int x)
{
	return get(x) - get(x - 1);
}
