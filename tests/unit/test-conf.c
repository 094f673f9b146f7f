// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The config file (kcare/conf.h): parsing (quotes, comments, export,
 * duplicates, bad lines, unknown keys, typed values), the getters and their
 * defaults, the in-place editor, and the atomic whole-file write and bounded
 * read it is built on. Every file lives in a fresh temp directory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "kcare/conf.h"

/* Warnings collected by the parser's callback. */
struct warns {
	unsigned n;
	unsigned line[16];
	char msg[16][512];
};

static void collect(void *ctx, unsigned line, const char *msg)
{
	struct warns *w = ctx;

	if (w->n < 16) {
		w->line[w->n] = line;
		snprintf(w->msg[w->n], sizeof(w->msg[0]), "%s", msg);
	}
	w->n++;
}

static struct kc_conf *parse(const char *text, struct warns *w)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_conf *c = NULL;

	assert_int_equal(kc_conf_parse(text, strlen(text), collect, w, &c, &err), 0);
	assert_non_null(c);
	return c;
}

static char *tmpdir(void)
{
	char tpl[] = "/tmp/kc-test-conf.XXXXXX";
	char *d = mkdtemp(tpl);

	assert_non_null(d);
	return strdup(d);
}

static void rmtree(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static char *slurp(const char *path)
{
	struct kc_err err = KC_ERR_INIT;
	char *buf;
	size_t len;

	assert_int_equal(kc_file_read_all(path, 1 << 20, &buf, &len, &err), 0);
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_conf__quoting(void **state)
{
	struct warns w = {0};
	struct kc_conf *c;

	(void)state;
	c = parse("PATCH_SERVER='http://a/b c'\n"
		  "REGISTRATION_URL=\"x\\\"y\\\\z\\$w\\`v\\n\"\n"
		  "PREFIX=\"with # hash\"\n"
		  "TAG='it''s'\n"
		  "MONITORING_KEY=\"\"\n"
		  "STICKY_PATCH=''\n",
		  &w);
	assert_string_equal(kc_conf_get(c, "PATCH_SERVER"), "http://a/b c");
	/* only \" \\ \$ \` are escapes; other backslashes stay */
	assert_string_equal(kc_conf_get(c, "REGISTRATION_URL"), "x\"y\\z$w`v\\n");
	assert_string_equal(kc_conf_get(c, "PREFIX"), "with # hash");
	assert_true(kc_conf_is_set(c, "MONITORING_KEY"));
	assert_string_equal(kc_conf_get(c, "MONITORING_KEY"), "");
	assert_string_equal(kc_conf_get(c, "STICKY_PATCH"), "");
	/* 'it''s' is two words glued together: refused, as shells would differ */
	assert_false(kc_conf_is_set(c, "TAG"));
	assert_int_equal(w.n, 1);
	assert_int_equal(w.line[0], 4);
	assert_non_null(strstr(w.msg[0], "TAG"));
	kc_conf_free(c);
}

static void test_conf__comments_and_blanks(void **state)
{
	struct warns w = {0};
	struct kc_conf *c;

	(void)state;
	c = parse("# a comment\n"
		  "\n"
		  "   \t\n"
		  "  # indented comment\n"
		  "PATCH_SERVER=http://x/  # trailing comment\n"
		  "PREFIX=a#b\n"
		  "TAG=  spaced value  \r\n"
		  "MONITORING_KEY='q' # after quote\n",
		  &w);
	assert_int_equal(w.n, 0);
	assert_string_equal(kc_conf_get(c, "PATCH_SERVER"), "http://x/");
	/* a # glued to the value is part of it, as in the shell */
	assert_string_equal(kc_conf_get(c, "PREFIX"), "a#b");
	assert_string_equal(kc_conf_get(c, "TAG"), "spaced value");
	assert_string_equal(kc_conf_get(c, "MONITORING_KEY"), "q");
	kc_conf_free(c);
}

static void test_conf__export_and_spaces(void **state)
{
	struct warns w = {0};
	struct kc_conf *c;

	(void)state;
	c = parse("export PATCH_SERVER=http://a\n"
		  "  export\tPREFIX = 12h\n"
		  "TAG =x\n"
		  "exportTAG=1\n",
		  &w);
	assert_string_equal(kc_conf_get(c, "PATCH_SERVER"), "http://a");
	assert_string_equal(kc_conf_get(c, "PREFIX"), "12h");
	assert_string_equal(kc_conf_get(c, "TAG"), "x");
	/* "exportTAG" is a key of its own, unknown */
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.msg[0], "exportTAG"));
	assert_string_equal(kc_conf_get(c, "exportTAG"), "1");
	kc_conf_free(c);
}

