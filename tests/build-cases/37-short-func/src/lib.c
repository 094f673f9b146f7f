// SPDX-License-Identifier: GPL-2.0-or-later
int compute(int x)
{
	return x + 22;
}

/* keeps compute() from being the last function of .text: its padding follows it */
int after(int x)
{
	return x * 3 + 1;
}
