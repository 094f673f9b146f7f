// SPDX-License-Identifier: GPL-2.0-or-later
int compute(int x)
{
	return x * 2 + 2;
}
