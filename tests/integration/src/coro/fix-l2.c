// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1205, level 2 of patch "coro": work() adds 2000, and suspends like the original. */
void co_pause(void);

int work(int x)
{
	int a = 2 * x + 2000;

	co_pause();
	return a + 1;
}
