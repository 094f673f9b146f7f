// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the kcare-build deb stages that need neither apt nor the
 * network: versions, deb-src derivation, the identity check of a rebuilt
 * object (on copies of this test's own executable), the cache manifest,
 * recipes and the command runner.
 */
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "build/deb-int.h"

static char tmpdir[] = "/tmp/kc-test-deb.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return kc_deb_rmtree(tmpdir, NULL);
}

static void test_deb__upstream_version(void **state)
{
	char buf[64];

	(void)state;
	kc_deb_upstream_version("1:1.2.13.dfsg-1", buf, sizeof(buf));
	assert_string_equal(buf, "1.2.13.dfsg");
	kc_deb_upstream_version("3.0.20-1~deb12u2", buf, sizeof(buf));
	assert_string_equal(buf, "3.0.20");
	kc_deb_upstream_version("2.36-9+deb12u14", buf, sizeof(buf));
	assert_string_equal(buf, "2.36");
	kc_deb_upstream_version("5", buf, sizeof(buf));
	assert_string_equal(buf, "5");
	kc_deb_upstream_version("1.0-2-3", buf, sizeof(buf));
	assert_string_equal(buf, "1.0-2");
}

static const char debian_sources[] =
    "Types: deb\n"
    "# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
    "URIs: http://deb.debian.org/debian\n"
    "Suites: bookworm bookworm-updates\n"
    "Components: main\n"
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    "\n"
    "Types: deb\n"
    "URIs: http://deb.debian.org/debian-security\n"
    "Suites: bookworm-security\n"
    "Components: main\n"
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";

static void test_deb__src_derive_deb822(void **state)
{
	struct kc_deb_aptfile f[] = {
	    {"debian.sources", debian_sources, 1},
	    {"node.sources",
	     "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n"
	     "Components: main\n",
	     1},
	};
	char *out = NULL;

	(void)state;
	assert_int_equal(kc_deb_src_derive(f, 2, "bookworm", &out, NULL), 0);
	assert_string_equal(out, "Types: deb-src\n"
				 "URIs: http://deb.debian.org/debian\n"
				 "Suites: bookworm bookworm-updates\n"
				 "Components: main\n"
				 "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
				 "\n"
				 "Types: deb-src\n"
				 "URIs: http://deb.debian.org/debian-security\n"
				 "Suites: bookworm-security\n"
				 "Components: main\n"
				 "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n");
	free(out);
}

static void test_deb__src_derive_oneline(void **state)
{
	struct kc_deb_aptfile f[] = {
	    {"sources.list",
	     "# comment\n"
	     "deb [arch=amd64 signed-by=/k.gpg] http://deb.debian.org/debian/ bookworm main "
	     "contrib\n"
	     "deb http://security.debian.org/debian-security bookworm-security main # x\n"
	     "deb http://deb.debian.org/debian trixie main\n"
	     "deb-src http://security.debian.org/debian-security bookworm-security main\n",
	     0},
	};
	char *out = NULL;

	(void)state;
	assert_int_equal(kc_deb_src_derive(f, 1, "bookworm", &out, NULL), 0);
	assert_string_equal(out, "Types: deb-src\n"
				 "URIs: http://deb.debian.org/debian\n"
				 "Suites: bookworm\n"
				 "Components: main contrib\n"
				 "Architectures: amd64\n"
				 "Signed-By: /k.gpg\n");
	free(out);
}

static void test_deb__src_derive_covered(void **state)
{
	struct kc_deb_aptfile f[] = {
	    {"debian.sources", debian_sources, 1},
	    {"kcare-build-src.sources",
	     "Types: deb-src\nURIs: http://deb.debian.org/debian/\nSuites: bookworm "
	     "bookworm-updates\nComponents: main\n\n"
	     "Types: deb-src\nURIs: http://deb.debian.org/debian-security\n"
	     "Suites: bookworm-security\nComponents: main\n",
	     1},
	    {"disabled.sources",
	     "Types: deb deb-src\nURIs: http://x/\nSuites: bookworm\nEnabled: no\n", 1},
	};
	char *out = NULL;

	(void)state;
	assert_int_equal(kc_deb_src_derive(f, 3, "bookworm", &out, NULL), 0);
	assert_string_equal(out, "");
	free(out);
}

