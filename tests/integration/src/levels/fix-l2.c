// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1009, level 2 of patch "lvl": level_fn() returns 2. */
extern volatile int zero;

int level_fn(void)
{
	return zero + 2;
}
