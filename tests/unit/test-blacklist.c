// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The process blacklist (src/lib/blacklist.c): each rule type, the file
 * syntax (blanks, comments), errors with line numbers, the limits, and the
 * choice between the packaged and the admin's file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "kcare/blacklist.h"

static struct kc_blacklist *parse_ok(const char *text)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = NULL;

	if (kc_blacklist_parse(text, strlen(text), &b, &err) != 0)
		fail_msg("parse failed: %s", err.msg);
	assert_non_null(b);
	return b;
}

static void parse_fails(const char *text, int code, const char *msg)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = (struct kc_blacklist *)1;

	assert_int_equal(kc_blacklist_parse(text, strlen(text), &b, &err), code);
	assert_null(b);
	assert_int_equal(err.code, code);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' lacks '%s'", err.msg, msg);
}

static void test_blacklist__path_glob_covers_subdirectories(void **state)
{
	struct kc_blacklist *b = parse_ok("path:/opt/Symantec/*\n");

	(void)state;
	assert_int_equal(kc_blacklist_count(b), 1);
	assert_string_equal(kc_blacklist_match(b, "/opt/Symantec/rtvscand"),
			    "path:/opt/Symantec/*");
	assert_non_null(kc_blacklist_match(b, "/opt/Symantec/bin/x/symcfgd"));
	assert_null(kc_blacklist_match(b, "/opt/SymantecX/rtvscand"));
	assert_null(kc_blacklist_match(b, "/usr/opt/Symantec/x"));
	kc_blacklist_free(b);
}

static void test_blacklist__path_is_whole_path(void **state)
{
	struct kc_blacklist *b = parse_ok("path:/usr/libexec/docker/docker-*\npath:/bin/[ab]sh\n");

	(void)state;
	assert_non_null(kc_blacklist_match(b, "/usr/libexec/docker/docker-proxy"));
	assert_null(kc_blacklist_match(b, "/usr/libexec/docker/containerd"));
	assert_string_equal(kc_blacklist_match(b, "/bin/bsh"), "path:/bin/[ab]sh");
	assert_null(kc_blacklist_match(b, "/bin/csh"));
	assert_null(kc_blacklist_match(b, "/bin/ash2"));
	kc_blacklist_free(b);
}

static void test_blacklist__filename_matches_last_component(void **state)
{
	struct kc_blacklist *b = parse_ok("filename:docker*\nfilename:smcd\n");

	(void)state;
	assert_string_equal(kc_blacklist_match(b, "/usr/bin/dockerd"), "filename:docker*");
	assert_string_equal(kc_blacklist_match(b, "/any/where/smcd"), "filename:smcd");
	assert_string_equal(kc_blacklist_match(b, "smcd"), "filename:smcd");
	assert_null(kc_blacklist_match(b, "/docker/bin/runc"));
	assert_null(kc_blacklist_match(b, "/usr/sbin/smcd2"));
	kc_blacklist_free(b);
}

static void test_blacklist__regex_is_extended_and_unanchored(void **state)
{
	struct kc_blacklist *b = parse_ok("regex:/usr/bin/[[:alnum:]]+$\nregex:^/srv/(a|b)/run$\n");

	(void)state;
	assert_string_equal(kc_blacklist_match(b, "/usr/bin/vim"), "regex:/usr/bin/[[:alnum:]]+$");
	/* unanchored at the start: a prefix before the match is fine */
	assert_non_null(kc_blacklist_match(b, "/chroot/usr/bin/vim"));
	assert_null(kc_blacklist_match(b, "/usr/bin/vim.basic"));
	assert_string_equal(kc_blacklist_match(b, "/srv/b/run"), "regex:^/srv/(a|b)/run$");
	assert_null(kc_blacklist_match(b, "/srv/c/run"));
	kc_blacklist_free(b);
}

static void test_blacklist__blanks_comments_and_empty_lines(void **state)
{
	struct kc_blacklist *b = parse_ok("# Symantec\n"
					  "\n"
					  "   \t\n"
					  "  # indented comment\n"
					  " path : /opt/Symantec/*  \r\n"
					  "\tfilename:\trtvscand\t\n"
					  "regex :^/x$");

	(void)state;
	assert_int_equal(kc_blacklist_count(b), 3);
	/* rules come back without the blanks around the colon */
	assert_string_equal(kc_blacklist_match(b, "/opt/Symantec/a"), "path:/opt/Symantec/*");
	assert_string_equal(kc_blacklist_match(b, "/bin/rtvscand"), "filename:rtvscand");
	assert_string_equal(kc_blacklist_match(b, "/x"), "regex:^/x$");
	assert_null(kc_blacklist_match(b, "/bin/sh"));
	kc_blacklist_free(b);
}