/* Copies /proc/self/exe to @name in tmpdir; returns the path (static buffer per call site). */
static void copy_self(const char *path)
{
	char buf[65536];
	ssize_t n;
	int in = open("/proc/self/exe", O_RDONLY), out;

	assert_true(in >= 0);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

/* The file offset of section @name of @path. */
static off_t section_offset(const char *path, const char *name)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	size_t shstrndx;
	GElf_Shdr sh;
	off_t off = -1;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	for (Elf_Scn *s = NULL; (s = elf_nextscn(e, s)) != NULL;)
		if (gelf_getshdr(s, &sh) && !strcmp(elf_strptr(e, shstrndx, sh.sh_name), name))
			off = (off_t)sh.sh_offset;
	elf_end(e);
	close(fd);
	assert_true(off > 0);
	return off;
}

static void flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x5a;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void test_deb__ident_check(void **state)
{
	char a[256], b[256];
	enum kc_deb_match how = 0;
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	snprintf(a, sizeof(a), "%s/installed.so", tmpdir);
	snprintf(b, sizeof(b), "%s/rebuilt.so", tmpdir);
	copy_self(a);
	copy_self(b);
	assert_int_equal(kc_deb_ident_check(a, b, &how, &err), 0);
	assert_int_equal(how, KC_DEB_SAME_BUILDID);
	/* another build-id (16 bytes into the note: after its header and "GNU") */
	flip_byte(b, section_offset(b, ".note.gnu.build-id") + 16);
	assert_int_equal(kc_deb_ident_check(a, b, &how, &err), 0);
	assert_int_equal(how, KC_DEB_SAME_SECTIONS);
	/* and other code */
	flip_byte(b, section_offset(b, ".text") + 3);
	assert_int_equal(kc_deb_ident_check(a, b, &how, &err), -ESRCH);
	assert_non_null(strstr(err.msg, "section '.text' differs at offset 0x3"));
	assert_non_null(strstr(err.msg, "is not the installed"));
	kc_err_clear(&err);
	assert_int_equal(kc_deb_ident_check(a, "/etc/os-release", &how, &err), -ENOEXEC);
}

static void test_deb__ident_find(void **state)
{
	char inst[256], tree[256], p[512], *found = NULL;
	enum kc_deb_match how = 0;
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	snprintf(inst, sizeof(inst), "%s/libx.so.1", tmpdir);
	copy_self(inst);
	snprintf(tree, sizeof(tree), "%s/tree", tmpdir);
	assert_int_equal(kc_deb_ident_find(inst, tree, &found, &how, &err), -ENOENT);
	assert_int_equal(mkdir(tree, 0755), 0);
	snprintf(p, sizeof(p), "%s/a", tree);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/b", tree);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(kc_deb_ident_find(inst, tree, &found, &how, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "made no unstripped 'libx.so.1'"));
	/* a different one only: refused */
	snprintf(p, sizeof(p), "%s/a/libx.so.1", tree);
	copy_self(p);
	/* (an equal build-id would vouch for it: another one, and other code) */
	flip_byte(p, section_offset(p, ".note.gnu.build-id") + 16);
	flip_byte(p, section_offset(p, ".text"));
	kc_err_clear(&err);
	assert_int_equal(kc_deb_ident_find(inst, tree, &found, &how, &err), -ESRCH);
	assert_non_null(strstr(err.msg, "'.text'"));
	/* plus the identical one: found */
	snprintf(p, sizeof(p), "%s/b/libx.so.1", tree);
	copy_self(p);
	assert_int_equal(kc_deb_ident_find(inst, tree, &found, &how, &err), 0);
	assert_string_equal(found, p);
	assert_int_equal(how, KC_DEB_SAME_BUILDID);
	free(found);
}

