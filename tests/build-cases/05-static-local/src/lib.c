// SPDX-License-Identifier: GPL-2.0-or-later
int tick(void)
{
	static int n;

	return ++n;
}
