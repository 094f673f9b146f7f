// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1012 that replaces nothing: no function of the target is called nonexistent_fn. */
int nonexistent_fn(int x)
{
	return x + 1;
}
