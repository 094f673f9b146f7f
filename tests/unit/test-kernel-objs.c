// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcare-build kernel's pure helpers: the files a unified diff changes
 * (names that cannot leave the tree, removed files refused) and the
 * normalisation of dependency paths as a compiler writes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "build/kernel-int.h"

static size_t diff_files(const char *text, char ***files, int *ret)
{
	struct kc_err err = KC_ERR_INIT;
	size_t n = 0;

	*ret = kc_kdiff_files(text, strlen(text), files, &n, &err);
	if (*ret < 0)
		assert_true(err.msg[0] != '\0');
	return n;
}

static void free_files(char **files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
}

static void test_diff_files(void **state)
{
	const char *text = "diff --git a/fs/open.c b/fs/open.c\n"
			   "--- a/fs/open.c\t2024-01-01\n"
			   "+++ b/fs/open.c\t2024-01-02\n"
			   "@@ -1 +1 @@\n-a\n+b\n"
			   "--- linux.orig/lib/kstrtox.h\n"
			   "+++ linux/lib/kstrtox.h\n"
			   "@@ -1 +1 @@\n-a\n+b\n"
			   "--- a/fs/open.c\n+++ b/fs/open.c\n@@ -2 +2 @@\n-c\n+d\n";
	char **files = NULL;
	int ret;
	size_t n = diff_files(text, &files, &ret);

	(void)state;
	assert_int_equal(ret, 0);
	assert_int_equal(n, 2);
	assert_string_equal(files[0], "fs/open.c");
	assert_string_equal(files[1], "lib/kstrtox.h");
	free_files(files, n);
}

static void test_diff_files_refused(void **state)
{
	static const char *const bad[] = {
	    "--- a/x.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n",
	    "--- a/x.c\n+++ b/../etc/passwd\n",
	    "--- a/x.c\n+++ b/fs/../../x.c\n",
	    "--- a/x.c\n+++ b//etc/passwd\n",
	    "--- a/x.c\n+++ noslash.c\n",
	    "just text\n",
	    "",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char **files = NULL;
		int ret;
		size_t n = diff_files(bad[i], &files, &ret);

		assert_true(ret < 0);
		free_files(files, n);
	}
}

static void test_normalize(void **state)
{
	char a[] = "fs/bar/../../kernel/core.h", b[] = "./lib/./x.h", c[] = "a/b/c.h",
	     d[] = "../x.h";

	(void)state;
	kc_kpath_normalize(a);
	kc_kpath_normalize(b);
	kc_kpath_normalize(c);
	kc_kpath_normalize(d);
	assert_string_equal(a, "kernel/core.h");
	assert_string_equal(b, "lib/x.h");
	assert_string_equal(c, "a/b/c.h");
	assert_string_equal(d, "../x.h"); /* above the tree: kept */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_diff_files),
	    cmocka_unit_test(test_diff_files_refused),
	    cmocka_unit_test(test_normalize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
