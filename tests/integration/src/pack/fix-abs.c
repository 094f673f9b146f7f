// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 2001 compiled -fno-pic: the address of `one` becomes an absolute 32-bit relocation,
 * refused. */
extern volatile int one;

int work(int x)
{
	volatile int *volatile p = &one;

	return x * 9 + *p;
}
