// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1007 for the function a thread never leaves: applying it must fail as busy. */
extern volatile int stop_spin;
extern volatile unsigned long spins;

int spin_fn(void)
{
	while (!stop_spin)
		spins += 2;
	return 2;
}
