// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The object differ on real objects: small C units compiled with gcc -O2
 * -ffunction-sections -fdata-sections at test time, compared pass by pass
 * (what changed, what is paired, what is refused), the target's symbols
 * by compilation unit, the identity test of a rebuild, and kc_differ_run()
 * end to end on a tiny Makefile project (a patch, and a refusal that
 * leaves no file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>
#include <cmocka.h>

#include "build/differ-build.h"
#include "build/differ-int.h"
#include "build/differ-symtab.h"
#include "build/differ.h"
#include "kcare/patch.h"
#include "scratch.h"

/* Compiles @orig and @patched (C text) as one unit and opens them as a kc_dcu. */
static int unit(struct kc_dcu *cu, const char *orig, const char *patched, struct kc_err *err)
{
	int ret;

	scratch_put("o.c", orig);
	scratch_put("p.c", patched);
	scratch_run("gcc -O2 -fPIC -ffunction-sections -fdata-sections -c -o o.o o.c && "
		    "gcc -O2 -fPIC -ffunction-sections -fdata-sections -c -o p.o p.c");
	memset(cu, 0, sizeof(*cu));
	assert_int_equal(kc_diff_cu_open(cu, scratch_path("o.o"), scratch_path("p.o"), err), 0);
	assert_int_equal(kc_diff_pair(cu, err), 0);
	ret = kc_diff_compare(cu, err);
	return ret;
}

/* The patched section whose entry symbol is @name, 0 if none. */
static size_t sec_of(const struct kc_dcu *cu, const char *name)
{
	for (size_t i = 1; i < cu->p->nsecs; i++)
		if (cu->ps[i].entry && !strcmp(cu->p->syms[cu->ps[i].entry].name, name))
			return i;
	return 0;
}

static int changed(const struct kc_dcu *cu, const char *name)
{
	size_t i = sec_of(cu, name);

	assert_true(i != 0);
	return cu->ps[i].changed;
}

static void test_differ__changed_functions(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_dcu cu;

	(void)state;
	assert_int_equal(unit(&cu,
			      "int f(int x) { return x * 3 + 1; }\n"
			      "int g(int x) { return x * 5 + 2; }\n",
			      "int f(int x) { return x * 3 + 2; }\n"
			      "int g(int x) { return x * 5 + 2; }\n",
			      &err),
			 0);
	assert_true(changed(&cu, "f"));
	assert_false(changed(&cu, "g"));
	kc_diff_cu_release(&cu);
}

static void test_differ__strings_by_content(void **state)
{
	static const char *orig = "#include <stdio.h>\n"
				  "void a(void) { puts(\"alpha\"); }\n"
				  "void b(void) { puts(\"bravo\"); }\n"
				  "void c(void) { puts(\"charlie\"); }\n";
	struct kc_err err = KC_ERR_INIT;
	struct kc_dcu cu;

	(void)state;
	/* b's string changes length: a and c keep their strings, even at other offsets */
	assert_int_equal(unit(&cu, orig,
			      "#include <stdio.h>\n"
			      "void a(void) { puts(\"alpha\"); }\n"
			      "void b(void) { puts(\"bravo, much longer now\"); }\n"
			      "void c(void) { puts(\"charlie\"); }\n",
			      &err),
			 0);
	assert_false(changed(&cu, "a"));
	assert_true(changed(&cu, "b"));
	assert_false(changed(&cu, "c"));
	kc_diff_cu_release(&cu);
}

static void test_differ__inlined_callee(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_dcu cu;

	(void)state;
	assert_int_equal(unit(&cu,
			      "static inline int w(int x) { return x * 3; }\n"
			      "int f(int x) { return w(x) + 1; }\n"
			      "int g(int x) { return x - 1; }\n",
			      "static inline int w(int x) { return x * 7; }\n"
			      "int f(int x) { return w(x) + 1; }\n"
			      "int g(int x) { return x - 1; }\n",
			      &err),
			 0);
	assert_true(changed(&cu, "f"));
	assert_false(changed(&cu, "g"));
	kc_diff_cu_release(&cu);
}

static void test_differ__static_locals_pair_by_users(void **state)
{
	static const char *orig = "int t(void) { static int n; return ++n; }\n"
				  "int u(void) { static int n; return n += 2; }\n";
	struct kc_err err = KC_ERR_INIT;
	struct kc_dcu cu;
	size_t ut;

	(void)state;
	assert_int_equal(unit(&cu, orig,
			      "int z(void) { static int n; return n += 9; }\n"
			      "int t(void) { static int n; return ++n + 5; }\n"
			      "int u(void) { static int n; return n += 2; }\n",
			      &err),
			 0);
	assert_true(changed(&cu, "t"));
	/* u's static was renumbered, yet u is unchanged: its static is paired through u */
	assert_false(changed(&cu, "u"));
	ut = sec_of(&cu, "z");
	assert_true(ut != 0);
	assert_int_equal(cu.ps[ut].pair, 0);
	kc_diff_cu_release(&cu);
}

/* Two clones whose numbers swap in the fix: paired by content, neither changed. */
static void test_differ__clones_pair_by_content(void **state)
{
	static const char *fmt =
	    "static __attribute__((noinline)) int c7(int x) __asm__(\"sc.constprop.%d\");\n"
	    "static __attribute__((noinline)) int c3(int x) __asm__(\"sc.constprop.%d\");\n"
	    "static int c7(int x) { return x * 7 + 1; }\n"
	    "static int c3(int x) { return x * 3 + 1; }\n"
	    "int u7(int x) { return c7(x) + %d; }\n"
	    "int u3(int x) { return c3(x) + 1; }\n";
	char orig[1024], patched[1024];
	struct kc_err err = KC_ERR_INIT;
	struct kc_dcu cu;

	(void)state;
	snprintf(orig, sizeof(orig), fmt, 0, 1, 1);
	snprintf(patched, sizeof(patched), fmt, 1, 0, 2);
	assert_int_equal(unit(&cu, orig, patched, &err), 0);
	assert_false(changed(&cu, "sc.constprop.0"));
	assert_false(changed(&cu, "sc.constprop.1"));
	assert_true(changed(&cu, "u7"));
	assert_false(changed(&cu, "u3"));
	kc_diff_cu_release(&cu);
}

static void test_differ__refuses_data_changes(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_dcu cu;

	(void)state;
	assert_int_equal(
	    unit(&cu, "int tab[4] = {1, 2, 3, 4};\nint get(int i) { return tab[i & 3]; }\n",
		 "int tab[8] = {1, 2, 3, 4};\nint get(int i) { return tab[i & 7]; }\n", &err),
	    -ENOTSUP);
	assert_non_null(strstr(err.msg, "size of global data 'tab'"));
	kc_diff_cu_release(&cu);
	kc_err_clear(&err);
	assert_int_equal(unit(&cu,
			      "static int b = 1;\nvoid set(int v) { b = v; }\n"
			      "int get(void) { return b; }\n",
			      "static int b = 2;\nvoid set(int v) { b = v; }\n"
			      "int get(void) { return b; }\n",
			      &err),
			 -ENOTSUP);
	assert_non_null(strstr(err.msg, "initial value of 'b'"));
	kc_diff_cu_release(&cu);
}

static void test_differ__symtab_by_unit(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_dsymtab st;
	const struct kc_dsym *a = NULL, *b = NULL, *g = NULL;

	(void)state;
	scratch_put("ua.c", "static int cnt;\nstatic __attribute__((noinline)) int get(void) "
			    "{ return ++cnt; }\nint ua(void) { return get(); }\n");
	scratch_put("ub.c", "static int cnt;\nstatic __attribute__((noinline)) int get(void) "
			    "{ return cnt += 2; }\nint ub(void) { return get(); }\n");
	scratch_run("gcc -O2 -fPIC -shared -o libu.so ua.c ub.c");
	assert_int_equal(kc_dsymtab_open(&st, scratch_path("libu.so"), &err), 0);
	assert_int_equal(kc_dsymtab_lookup(&st, "ua.c", "get", 1, &a, &err), 0);
	assert_int_equal(kc_dsymtab_lookup(&st, "ub.c", "get", 1, &b, &err), 0);
	assert_int_not_equal(a->value, b->value);
	assert_int_equal(kc_dsymtab_lookup(&st, "uc.c", "get", 1, &a, &err), -ENOENT);
	assert_int_equal(kc_dsymtab_lookup(&st, NULL, "ua", 0, &g, &err), 0);
	assert_int_equal(g->type, STT_FUNC);
	assert_true(kc_dsymtab_has_file(&st, "ub.c"));
	kc_dsymtab_release(&st);
}

static void test_differ__identity(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char *found = NULL;

	(void)state;
	scratch_put("id.c", "int id(int x) { return x + 1; }\n");
	scratch_run("mkdir -p t r1 r2 && gcc -O2 -fPIC -shared -o t/libid.so id.c && "
		    "gcc -O2 -g -fPIC -shared -o r1/libid.so id.c && "
		    "gcc -O1 -fPIC -shared -o r2/libid.so id.c");
	/* -g changes the build-id but no loaded byte */
	assert_int_equal(
	    kc_dsym_find_identical(scratch_path("r1"), scratch_path("t/libid.so"), &found, &err),
	    0);
	assert_non_null(strstr(found, "r1/libid.so"));
	free(found);
	assert_int_equal(
	    kc_dsym_find_identical(scratch_path("r2"), scratch_path("t/libid.so"), &found, &err),
	    -ESRCH);
	assert_null(found);
	assert_non_null(strstr(err.msg, "do not rebuild"));
}

static void test_differ__diff_sources_only(void **state)
{
	(void)state;
	scratch_put("src.patch", "--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n");
	scratch_put("hdr.patch", "--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n--- a/x.h\t2024\n+++ "
				 "b/x.h\t2024\n@@ -1 +1 @@\n-a\n+b\n");
	assert_true(kc_dbuild_diff_sources_only(scratch_path("src.patch")));
	assert_false(kc_dbuild_diff_sources_only(scratch_path("hdr.patch")));
}

static void project(const char *lib)
{
	scratch_run("rm -rf proj tgt && mkdir -p proj");
	scratch_put("proj/Makefile", "libp.so: lib.c\n\t$(CC) -O2 -fPIC -shared -o $@ lib.c\n");
	scratch_put("proj/lib.c", lib);
	scratch_run("cp -a proj tgt && make -s -C tgt");
}

static void test_differ__run(void **state)
{
	struct kc_differ_opts o = {0};
	struct kc_differ_summary sum;
	struct kc_err err = KC_ERR_INIT;
	struct kc_patch *p = NULL;
	int ret;

	(void)state;
	project("static int cnt;\nint f(int x) { cnt++; return x * 3 + cnt; }\n");
	scratch_put("fix.patch", "--- a/lib.c\n+++ b/lib.c\n@@ -1,2 +1,2 @@\n static int cnt;\n"
				 "-int f(int x) { cnt++; return x * 3 + cnt; }\n"
				 "+int f(int x) { cnt++; return x * 4 + cnt; }\n");
	char target[512], src[512], diff[512], bad[512], output[512];

	snprintf(target, sizeof(target), "%s", scratch_path("tgt/libp.so"));
	snprintf(src, sizeof(src), "%s", scratch_path("proj"));
	snprintf(diff, sizeof(diff), "%s", scratch_path("fix.patch"));
	snprintf(bad, sizeof(bad), "%s", scratch_path("bad.patch"));
	snprintf(output, sizeof(output), "%s", scratch_path("fix.kpatch"));
	o.target = target;
	o.src = src;
	o.diff = diff;
	o.output = output;
	o.pack.id = "fix-1";
	assert_int_equal(kc_differ_run(&o, &sum, &err), 0);
	assert_int_equal(sum.pack.nreplaced, 1);
	assert_int_equal(sum.nfuncs, 1);
	assert_string_equal(sum.funcs[0].name, "f");
	assert_true(sum.funcs[0].replaced);
	kc_differ_summary_release(&sum);
	assert_int_equal(kc_patch_read_file(o.output, &p, &err), 0);
	assert_int_equal(p->nfuncs, 1);
	assert_string_equal(p->id, "fix-1");
	/* the static counter stays the target's: a TARGET symbol */
	assert_int_equal(p->nsyms, 1);
	assert_string_equal(p->syms[0].name, "cnt");
	assert_int_equal(p->syms[0].kind, KC_PF_SYM_TARGET);
	kc_patch_free(p);
	unlink(o.output);

	/* a refusal: no file */
	scratch_put("bad.patch",
		    "--- a/lib.c\n+++ b/lib.c\n@@ -1,2 +1,2 @@\n-static int cnt;\n"
		    "+static long cnt;\n int f(int x) { cnt++; return x * 3 + cnt; }\n");
	o.diff = bad;
	ret = kc_differ_run(&o, NULL, &err);
	if (ret != -ENOTSUP)
		fail_msg("refusal: %d %s", ret, err.msg);
	assert_non_null(strstr(err.msg, "'cnt'"));
	assert_int_equal(access(o.output, F_OK), -1);

	/* sources that do not rebuild the target */
	kc_err_clear(&err);
	scratch_run("echo 'int g(void) { return 1; }' >> proj/lib.c");
	o.diff = diff;
	assert_int_equal(kc_differ_run(&o, NULL, &err), -ESRCH);
	assert_int_equal(access(o.output, F_OK), -1);
}

/*
 * Three libraries of one tree in one run: the diff changes two of them and
 * refuses nothing; the third is unchanged (-ENODATA, its own result), a
 * fourth target is not built by the tree (-ESRCH, its own result). The
 * tree is built three times in all (reference, original, patched), not per
 * target.
 */
static void test_differ__run_many(void **state)
{
	struct kc_differ_opts o = {0};
	struct kc_differ_target t[4] = {0};
	struct kc_err err = KC_ERR_INIT;
	char path[4][512], out[4][512], src[512], diff[512], cmd[600];
	const char *lib[] = {"a", "b", "c"};

	(void)state;
	scratch_run("rm -rf multi multi-tgt && mkdir -p multi");
	scratch_put("multi/Makefile", "all: liba.so libb.so libc.so\n"
				      "lib%.so: %.c\n\t$(CC) -O2 -fPIC -shared -o $@ $<\n");
	for (int i = 0; i < 3; i++) {
		char name[32], text[128];

		snprintf(name, sizeof(name), "multi/%s.c", lib[i]);
		snprintf(text, sizeof(text),
			 "int %s_val(int x)\n{\n\treturn x * %d + 1000000;\n}\n", lib[i], i + 2);
		scratch_put(name, text);
	}
	scratch_run("cp -a multi multi-tgt && make -s -C multi-tgt && gcc -O2 -fPIC -shared "
		    "-o other.so -x c - </dev/null");
	scratch_put("multi.patch", "--- a/a.c\n+++ b/a.c\n@@ -1,4 +1,4 @@\n int a_val(int x)\n {\n"
				   "-\treturn x * 2 + 1000000;\n+\treturn x * 20 + 1000000;\n }\n"
				   "--- a/b.c\n+++ b/b.c\n@@ -1,4 +1,4 @@\n int b_val(int x)\n {\n"
				   "-\treturn x * 3 + 1000000;\n+\treturn x * 30 + 1000000;\n }\n");
	snprintf(src, sizeof(src), "%s", scratch_path("multi"));
	snprintf(diff, sizeof(diff), "%s", scratch_path("multi.patch"));
	snprintf(cmd, sizeof(cmd), "echo run >> %s && make", scratch_path("builds"));
	for (int i = 0; i < 4; i++) {
		char name[64];

		snprintf(name, sizeof(name), i < 3 ? "multi-tgt/lib%s.so" : "other.so",
			 i < 3 ? lib[i] : "");
		snprintf(path[i], sizeof(path[i]), "%s", scratch_path(name));
		snprintf(name, sizeof(name), "out-%d.kpatch", i);
		snprintf(out[i], sizeof(out[i]), "%s", scratch_path(name));
		t[i].target = path[i];
		t[i].output = out[i];
	}
	o.src = src;
	o.diff = diff;
	o.build_cmd = cmd;
	if (kc_differ_run_many(&o, t, 4, &err) != 0)
		fail_msg("run: %s", err.msg);
	for (int i = 0; i < 2; i++) {
		if (t[i].ret != 0)
			fail_msg("%s: %d %s", t[i].target, t[i].ret, t[i].err.msg);
		assert_int_equal(t[i].sum.pack.nreplaced, 1);
		assert_int_equal(access(out[i], F_OK), 0);
		kc_differ_summary_release(&t[i].sum);
	}
	assert_int_equal(t[2].ret, -ENODATA);
	assert_non_null(strstr(t[2].err.msg, "libc.so"));
	assert_int_equal(access(out[2], F_OK), -1);
	assert_int_equal(t[3].ret, -ESRCH);
	assert_int_equal(access(out[3], F_OK), -1);
	scratch_run("test \"$(wc -l < builds)\" -eq 3");

	/* a run that fails as a whole takes back its own patches, never an older file */
	scratch_run("echo old > out-2.kpatch");
	o.build_cmd = "false";
	assert_int_equal(kc_differ_run_many(&o, t, 4, &err), -ECHILD);
	scratch_run("test \"$(cat out-2.kpatch)\" = old");
}

/* kc_diff_code_same() of function @name: the target @lib against object @obj. */
static int code_same(const char *lib, const char *obj, const char *name, uint64_t *at)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_target *t = NULL;
	struct kc_objfile *o = NULL;
	struct kc_dsymtab st;
	const struct kc_dsym *s = NULL;
	int ret = -1;

	st.fd = -1;
	assert_int_equal(kc_target_open(scratch_path(lib), NULL, &t, &err), 0);
	assert_int_equal(kc_objfile_open(scratch_path(obj), &o, &err), 0);
	assert_int_equal(kc_dsymtab_open(&st, scratch_path(lib), &err), 0);
	if (kc_dsymtab_lookup(&st, NULL, name, 0, &s, &err) < 0)
		assert_int_equal(kc_dsymtab_lookup(&st, "ci.c", name, 1, &s, &err), 0);
	for (size_t i = 1; i < o->nsyms; i++)
		if (!strcmp(o->syms[i].name, name) && o->syms[i].type == STT_FUNC) {
			const GElf_Sym *os = &o->syms[i].sym;

			ret = kc_diff_code_same(t, s->value, s->size, &o->secs[os->st_shndx],
						os->st_value, os->st_size, at, &err);
			break;
		}
	kc_dsymtab_release(&st);
	kc_objfile_close(o);
	kc_target_close(t);
	return ret;
}

