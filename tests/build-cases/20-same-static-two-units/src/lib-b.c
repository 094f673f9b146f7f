// SPDX-License-Identifier: GPL-2.0-or-later
static int count;

static __attribute__((noinline)) int bump(void)
{
	return ++count;
}

int b_val(void)
{
	return bump() * 1;
}