static void test_conf__duplicates_last_wins(void **state)
{
	struct warns w = {0};
	struct kc_conf *c;

	(void)state;
	c = parse("PREFIX=a\nTAG=t\nPREFIX=b\nPREFIX=c\n"
		  "AUTO_UPDATE_INTERVAL=7\nAUTO_UPDATE_INTERVAL=bad\n"
		  "LIBCARE_TIMEOUT=bad\nLIBCARE_TIMEOUT=9\n",
		  &w);
	assert_string_equal(kc_conf_get(c, "PREFIX"), "c");
	assert_string_equal(kc_conf_get(c, "TAG"), "t");
	/* a refused last value means the default, not the previous line */
	assert_string_equal(kc_conf_get(c, "AUTO_UPDATE_INTERVAL"), "4");
	assert_false(kc_conf_is_set(c, "AUTO_UPDATE_INTERVAL"));
	assert_string_equal(kc_conf_get(c, "LIBCARE_TIMEOUT"), "9");
	assert_int_equal(w.n, 2);
	kc_conf_free(c);
}

static void test_conf__bad_lines_warn(void **state)
{
	struct warns w = {0};
	struct kc_conf *c;

	(void)state;
	c = parse("PREFIX=ok\n"
		  "this is not an assignment\n"
		  "=value\n"
		  "1KEY=x\n"
		  "TAG=\"unterminated\n"
		  "PATCH_SERVER='x' y\n"
		  "MONITORING_KEY=fine\n",
		  &w);
	assert_int_equal(w.n, 5);
	assert_int_equal(w.line[0], 2);
	assert_int_equal(w.line[1], 3);
	assert_int_equal(w.line[2], 4);
	assert_int_equal(w.line[3], 5);
	assert_non_null(strstr(w.msg[3], "unterminated"));
	assert_int_equal(w.line[4], 6);
	assert_string_equal(kc_conf_get(c, "PREFIX"), "ok");
	assert_false(kc_conf_is_set(c, "TAG"));
	assert_false(kc_conf_is_set(c, "PATCH_SERVER"));
	assert_string_equal(kc_conf_get(c, "MONITORING_KEY"), "fine");
	kc_conf_free(c);
}

static void test_conf__unknown_keys_warn(void **state)
{
	struct warns w = {0};
	struct kc_conf *c;

	(void)state;
	c = parse("FOO_BAR=1\nPREFIX=x\n", &w);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.line[0], 1);
	assert_non_null(strstr(w.msg[0], "unknown key 'FOO_BAR'"));
	/* kept: a newer agent's key is not an error of the file */
	assert_true(kc_conf_is_set(c, "FOO_BAR"));
	assert_string_equal(kc_conf_get(c, "FOO_BAR"), "1");
	assert_null(kc_conf_get(c, "NOT_THERE"));
	assert_true(kc_conf_get_bool(c, "NOT_THERE", true));
	assert_false(kc_conf_get_bool(c, "NOT_THERE", false));
	assert_true(kc_conf_get_bool(c, "FOO_BAR", false));
	kc_conf_free(c);
}

