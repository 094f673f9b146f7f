// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1009 for fn_b (patch "dirb", applied from a directory). */
extern volatile int zero;

int fn_b(void)
{
	return zero + 21;
}
