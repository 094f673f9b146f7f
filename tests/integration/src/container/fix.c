// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1110: ct_value() returns 2. */
extern volatile int one;

int ct_value(void)
{
	return one + 1;
}