static void test_conf__typed_values(void **state)
{
	struct warns w = {0};
	struct kc_conf *c;

	(void)state;
	c = parse("AUTO_UPDATE=maybe\n"
		  "PATCH_METHOD=Smart\n"
		  "UPDATE_POLICY=sometimes\n"
		  "AUTO_UPDATE_INTERVAL=12\n"
		  "LIBCARE_TIMEOUT=-3\n"
		  "FORCE_GID=\n"
		  "PATCH_TYPE=extra\n"
		  "CHECK_SSL_CERTS=99999999999\n",
		  &w);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.line[0], 1);
	assert_non_null(strstr(w.msg[0], "'maybe'"));
	assert_non_null(strstr(w.msg[0], "AUTO_UPDATE"));
	assert_non_null(strstr(w.msg[0], "boolean"));
	assert_int_equal(w.line[1], 3);
	assert_non_null(strstr(w.msg[1], "REMOTE|LOCAL|LOCAL_FIRST"));
	assert_int_equal(w.line[2], 5);
	assert_non_null(strstr(w.msg[2], "number"));
	assert_int_equal(w.line[3], 8);
	assert_true(kc_conf_get_bool(c, "AUTO_UPDATE", false));
	/* enums compare case-insensitively and are returned as written */
	assert_string_equal(kc_conf_get(c, "PATCH_METHOD"), "Smart");
	assert_string_equal(kc_conf_get(c, "UPDATE_POLICY"), "REMOTE");
	assert_string_equal(kc_conf_get(c, "AUTO_UPDATE_INTERVAL"), "12");
	assert_string_equal(kc_conf_get(c, "LIBCARE_TIMEOUT"), "5");
	assert_true(kc_conf_is_set(c, "FORCE_GID"));
	assert_string_equal(kc_conf_get(c, "FORCE_GID"), "");
	assert_string_equal(kc_conf_get(c, "PATCH_TYPE"), "extra");
	assert_true(kc_conf_get_bool(c, "CHECK_SSL_CERTS", false));
	kc_conf_free(c);

	memset(&w, 0, sizeof(w));
	c = parse("FORCE_GID=48\nAUTO_UPDATE_INTERVAL=\n", &w);
	assert_string_equal(kc_conf_get(c, "FORCE_GID"), "48");
	/* empty is no number where the default is one */
	assert_int_equal(w.n, 1);
	assert_string_equal(kc_conf_get(c, "AUTO_UPDATE_INTERVAL"), "4");
	kc_conf_free(c);
}

static void test_conf__bool_spellings(void **state)
{
	static const char *const yes[] = {"1", "yes", "YES", "True", "true", "on", "ON", "y", "Y"};
	static const char *const no[] = {"0", "no", "NO", "False", "false", "off", "Off", "n", "N"};
	char text[64];
	struct warns w = {0};
	struct kc_conf *c;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text), "REPORT_FQDN=%s\nAUTO_UPDATE=%s\n", yes[i], no[i]);
		c = parse(text, &w);
		assert_true(kc_conf_get_bool(c, "REPORT_FQDN", false));
		assert_false(kc_conf_get_bool(c, "AUTO_UPDATE", true));
		kc_conf_free(c);
	}
	assert_int_equal(w.n, 0);
}

static void test_conf__defaults(void **state)
{
	struct kc_conf *c = kc_conf_new_empty();
	size_t n = 0;

	(void)state;
	assert_non_null(c);
	assert_true(kc_conf_get_bool(c, "AUTO_UPDATE", false));
	assert_false(kc_conf_get_bool(c, "IGNORE_UNKNOWN_KERNEL", true));
	assert_true(kc_conf_get_bool(c, "LOAD_KCARE_SYSCTL", false));
	assert_false(kc_conf_get_bool(c, "REPORT_FQDN", true));
	assert_false(kc_conf_get_bool(c, "LIBCARE_DISABLED", true));
	assert_true(kc_conf_get_bool(c, "CHECK_SSL_CERTS", false));
	assert_string_equal(kc_conf_get(c, "PATCH_METHOD"), "normal");
	assert_string_equal(kc_conf_get(c, "UPDATE_POLICY"), "REMOTE");
	assert_string_equal(kc_conf_get(c, "PATCH_TYPE"), "default");
	assert_string_equal(kc_conf_get(c, "USERSPACE_PATCHES"), "libs,qemu,db");
	assert_string_equal(kc_conf_get(c, "AUTO_UPDATE_INTERVAL"), "4");
	assert_string_equal(kc_conf_get(c, "LIBCARE_TIMEOUT"), "5");
	assert_string_equal(kc_conf_get(c, "PATCH_SERVER"), "");
	assert_string_equal(kc_conf_get(c, "https_proxy"), "");
	assert_false(kc_conf_is_set(c, "AUTO_UPDATE"));
	/* a string key without default falls back */
	assert_true(kc_conf_get_bool(c, "TAG", true));
	for (const struct kc_conf_key *k = kc_conf_keys; k->name; k++, n++) {
		assert_non_null(k->def);
		assert_string_equal(kc_conf_get(c, k->name), k->def);
		assert_true(k->type != KC_CONF_ENUM || k->choices);
	}
	assert_int_equal(n, 23);
	kc_conf_free(c);
	kc_conf_free(NULL);
}

