// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1010, packed for each of its three targets: value_fn() returns 2. */
extern volatile int one;

int value_fn(void)
{
	return one + 1;
}
