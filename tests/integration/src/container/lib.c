// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Library of 1110, the object the patch replaces a function of. Built a
 * second time with -DDECOY for the host's copy at the container's path:
 * same name, other build-id.
 */
#include "kct.h"

volatile int one = 1;

KCT_PATCHABLE int ct_value(void)
{
#ifdef DECOY
	return one + 100;
#else
	return one;
#endif
}