/*
 * The target, built without -ffunction-sections, has the 2-byte form of a
 * tail call to a static helper; the object has a relocated 5-byte jump.
 * Same code. Another constant, or a branch that lands elsewhere, is not.
 */
static void test_differ__code_identity(void **state)
{
	static const char src[] = "static __attribute__((noinline)) int helper(int x)\n"
				  "{ return x * 7 + 3; }\n"
				  "int compute(int x)\n"
				  "{ if (x > 100) return helper(x - 1); return x * %d + 2; }\n";
	char text[512];
	uint64_t at = 0;

	(void)state;
	snprintf(text, sizeof(text), src, 2);
	scratch_put("ci.c", text);
	snprintf(text, sizeof(text), src, 3);
	scratch_put("ci3.c", text);
	scratch_run("gcc -O2 -fPIC -shared -o libci.so ci.c && "
		    "gcc -O2 -fPIC -ffunction-sections -fdata-sections -c ci.c -o ci.o && "
		    "gcc -O2 -fPIC -ffunction-sections -fdata-sections -c ci3.c -o ci3.o");
	/* the premise: the two encodings really differ in length */
	scratch_run("test \"$(nm -S libci.so | awk '$4 == \"compute\" { print $2 }')\" != "
		    "\"$(nm -S ci.o | awk '$4 == \"compute\" { print $2 }')\"");
	assert_int_equal(code_same("libci.so", "ci.o", "compute", &at), 1);
	assert_int_equal(code_same("libci.so", "ci3.o", "compute", &at), 0);
	assert_int_equal(code_same("libci.so", "ci.o", "helper", &at), 1);
}

static int setup(void **state)
{
	(void)state;
	return scratch_make("differ");
}

static int teardown(void **state)
{
	(void)state;
	return scratch_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_differ__changed_functions),
	    cmocka_unit_test(test_differ__strings_by_content),
	    cmocka_unit_test(test_differ__inlined_callee),
	    cmocka_unit_test(test_differ__static_locals_pair_by_users),
	    cmocka_unit_test(test_differ__clones_pair_by_content),
	    cmocka_unit_test(test_differ__refuses_data_changes),
	    cmocka_unit_test(test_differ__symtab_by_unit),
	    cmocka_unit_test(test_differ__identity),
	    cmocka_unit_test(test_differ__diff_sources_only),
	    cmocka_unit_test(test_differ__code_identity),
	    cmocka_unit_test(test_differ__run),
	    cmocka_unit_test(test_differ__run_many),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
