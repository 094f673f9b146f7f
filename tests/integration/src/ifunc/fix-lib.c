// SPDX-License-Identifier: GPL-2.0-or-later
/* Fixes of 1208's own IFUNCs: built once per name, -DFN=pick or -DFN=loaded. */
int FN(int x)
{
	return x * 3 + 2;
}
