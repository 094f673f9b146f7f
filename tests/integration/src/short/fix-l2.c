// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1207, level 2: short_fn() adds 3. */
int short_fn(int x)
{
	return x + 3;
}
