// SPDX-License-Identifier: GPL-2.0-or-later
int table[4] = {1, 2, 3, 4};

int get(int i)
{
	return table[i & 3] * 10 + i;
}
