// SPDX-License-Identifier: GPL-2.0-or-later
int ext(int x)
{
	return x * 10;
}
