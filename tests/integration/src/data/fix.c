// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fix of 1003: a new helper, a call to the target's static scale() and
 * global twice(), reads of base and the static sbase, writes to the static
 * counter, gvalue and message, a string literal, a constant table and new
 * data of its own. With base 1000 and sbase 2000 set at run time:
 * scale(3) + base + sbase + twice(5) = 3040, 3040 & 7 = 0, table[0] = 3,
 * so helper() gives 303040, plus pdata 7: 303047.
 */
extern volatile int base, sbase, counter, gvalue;
extern char message[32];
extern int scale(int x);
extern int twice(int x);

static const int table[8] = {3, 1, 4, 1, 5, 9, 2, 6};
static volatile int pdata = 7;
static volatile int calls;

__attribute__((noinline)) int data_fix_helper(int x)
{
	return x + table[x & 7] * 100000;
}

int process(int x)
{
	volatile char *d = message;
	const char *s = "patched";

	while ((*d++ = *s++))
		;
	counter++;
	calls++;
	gvalue = calls > 0 ? 4242 : -1;
	return data_fix_helper(scale(x) + base + sbase + twice(5)) + pdata;
}
