// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1109: value_fn() returns 2 (it never gets in: mmap is denied). */
extern volatile int one;

int value_fn(void)
{
	return one + 1;
}
