// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1206: lib_fail() counts in thousands and marks lib_seen. */
extern int lib_errors, lib_seen;

void lib_fail(void)
{
	lib_errors += 1000;
	lib_seen = 7;
}