static void test_conf__parse_limits(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_conf *c = NULL;
	char *big;

	(void)state;
	assert_int_equal(kc_conf_parse("A=1\0B=2", 7, NULL, NULL, &c, &err), -EBADMSG);
	assert_null(c);
	big = calloc(1, KC_CONF_MAX_BYTES + 1);
	assert_non_null(big);
	memset(big, '\n', KC_CONF_MAX_BYTES + 1);
	assert_int_equal(kc_conf_parse(big, KC_CONF_MAX_BYTES + 1, NULL, NULL, &c, &err), -EFBIG);
	assert_int_equal(kc_conf_parse(big, KC_CONF_MAX_BYTES, NULL, NULL, &c, &err), 0);
	kc_conf_free(c);
	free(big);
	assert_int_equal(kc_conf_parse(NULL, 0, NULL, NULL, &c, &err), 0);
	assert_string_equal(kc_conf_get(c, "PATCH_TYPE"), "default");
	kc_conf_free(c);
	/* no final newline, no warn callback */
	assert_int_equal(kc_conf_parse("PREFIX=z", 8, NULL, NULL, &c, &err), 0);
	assert_string_equal(kc_conf_get(c, "PREFIX"), "z");
	kc_conf_free(c);
}

static void test_conf__load(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct warns w = {0};
	struct kc_conf *c = NULL;
	char *d = tmpdir(), path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.conf", d);
	assert_int_equal(kc_conf_load(path, collect, &w, &c, &err), 0);
	assert_string_equal(kc_conf_get(c, "PATCH_METHOD"), "normal");
	kc_conf_free(c);
	snprintf(path, sizeof(path), "%s/kcare.conf", d);
	spit(path, "AUTO_UPDATE=NO\nBOGUS=1\n");
	assert_int_equal(kc_conf_load(path, collect, &w, &c, &err), 0);
	assert_false(kc_conf_get_bool(c, "AUTO_UPDATE", true));
	assert_int_equal(w.n, 1);
	kc_conf_free(c);
	spit(path, "A=");
	assert_int_equal(truncate(path, 3), 0);
	assert_int_equal(kc_conf_load(path, NULL, NULL, &c, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, path));
	rmtree(d);
	free(d);
}

static void test_conf__set_file_keeps_other_lines(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char *d = tmpdir(), path[512], *s;

	(void)state;
	snprintf(path, sizeof(path), "%s/kcare.conf", d);
	spit(path, "# header  \r\n"
		   "AUTO_UPDATE=True\n"
		   "export  PATCH_TYPE = 'free'   # mine\n"
		   "UNKNOWN_THING=\"keep  me\"\n"
		   "not a line at all\n"
		   "PATCH_TYPE=default\n"
		   "\n"
		   "PATCH_TYPE_X=1\n"
		   "TAG=last-no-newline");
	assert_int_equal(kc_conf_set_file(path, "PATCH_TYPE", "extra", &err), 0);
	s = slurp(path);
	/* first line replaced in place, the later duplicate dropped */
	assert_string_equal(s, "# header  \r\n"
			       "AUTO_UPDATE=True\n"
			       "PATCH_TYPE=extra\n"
			       "UNKNOWN_THING=\"keep  me\"\n"
			       "not a line at all\n"
			       "\n"
			       "PATCH_TYPE_X=1\n"
			       "TAG=last-no-newline");
	free(s);

	/* appended, after a newline added to the unterminated last line */
	assert_int_equal(kc_conf_set_file(path, "STICKY_PATCH", "KEY with \"q\" $x", &err), 0);
	s = slurp(path);
	assert_non_null(
	    strstr(s, "TAG=last-no-newline\nSTICKY_PATCH=\"KEY with \\\"q\\\" \\$x\"\n"));
	free(s);

	/* what was written reads back as itself */
	struct kc_conf *c = NULL;
	struct warns w = {0};
	assert_int_equal(kc_conf_load(path, collect, &w, &c, &err), 0);
	assert_string_equal(kc_conf_get(c, "STICKY_PATCH"), "KEY with \"q\" $x");
	assert_string_equal(kc_conf_get(c, "PATCH_TYPE"), "extra");
	kc_conf_free(c);

	/* removal drops every line of the key and nothing else */
	assert_int_equal(kc_conf_set_file(path, "PATCH_TYPE", NULL, &err), 0);
	assert_int_equal(kc_conf_set_file(path, "STICKY_PATCH", NULL, &err), 0);
	s = slurp(path);
	assert_string_equal(s, "# header  \r\n"
			       "AUTO_UPDATE=True\n"
			       "UNKNOWN_THING=\"keep  me\"\n"
			       "not a line at all\n"
			       "\n"
			       "PATCH_TYPE_X=1\n"
			       "TAG=last-no-newline\n");
	free(s);
	rmtree(d);
	free(d);
}