static void test_blacklist__first_matching_rule_wins(void **state)
{
	struct kc_blacklist *b = parse_ok("filename:a*\npath:/bin/*\n");

	(void)state;
	assert_string_equal(kc_blacklist_match(b, "/bin/abc"), "filename:a*");
	assert_string_equal(kc_blacklist_match(b, "/bin/xyz"), "path:/bin/*");
	kc_blacklist_free(b);
}

static void test_blacklist__empty_text_is_empty_list(void **state)
{
	struct kc_blacklist *b = parse_ok("");

	(void)state;
	assert_int_equal(kc_blacklist_count(b), 0);
	assert_null(kc_blacklist_match(b, "/bin/sh"));
	kc_blacklist_free(b);
	b = parse_ok("# only\n\n# comments\n");
	assert_int_equal(kc_blacklist_count(b), 0);
	kc_blacklist_free(b);
	b = kc_blacklist_new_empty();
	assert_int_equal(kc_blacklist_count(b), 0);
	assert_null(kc_blacklist_match(b, "/bin/sh"));
	assert_null(kc_blacklist_match(NULL, "/bin/sh"));
	kc_blacklist_free(b);
	kc_blacklist_free(NULL);
}

static void test_blacklist__errors_name_the_line(void **state)
{
	(void)state;
	parse_fails("# c\n\npaht:/x\n", -EBADMSG, "line 3: unknown rule type 'paht'");
	parse_fails("filename:a\n/usr/bin/x\n", -EBADMSG, "line 2: no ':' in rule '/usr/bin/x'");
	parse_fails("path:   \n", -EBADMSG, "line 1: empty pattern in 'path' rule");
	parse_fails("\n\n\n\nregex:([a\n", -EBADMSG, "line 5: bad regex '([a'");
	parse_fails(":/x\n", -EBADMSG, "line 1: unknown rule type ''");
	/* the type is case-sensitive: a surprise match would be worse than an error */
	parse_fails("PATH:/x\n", -EBADMSG, "unknown rule type 'PATH'");
	/* a comment is a whole line only */
	parse_fails("filename:a\nx # y\n", -EBADMSG, "line 2: no ':'");
}

static void test_blacklist__regex_blowup_refused(void **state)
{
	struct kc_blacklist *b;

	(void)state;
	/* glibc would expand these into gigabytes before giving up */
	parse_fails("regex:pt^px ++++++++++++++++++++++++++++c\n", -EBADMSG,
		    "line 1: regex 'pt^px +++");
	parse_fails("regex:((a{99}){99}){99}\n", -EBADMSG, "is too complex");
	/* short, but glibc's closures over the chain take seconds (found by fuzz-blacklist) */
	parse_fails("regex:^/????+++++++++++++++++\n", -EBADMSG, "is too complex");
	parse_fails("regex:a+*\n", -EBADMSG, "is too complex");
	parse_fails("regex:a?{2}\n", -EBADMSG, "is too complex");
	parse_fails("regex:(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))\n",
		    -EBADMSG, "is too complex");
	/* ordinary rules stay well below the bound */
	b = parse_ok("regex:^/usr/(s)?bin/[[:alnum:]_.-]{1,64}$\n"
		     "regex:^/opt/(a|b|c)+/[^/]*(\\.bin)?$\n"
		     "regex:[]{}()+*]{2,3}x\n"
		     "regex:^(/usr(/local)?)+/lib(64)*/x$\n");
	assert_non_null(kc_blacklist_match(b, "/usr/sbin/sshd"));
	assert_non_null(kc_blacklist_match(b, "/opt/abca/x.bin"));
	assert_non_null(kc_blacklist_match(b, "/{}x"));
	assert_non_null(kc_blacklist_match(b, "/usr/local/usr/lib6464/x"));
	kc_blacklist_free(b);
}

static void test_blacklist__nul_byte_is_an_error(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = NULL;
	static const char text[] = "filename:a\nfilename:b\0c\n";

	(void)state;
	assert_int_equal(kc_blacklist_parse(text, sizeof(text) - 1, &b, &err), -EBADMSG);
	assert_null(b);
	assert_string_equal(err.msg, "line 2: NUL byte in rule");
}

