// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>

static char buf[64];

const char *where(int n)
{
	snprintf(buf, sizeof(buf), "%s:%d", __func__, n);
	return buf;
}

const char *other(void)
{
	return __func__;
}
