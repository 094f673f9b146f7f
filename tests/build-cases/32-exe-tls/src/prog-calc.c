// SPDX-License-Identifier: GPL-2.0-or-later
static __thread int calls;

int tick(void)
{
	return ++calls;
}
