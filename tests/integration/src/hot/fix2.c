// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Level 2 of the fix of 1201: the same result as level 1 (+2), through
 * a new function of the patch, so that a thread can be two frames deep in
 * patch code when the next operation stops it.
 */
unsigned hot_mix(unsigned x);

__attribute__((noinline)) unsigned hot_add2(unsigned x)
{
	__asm__ volatile("");
	return x + 2;
}

unsigned hot_fn(unsigned x)
{
	return hot_add2(hot_mix(x));
}