static void test_conf__set_file_creates_dir(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char *d = tmpdir(), path[512], *s;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/etc/sysconfig/kcare/kcare.conf", d);
	assert_int_equal(kc_conf_set_file(path, "PREFIX", "test", &err), 0);
	s = slurp(path);
	assert_string_equal(s, "PREFIX=test\n");
	free(s);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* an existing file keeps its mode */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(kc_conf_set_file(path, "PREFIX", "", &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	s = slurp(path);
	assert_string_equal(s, "PREFIX=\n");
	free(s);
	rmtree(d);
	free(d);
}

static void test_conf__set_file_rejects_bad_input(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char *d = tmpdir(), path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/kcare.conf", d);
	assert_int_equal(kc_conf_set_file(path, "1BAD", "x", &err), -EINVAL);
	assert_int_equal(kc_conf_set_file(path, "BAD-KEY", "x", &err), -EINVAL);
	assert_int_equal(kc_conf_set_file(path, "", "x", &err), -EINVAL);
	assert_int_equal(kc_conf_set_file(path, "TAG", "a\nb", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "newline"));
	assert_int_equal(access(path, F_OK), -1);
	rmtree(d);
	free(d);
}

static unsigned count_entries(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(dh);
	while ((de = readdir(dh)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(dh);
	return n;
}

static void test_conf__write_atomic_leaves_no_temp(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char *d = tmpdir(), path[512], sub[512], *s;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/state", d);
	for (int i = 0; i < 3; i++) {
		char data[32];
		snprintf(data, sizeof(data), "round %d\n", i);
		assert_int_equal(kc_file_write_atomic(path, data, strlen(data), 0600, &err), 0);
		s = slurp(path);
		assert_string_equal(s, data);
		free(s);
	}
	assert_int_equal(count_entries(d), 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(kc_file_write_atomic(path, NULL, 0, 0644, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);

	/* a failed write (the target is a directory) cleans up its temp file */
	snprintf(sub, sizeof(sub), "%s/dir", d);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(path, sizeof(path), "%s/dir/inner", d);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/dir/inner/x", d);
	spit(sub, "x");
	snprintf(sub, sizeof(sub), "%s/dir", d);
	assert_true(kc_file_write_atomic(path, "y", 1, 0644, &err) < 0);
	assert_int_equal(count_entries(sub), 1);

	snprintf(path, sizeof(path), "%s/a/b/c/file", d);
	assert_int_equal(kc_file_write_atomic(path, "z", 1, 0644, &err), 0);
	snprintf(sub, sizeof(sub), "%s/a/b", d);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	rmtree(d);
	free(d);
}

static void test_conf__read_all_limits(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char *d = tmpdir(), path[512], *buf = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/f", d);
	assert_int_equal(kc_file_read_all(path, 10, &buf, &len, &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
	spit(path, "0123456789");
	assert_int_equal(kc_file_read_all(path, 10, &buf, &len, &err), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	assert_int_equal(kc_file_read_all(path, 9, &buf, &len, &err), -EFBIG);
	assert_null(buf);
	/* /proc files say size 0: read to the end anyway */
	assert_int_equal(kc_file_read_all("/proc/self/status", 1 << 20, &buf, &len, &err), 0);
	assert_true(len > 0);
	assert_int_equal(strlen(buf), len);
	free(buf);
	assert_int_equal(kc_file_read_all("/proc/self/status", 8, &buf, &len, &err), -EFBIG);
	assert_int_equal(kc_file_read_all(d, 8, &buf, &len, &err), -EISDIR);
	rmtree(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conf__quoting),
	    cmocka_unit_test(test_conf__comments_and_blanks),
	    cmocka_unit_test(test_conf__export_and_spaces),
	    cmocka_unit_test(test_conf__duplicates_last_wins),
	    cmocka_unit_test(test_conf__bad_lines_warn),
	    cmocka_unit_test(test_conf__unknown_keys_warn),
	    cmocka_unit_test(test_conf__typed_values),
	    cmocka_unit_test(test_conf__bool_spellings),
	    cmocka_unit_test(test_conf__defaults),
	    cmocka_unit_test(test_conf__parse_limits),
	    cmocka_unit_test(test_conf__load),
	    cmocka_unit_test(test_conf__set_file_keeps_other_lines),
	    cmocka_unit_test(test_conf__set_file_creates_dir),
	    cmocka_unit_test(test_conf__set_file_rejects_bad_input),
	    cmocka_unit_test(test_conf__write_atomic_leaves_no_temp),
	    cmocka_unit_test(test_conf__read_all_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
