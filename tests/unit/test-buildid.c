// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <cmocka.h>

#include "kcare/buildid.h"

/* The test binary itself carries a build-id (Debian's gcc links with --build-id). */
static void test_buildid__reads_self_and_matches_readelf(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_buildid id, back;
	char hex[2 * KC_BUILDID_MAX + 1], cmd[512], expect[256] = "";
	FILE *p;

	(void)state;
	assert_int_equal(kc_buildid_from_file("/proc/self/exe", &id, &err), 0);
	assert_true(id.len >= 16);
	kc_buildid_to_hex(&id, hex, sizeof(hex));
	snprintf(cmd, sizeof(cmd),
		 "readelf -n /proc/%d/exe | sed -n 's/.*Build ID: \\([0-9a-f]*\\).*/\\1/p'",
		 (int)getpid());
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(expect, sizeof(expect), p));
	pclose(p);
	expect[strcspn(expect, "\n")] = '\0';
	assert_string_equal(hex, expect);
	assert_int_equal(kc_buildid_from_hex(hex, &back, &err), 0);
	assert_true(kc_buildid_equal(&id, &back));
}

static void test_buildid__rejects_bad_input(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_buildid id;

	(void)state;
	assert_int_equal(kc_buildid_from_hex("abc", &id, &err), -EINVAL);
	assert_int_equal(kc_buildid_from_hex("zz", &id, &err), -EINVAL);
	assert_int_equal(kc_buildid_from_hex("", &id, &err), -EINVAL);
	assert_int_equal(kc_buildid_from_file("/nonexistent/x", &id, &err), -ENOENT);
	assert_int_equal(kc_buildid_from_file("/etc/passwd", &id, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "not an ELF"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buildid__reads_self_and_matches_readelf),
	    cmocka_unit_test(test_buildid__rejects_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
