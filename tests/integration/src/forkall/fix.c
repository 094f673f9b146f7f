// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1202: value_fn() adds 2. */
extern volatile int value_bias;

int value_fn(int x)
{
	return x + 2 + value_bias;
}
