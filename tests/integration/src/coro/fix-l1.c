// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1205, level 1 of patch "coro": work() adds 1000, and suspends like the original. */
void co_pause(void);

int work(int x)
{
	int a = 2 * x + 1000;

	co_pause();
	return a + 1;
}
