// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>

static char buf[64];

const char *greeting(int n)
{
	snprintf(buf, sizeof(buf), "hello %d", n);
	return buf;
}
