// SPDX-License-Identifier: GPL-2.0-or-later
/* The unit tests' scratch directory; see scratch.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "scratch.h"

static char dir[256];

int scratch_make(const char *name)
{
	snprintf(dir, sizeof(dir), "/tmp/kc-test-%s.XXXXXX", name);
	return mkdtemp(dir) ? 0 : -1;
}

int scratch_remove(void)
{
	char cmd[512];

	if (getenv("KC_TEST_KEEP") || !dir[0])
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

void scratch_run(const char *fmt, ...)
{
	char cmd[4096];
	int n;
	va_list ap;

	n = snprintf(cmd, sizeof(cmd), "cd '%s' && ", dir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

void scratch_put(const char *name, const char *text)
{
	FILE *f = fopen(scratch_path(name), "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

const char *scratch_path(const char *name)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}
