// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libkcbench.so: the library every benchmark target maps and every
 * benchmark patch replaces a function of. kcb_work() is short on purpose:
 * a busy thread spends a small share of its time inside it, so the safety
 * check (no thread inside a replaced function) succeeds often enough for
 * the benchmark to measure stops rather than retries.
 */
#include "kcb.h"

__attribute__((noipa)) int kcb_work(int x)
{
	return x * 2 + 1;
}
