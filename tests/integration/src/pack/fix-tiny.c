// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 2001 replacing tiny(): refused, the original is shorter than a jump. */
extern volatile int one;

void tiny(void)
{
	one = 1;
}
