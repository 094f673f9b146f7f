// SPDX-License-Identifier: GPL-2.0-or-later
/* Library of 1002: lib_compute() is called from the program and, through lib_wrapper(), from the
 * library itself. */
#include "kct.h"

volatile int lib_bias;

int lib_compute(int x)
{
	return x * 2 + lib_bias;
}

KCT_PATCHABLE int lib_wrapper(int x)
{
	return lib_compute(x) + 1000;
}
