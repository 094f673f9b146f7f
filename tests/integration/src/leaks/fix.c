// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fix of 1111: two replaced functions, a new one, and data of the patch's
 * own (data and bss), so that each patch maps every kind of region.
 */
extern volatile int one;

static int calls;
static int step = 1;

static int __attribute__((noinline)) bump(void)
{
	calls += step;
	return calls;
}

int value_fn(void)
{
	return one + 1 + (bump() < 0);
}

int other_fn(int x)
{
	return x + one + 1;
}
