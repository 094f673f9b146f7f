// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 2001 defining a new thread-local variable: refused. */
__thread int fix_new_tls;

int work(int x)
{
	return x + fix_new_tls++;
}
