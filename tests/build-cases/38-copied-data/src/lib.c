// SPDX-License-Identifier: GPL-2.0-or-later
/* lib_state is defined by the changed unit, lib_total by another one; the program copies both. */
int lib_state;
extern int lib_total;

int compute(int x)
{
	lib_state = 1;
	lib_total = 10;
	return x * 2 + 2;
}
