// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1207, level 1: short_fn() adds 2. */
int short_fn(int x)
{
	return x + 2;
}