static void test_blacklist__text_need_not_be_terminated(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = NULL;
	char *text = malloc(10);

	(void)state;
	memcpy(text, "filename:x", 10); /* no NUL: ASan catches a read past the end */
	assert_int_equal(kc_blacklist_parse(text, 10, &b, &err), 0);
	assert_string_equal(kc_blacklist_match(b, "/bin/x"), "filename:x");
	kc_blacklist_free(b);
	free(text);
}

static void test_blacklist__limits(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = NULL;
	size_t cap = (KC_BLACKLIST_MAX_RULES + 1) * 16, n = 0;
	char *text = malloc(KC_BLACKLIST_MAX_BYTES + 2);

	(void)state;
	assert_non_null(text);
	for (unsigned i = 0; i < KC_BLACKLIST_MAX_RULES; i++)
		n += (size_t)snprintf(text + n, cap - n, "filename:f%u\n", i);
	assert_int_equal(kc_blacklist_parse(text, n, &b, &err), 0);
	assert_int_equal(kc_blacklist_count(b), KC_BLACKLIST_MAX_RULES);
	assert_non_null(kc_blacklist_match(b, "/x/f4095"));
	kc_blacklist_free(b);

	n += (size_t)snprintf(text + n, cap - n, "filename:one-too-many\n");
	assert_int_equal(kc_blacklist_parse(text, n, &b, &err), -EFBIG);
	assert_null(b);
	assert_non_null(strstr(err.msg, "line 4097: more than 4096 rules"));

	/* bytes: comments only, so that only the size limit can refuse it */
	memset(text, '#', KC_BLACKLIST_MAX_BYTES + 1);
	assert_int_equal(kc_blacklist_parse(text, KC_BLACKLIST_MAX_BYTES, &b, &err), 0);
	assert_int_equal(kc_blacklist_count(b), 0);
	kc_blacklist_free(b);
	assert_int_equal(kc_blacklist_parse(text, KC_BLACKLIST_MAX_BYTES + 1, &b, &err), -EFBIG);
	assert_null(b);
	free(text);
}

/* --- loading from files ------------------------------------------------ */

struct files {
	char dir[64];
	char pkg[128];
	char user[128];
};

static int files_setup(void **state)
{
	struct files *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kc-test-blacklist.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->pkg, sizeof(f->pkg), "%s/packaged", f->dir);
	snprintf(f->user, sizeof(f->user), "%s/override", f->dir);
	*state = f;
	return 0;
}

