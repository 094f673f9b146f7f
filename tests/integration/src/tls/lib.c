// SPDX-License-Identifier: GPL-2.0-or-later
/* Library of 1005: thread-local variables of a shared library loaded at startup (static TLS). */
#include "kct.h"

__thread int tls_lib = -1;
__thread int tls_lib2 = -1;

void lib_set(int i)
{
	tls_lib = 1000 * i;
	tls_lib2 = 10000 * i;
}

KCT_PATCHABLE int lib_get(void)
{
	return -tls_lib - 4;
}
