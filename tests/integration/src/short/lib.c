// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Library of 1207: short_fn() is shorter than the 5-byte entry jump
 * (lea 1(%rdi),%eax; ret: 4 bytes at -O2), followed by the compiler's
 * alignment padding, and called in a tight loop by the target's threads.
 * short_after() only keeps short_fn() from being the last function of
 * .text, where nothing but the next section (.fini) would follow it.
 */
#include "kct.h"

KCT_PATCHABLE int short_fn(int x)
{
	return x + 1;
}

KCT_PATCHABLE int short_after(int x)
{
	return x * 5 + 3;
}
