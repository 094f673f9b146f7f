// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1108: value_fn() returns 2. */
extern volatile int one;

int value_fn(void)
{
	return one + 1;
}
