// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 2001 replacing tiny(): refused where no padding follows the 1-byte original. */
extern volatile int one;

void tiny(void)
{
	one = 1;
}