static int files_teardown(void **state)
{
	struct files *f = *state;

	unlink(f->pkg);
	rmdir(f->pkg); /* one test makes it a directory */
	unlink(f->user);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void test_blacklist__load_neither_file_is_empty(void **state)
{
	struct files *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = NULL;
	const char *src = "x";

	assert_int_equal(kc_blacklist_load(f->pkg, f->user, &b, &src, &err), 0);
	assert_null(src);
	assert_int_equal(kc_blacklist_count(b), 0);
	kc_blacklist_free(b);
	assert_int_equal(kc_blacklist_load(NULL, NULL, &b, NULL, &err), 0);
	assert_int_equal(kc_blacklist_count(b), 0);
	kc_blacklist_free(b);
}

static void test_blacklist__load_packaged_then_override_replaces(void **state)
{
	struct files *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = NULL;
	const char *src = NULL;

	put(f->pkg, "filename:falcon-sensor\nfilename:smcd\n");
	assert_int_equal(kc_blacklist_load(f->pkg, f->user, &b, &src, &err), 0);
	assert_ptr_equal(src, f->pkg);
	assert_int_equal(kc_blacklist_count(b), 2);
	assert_non_null(kc_blacklist_match(b, "/opt/x/smcd"));
	kc_blacklist_free(b);

	/* the admin's file replaces the packaged one as a whole, it does not add to it */
	put(f->user, "path:/srv/app/*\n");
	assert_int_equal(kc_blacklist_load(f->pkg, f->user, &b, &src, &err), 0);
	assert_ptr_equal(src, f->user);
	assert_int_equal(kc_blacklist_count(b), 1);
	assert_null(kc_blacklist_match(b, "/opt/x/smcd"));
	assert_non_null(kc_blacklist_match(b, "/srv/app/bin/run"));
	kc_blacklist_free(b);

	/* an empty override is how an admin turns the default list off */
	put(f->user, "# nothing blacklisted here\n");
	assert_int_equal(kc_blacklist_load(f->pkg, f->user, &b, &src, &err), 0);
	assert_ptr_equal(src, f->user);
	assert_int_equal(kc_blacklist_count(b), 0);
	kc_blacklist_free(b);
}

static void test_blacklist__load_errors_name_the_file(void **state)
{
	struct files *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = (struct kc_blacklist *)1;
	const char *src = "x";
	char want[256];

	put(f->pkg, "filename:ok\n");
	put(f->user, "filename:ok\nregex:[\n");
	assert_int_equal(kc_blacklist_load(f->pkg, f->user, &b, &src, &err), -EBADMSG);
	assert_null(b);
	assert_null(src);
	snprintf(want, sizeof(want), "blacklist '%s': line 2: bad regex '['", f->user);
	if (strncmp(err.msg, want, strlen(want)))
		fail_msg("message '%s', expected '%s...'", err.msg, want);

	/* a broken override does not fall back to the packaged list */
	unlink(f->user);
	unlink(f->pkg);
	assert_int_equal(mkdir(f->pkg, 0700), 0);
	kc_err_clear(&err);
	assert_int_equal(kc_blacklist_load(f->pkg, f->user, &b, NULL, &err), -EINVAL);
	snprintf(want, sizeof(want), "'%s' is not a regular file", f->pkg);
	assert_string_equal(err.msg, want);
}

static void test_blacklist__load_refuses_oversized_file(void **state)
{
	struct files *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = NULL;
	FILE *fp = fopen(f->user, "w");

	assert_non_null(fp);
	for (unsigned i = 0; i <= KC_BLACKLIST_MAX_BYTES / 16; i++)
		fputs("# 16 bytes line\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(kc_blacklist_load(f->pkg, f->user, &b, NULL, &err), -EFBIG);
	assert_null(b);
	assert_non_null(strstr(err.msg, "over the limit"));
}

/* The list the package installs parses and covers what its comments say. */
static void test_blacklist__packaged_default_parses(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = NULL;
	const char *top = getenv("KC_TOP");
	char path[512];

	(void)state;
	if (!top)
		skip();
	snprintf(path, sizeof(path), "%s/packaging/libcare/blacklist", top);
	if (kc_blacklist_load(path, NULL, &b, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(kc_blacklist_count(b) > 10);
	assert_non_null(kc_blacklist_match(b, "/opt/CrowdStrike/falcond"));
	assert_non_null(kc_blacklist_match(b, "/opt/Symantec/sub/dir/bin"));
	assert_non_null(kc_blacklist_match(b, "/usr/sbin/auditd"));
	assert_null(kc_blacklist_match(b, "/usr/sbin/nginx"));
	assert_null(kc_blacklist_match(b, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	kc_blacklist_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_blacklist__path_glob_covers_subdirectories),
	    cmocka_unit_test(test_blacklist__path_is_whole_path),
	    cmocka_unit_test(test_blacklist__filename_matches_last_component),
	    cmocka_unit_test(test_blacklist__regex_is_extended_and_unanchored),
	    cmocka_unit_test(test_blacklist__blanks_comments_and_empty_lines),
	    cmocka_unit_test(test_blacklist__first_matching_rule_wins),
	    cmocka_unit_test(test_blacklist__empty_text_is_empty_list),
	    cmocka_unit_test(test_blacklist__errors_name_the_line),
	    cmocka_unit_test(test_blacklist__regex_blowup_refused),
	    cmocka_unit_test(test_blacklist__nul_byte_is_an_error),
	    cmocka_unit_test(test_blacklist__text_need_not_be_terminated),
	    cmocka_unit_test(test_blacklist__limits),
	    cmocka_unit_test(test_blacklist__packaged_default_parses),
	    cmocka_unit_test_setup_teardown(test_blacklist__load_neither_file_is_empty, files_setup,
					    files_teardown),
	    cmocka_unit_test_setup_teardown(test_blacklist__load_packaged_then_override_replaces,
					    files_setup, files_teardown),
	    cmocka_unit_test_setup_teardown(test_blacklist__load_errors_name_the_file, files_setup,
					    files_teardown),
	    cmocka_unit_test_setup_teardown(test_blacklist__load_refuses_oversized_file,
					    files_setup, files_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