static void test_deb__cache_manifest(void **state)
{
	char root[256], inst[256], reb[256], *path;
	struct kc_deb_cache c;
	struct kc_deb_obj o = {0};
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	snprintf(root, sizeof(root), "%s/cache", tmpdir);
	snprintf(inst, sizeof(inst), "%s/libc1.so", tmpdir);
	snprintf(reb, sizeof(reb), "%s/libc1-rebuilt.so", tmpdir);
	copy_self(inst);
	copy_self(reb);
	assert_int_equal(kc_deb_cache_open(root, "zlib", "1:1.2.13.dfsg-1", &c, &err), 0);
	assert_non_null(strstr(c.dir, "/cache/zlib/1_1.2.13.dfsg-1"));
	assert_null(c.mode);
	assert_int_equal(c.nobjs, 0);
	o.installed = inst;
	o.rebuilt = reb;
	o.how = KC_DEB_SAME_SECTIONS;
	assert_int_equal(kc_buildid_from_file(inst, &o.id, NULL), 0);
	assert_int_equal(kc_deb_cache_commit(&c, "libs-only", &o, 1, &err), 0);
	assert_int_equal(c.nobjs, 1);
	kc_deb_cache_close(&c);

	assert_int_equal(kc_deb_cache_open(root, "zlib", "1:1.2.13.dfsg-1", &c, &err), 0);
	assert_string_equal(c.mode, "libs-only");
	assert_int_equal(c.nobjs, 1);
	assert_string_equal(c.objs[0].installed, inst);
	assert_string_equal(c.objs[0].rebuilt, reb);
	assert_int_equal(c.objs[0].how, KC_DEB_SAME_SECTIONS);
	assert_true(kc_buildid_equal(&c.objs[0].id, &o.id));
	/* a truncated manifest is no cache */
	path = kc_deb_cache_path(&c, "manifest");
	assert_int_equal(truncate(path, 30), 0);
	kc_deb_cache_close(&c);
	assert_int_equal(kc_deb_cache_open(root, "zlib", "1:1.2.13.dfsg-1", &c, &err), 0);
	assert_null(c.mode);
	assert_int_equal(kc_deb_cache_reset(&c, &err), 0);
	assert_int_equal(access(path, F_OK), -1);
	free(path);
	kc_deb_cache_close(&c);
	assert_int_equal(kc_deb_cache_open(root, "../x", "1", &c, &err), -EINVAL);
	kc_deb_cache_close(&c);
}

static void test_deb__recipes(void **state)
{
	const struct kc_deb_recipe *r;
	char *cmd;

	(void)state;
	r = kc_deb_recipe_find("zlib", 0);
	assert_string_equal(r->profiles, "nobiarch");
	r = kc_deb_recipe_find("openssl", 0);
	assert_non_null(strstr(r->script, "libcrypto.so.3 libssl.so.3"));
	r = kc_deb_recipe_find("openssl", 1);
	assert_non_null(strstr(r->script, "dpkg-buildpackage -b"));
	r = kc_deb_recipe_find("glibc", 0);
	assert_non_null(strstr(r->script, "-T build-arch"));
	cmd = kc_deb_recipe_cmd(kc_deb_recipe_find("openssl", 0), "openssl-3.0.20");
	assert_non_null(cmd);
	assert_non_null(strstr(cmd, "unshare -m"));
	assert_non_null(strstr(cmd, "mount --bind \"$0\" /build/reproducible-path/openssl-3.0.20"));
	assert_non_null(strstr(cmd, "SOURCE_DATE_EPOCH"));
	/* the recipe's own single quotes survive the quoting */
	assert_non_null(strstr(cmd, "'\\''kc-flags"));
	free(cmd);
}

