// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "kcare/err.h"

static void test_err__set_returns_negative_code(void **state)
{
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	assert_int_equal(kc_err_set(&err, ESRCH, "process %d exited", 42), -ESRCH);
	assert_int_equal(err.code, -ESRCH);
	assert_string_equal(err.msg, "process 42 exited");
	assert_int_equal(kc_err_set(NULL, -EIO, "x"), -EIO);
}

static void test_err__prefix_keeps_code(void **state)
{
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	kc_err_set(&err, -ENOENT, "no such symbol 'foo'");
	assert_int_equal(kc_err_prefix(&err, "patch '%s'", "p1"), -ENOENT);
	assert_string_equal(err.msg, "patch 'p1': no such symbol 'foo'");
	kc_err_clear(&err);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
}

static void test_err__long_message_truncated(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char big[2000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	kc_err_set(&err, -E2BIG, "%s", big);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	kc_err_prefix(&err, "ctx");
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err__set_returns_negative_code),
	    cmocka_unit_test(test_err__prefix_keeps_code),
	    cmocka_unit_test(test_err__long_message_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
