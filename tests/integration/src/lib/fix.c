// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1002: lib_compute() returns 3x + 1 (64 for 21, 1064 through the wrapper). */
extern volatile int lib_bias;

int lib_compute(int x)
{
	return x * 3 + 1 + lib_bias;
}
