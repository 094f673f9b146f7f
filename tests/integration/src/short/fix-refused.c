// SPDX-License-Identifier: GPL-2.0-or-later
/* Fixes of 1207's refusals: built once per short function, -DFN=name. */
int FN(int x)
{
	return x + 2;
}