static void test_deb__exec(void **state)
{
	const char *const argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	const char *const env[] = {"KC_TEST_DEB=42", NULL};
	char log[256], tail[64], *out = NULL;
	struct kc_deb_cmd c = {.argv = argv, .log = log, .out = &out};
	struct kc_deb_cmd s = {.script = "echo $KC_TEST_DEB", .env = env};

	(void)state;
	snprintf(log, sizeof(log), "%s/exec.log", tmpdir);
	assert_int_equal(kc_deb_exec(&c, NULL), 3);
	assert_string_equal(out, "out\n");
	free(out);
	assert_string_equal(kc_log_last_line(log, tail, sizeof(tail)), "err");
	assert_false(kc_deb_log_offline(log));
	s.out = &out;
	assert_int_equal(kc_deb_exec(&s, NULL), 0);
	assert_string_equal(out, "42\n");
	free(out);
	s.script = "echo 'Err:1 http://deb.debian.org/debian bookworm InRelease' >&2;"
		   "echo '  Temporary failure resolving deb.debian.org' >&2";
	s.out = NULL;
	s.log = log;
	assert_int_equal(kc_deb_exec(&s, NULL), 0);
	assert_true(kc_deb_log_offline(log));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_deb__scope(void **state)
{
	char obj[256], tree[256], diff[256], inc[300];

	(void)state;
	snprintf(obj, sizeof(obj), "%s/scope-obj.so", tmpdir);
	snprintf(tree, sizeof(tree), "%s/scope-tree", tmpdir);
	snprintf(diff, sizeof(diff), "%s/scope.patch", tmpdir);
	copy_self(obj);
	assert_int_equal(mkdir(tree, 0755), 0);
	/* a unit this object was not built from */
	write_file(diff, "--- a/lib/zzz_unit.c\n+++ b/lib/zzz_unit.c\n@@ -1 +1 @@\n-a\n+b\n");
	assert_int_equal(kc_deb_scope_unaffected(diff, tree, obj), 1);
	/* one of its units (this test's STT_FILE) */
	write_file(diff, "--- a/zzz_unit.c\n+++ b/zzz_unit.c\n@@ -1 +1 @@\n-a\n+b\n"
			 "--- a/tests/unit/test-deb.c\n+++ b/tests/unit/test-deb.c\n");
	assert_int_equal(kc_deb_scope_unaffected(diff, tree, obj), 0);
	/* a header: anything may include it */
	write_file(diff, "--- a/x.h\n+++ b/x.h\n@@ -1 +1 @@\n-a\n+b\n");
	assert_int_equal(kc_deb_scope_unaffected(diff, tree, obj), 0);
	/* a C file #included by another */
	write_file(diff, "--- a/lib/zzz_unit.c\n+++ b/lib/zzz_unit.c\n@@ -1 +1 @@\n-a\n+b\n");
	snprintf(inc, sizeof(inc), "%s/main.c", tree);
	write_file(inc, "#  include \"lib/zzz_unit.c\"\n");
	assert_int_equal(kc_deb_scope_unaffected(diff, tree, obj), 0);
}

static void test_deb__debug_file(void **state)
{
	char src[256], dst[256];
	struct kc_buildid id, got;
	enum kc_deb_match how = 0;
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	snprintf(src, sizeof(src), "%s/dbg-rebuilt.so", tmpdir);
	snprintf(dst, sizeof(dst), "%s/dbg.debug", tmpdir);
	copy_self(src);
	assert_int_equal(kc_buildid_from_file(src, &id, NULL), 0);
	id.bytes[0] ^= 0xff; /* the "installed" object's build-id */
	assert_int_equal(kc_deb_ident_debug_file(src, &id, dst, &err), 0);
	assert_int_equal(kc_buildid_from_file(dst, &got, NULL), 0);
	assert_true(kc_buildid_equal(&got, &id));
	/* nothing else changed */
	assert_int_equal(kc_deb_ident_check(src, dst, &how, &err), 0);
	assert_int_equal(how, KC_DEB_SAME_SECTIONS);
	id.len--;
	assert_int_equal(kc_deb_ident_debug_file(src, &id, dst, &err), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deb__upstream_version),
	    cmocka_unit_test(test_deb__src_derive_deb822),
	    cmocka_unit_test(test_deb__src_derive_oneline),
	    cmocka_unit_test(test_deb__src_derive_covered),
	    cmocka_unit_test(test_deb__ident_check),
	    cmocka_unit_test(test_deb__ident_find),
	    cmocka_unit_test(test_deb__cache_manifest),
	    cmocka_unit_test(test_deb__recipes),
	    cmocka_unit_test(test_deb__exec),
	    cmocka_unit_test(test_deb__scope),
	    cmocka_unit_test(test_deb__debug_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
