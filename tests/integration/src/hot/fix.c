// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1201: hot_fn() adds 2 instead of 1. */
unsigned hot_mix(unsigned x);

unsigned hot_fn(unsigned x)
{
	return hot_mix(x) + 2;
}
