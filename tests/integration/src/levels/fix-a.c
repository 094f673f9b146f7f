// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1009 for fn_a (patch "dira", applied from a directory). */
extern volatile int zero;

int fn_a(void)
{
	return zero + 11;
}
