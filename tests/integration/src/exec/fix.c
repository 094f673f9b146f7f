// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1001: compute() returns 3x + 1 instead of 2x (63 + 1 for 21). */
extern volatile int bias;

int compute(int x)
{
	return x * 3 + 1 + bias;
}
