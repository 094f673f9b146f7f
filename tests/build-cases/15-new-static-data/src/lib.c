// SPDX-License-Identifier: GPL-2.0-or-later
const char *label(int n)
{
	return n > 5 ? "big" : "small";
}
