// SPDX-License-Identifier: GPL-2.0-or-later
static __attribute__((noinline)) int c7(int x) __asm__("scale.constprop.0");
static __attribute__((noinline)) int c3(int x) __asm__("scale.constprop.1");

/* asm names stand for the numbers gcc gives clones, which a fix can reorder */
static int c7(int x)
{
	return x * 7 + 1;
}

static int c3(int x)
{
	return x * 3 + 1;
}

int u7(int x)
{
	return c7(x) + 1;
}

int u3(int x)
{
	return c3(x) + 1;
}
