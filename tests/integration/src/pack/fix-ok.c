// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 2001 that packs: replaces work(), adds a helper. */
extern volatile int one;

__attribute__((noinline)) int pack_ok_helper(int x)
{
	return x * 8;
}

int work(int x)
{
	return pack_ok_helper(x) + one;
}
