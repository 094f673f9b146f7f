// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Library of 1201: hot_fn() is a short function (a few instructions around
 * one call to its helper) that the target's threads call in a tight loop,
 * so some thread is almost always inside it when the process is stopped.
 */
#include "kct.h"

/* the helper does most of the work, so the time spent inside hot_fn() dominates */
KCT_PATCHABLE unsigned hot_mix(unsigned x)
{
	for (int i = 0; i < 32; i++)
		x = (x * 2654435761u) ^ (x >> 13);
	return x;
}

KCT_PATCHABLE unsigned hot_fn(unsigned x)
{
	return hot_mix(x) + 1;
}
