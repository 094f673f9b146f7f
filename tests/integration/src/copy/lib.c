// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Library of 1206: two exported counters that the program reads directly, so the program holds
 * the live copies (R_X86_64_COPY). lib_fail() counts through lib_errors, which the library's code
 * reaches through its GOT; nothing in the library touches lib_seen (no GOT slot: only the fix
 * uses it).
 */
#include "kct.h"

int lib_errors;
int lib_seen;

KCT_PATCHABLE void lib_fail(void)
{
	lib_errors += 1;
}

KCT_PATCHABLE int lib_count(void)
{
	return lib_errors;
}
