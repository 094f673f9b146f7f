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

/* Opens object @obj (compiled in the scratch dir) as both sides of a unit. */
static void eh_unit(struct kc_dcu *cu, const char *obj)
{
	struct kc_err err = KC_ERR_INIT;

	memset(cu, 0, sizeof(*cu));
	assert_int_equal(kc_diff_cu_open(cu, scratch_path(obj), scratch_path(obj), &err), 0);
}

/* Marks function @name's section copied as fix section @out. */
static void eh_copy(struct kc_dcu *cu, const char *name, size_t out)
{
	size_t i = sec_of(cu, name);

	assert_true(i != 0);
	cu->ps[i].include = 1;
	cu->ps[i].out_sec = out;
}

static uint32_t eh_u32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

/*
 * Walks the built table as an unwinder would: every FDE's CIE pointer
 * reaches a CIE before it, every FDE's initial location has exactly one
 * PC32 relocation against a copied section (its range inside the
 * function), and a zero terminator ends it. Returns the number of CIEs.
 */
static size_t eh_check(const struct kc_diff_eh *eh, const struct kc_dcu *cu, size_t nout)
{
	size_t at = 0, ncies = 0, nfdes = 0;

	assert_non_null(eh->data);
	for (;;) {
		uint32_t len, id;

		assert_true(at + 4 <= eh->size);
		len = eh_u32(eh->data + at);
		if (!len)
			break;
		assert_true(at + 4 + len <= eh->size);
		id = eh_u32(eh->data + at + 4);
		if (!id) {
			ncies++;
		} else {
			size_t nr = 0;

			assert_true(id <= at + 4);
			assert_int_equal(eh_u32(eh->data + at + 4 - id + 4), 0);
			for (size_t k = 0; k < eh->nrelas; k++) {
				const GElf_Rela *r = &eh->relas[k];
				size_t sym = GELF_R_SYM(r->r_info);

				if (r->r_offset < at || r->r_offset >= at + 4 + len)
					continue;
				nr++;
				assert_int_equal(r->r_offset, at + 8);
				assert_int_equal(GELF_R_TYPE(r->r_info), R_X86_64_PC32);
				assert_true(sym >= 1 && sym <= nout);
				/* the range is the copied function's */
				for (size_t i = 1; i < cu->p->nsecs; i++)
					if (cu->ps[i].out_sec == sym)
						assert_true(r->r_addend >= 0 &&
							    (uint64_t)r->r_addend +
								    eh_u32(eh->data + at + 12) <=
								cu->p->secs[i].sh.sh_size);
			}
			assert_int_equal(nr, 1);
			nfdes++;
		}
		at += 4 + len;
	}
	assert_int_equal(at + 4, eh->size);
	assert_int_equal(nfdes, eh->nfdes);
	assert_int_equal(eh->nrelas, eh->nfdes);
	return ncies;
}

/*
 * The fix's .eh_frame: the FDEs of the copied functions only, each with a
 * PC32 relocation against its fix section, a CIE written once for two
 * units, and none for a function whose CIE has a personality routine
 * (which pack could not carry); nothing at all when no copied code has an
 * entry.
 */
static void test_differ__eh_frame(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_dcu cus[2];
	struct kc_diff d = {.cus = cus, .ncus = 1};
	struct kc_diff_eh eh;
	const char *src = "int ext(int);\n"
			  "int f(int x) { return ext(x) * 3 + 1; }\n"
			  "int g(int x) { return ext(x) * 5 + 2; }\n"
			  "int h(int x) { return ext(x + 1) * 7; }\n";

	(void)state;
	scratch_put("eh1.c", src);
	scratch_put("eh2.c", "int ext(int);\nint k(int x) { return ext(x) - 9; }\n");
	scratch_put("eh3.c", "void ext2(int *);\nvoid done(int *p);\n"
			     "int c(int x) { int v __attribute__((cleanup(done))) = x; ext2(&v); "
			     "return v; }\n"
			     "int plain(int x) { ext2(&x); return x; }\n");
	scratch_run(
	    "for u in eh1 eh2; do gcc -O2 -fPIC -ffunction-sections -c -o $u.o $u.c; done && "
	    "gcc -O2 -fPIC -ffunction-sections -fexceptions -c -o eh3.o eh3.c && "
	    "gcc -O2 -fPIC -ffunction-sections -fno-asynchronous-unwind-tables -c -o eh0.o eh1.c");
	eh_unit(&cus[0], "eh1.o");
	eh_copy(&cus[0], "f", 1);
	eh_copy(&cus[0], "h", 2);
	assert_int_equal(kc_diff_eh_build(&d, &eh, &err), 0);
	assert_int_equal(eh.nfdes, 2);
	assert_int_equal(eh_check(&eh, &cus[0], 2), 1);
	/* g is not copied: nothing refers to its section */
	for (size_t k = 0; k < eh.nrelas; k++)
		assert_int_not_equal(GELF_R_SYM(eh.relas[k].r_info), 0);
	kc_diff_eh_release(&eh);

	/* a second unit with the same CIE: one CIE for both */
	eh_unit(&cus[1], "eh2.o");
	eh_copy(&cus[1], "k", 3);
	d.ncus = 2;
	assert_int_equal(kc_diff_eh_build(&d, &eh, &err), 0);
	assert_int_equal(eh.nfdes, 3);
	assert_int_equal(eh_check(&eh, &cus[0], 3), 1);
	kc_diff_eh_release(&eh);
	kc_diff_cu_release(&cus[1]);

	/* a personality routine (cleanup with -fexceptions): that FDE is dropped, plain's kept */
	eh_unit(&cus[1], "eh3.o");
	eh_copy(&cus[1], "c", 3);
	eh_copy(&cus[1], "plain", 4);
	assert_int_equal(kc_diff_eh_build(&d, &eh, &err), 0);
	assert_int_equal(eh.nfdes, 3);
	eh_check(&eh, &cus[0], 4);
	for (size_t k = 0; k < eh.nrelas; k++)
		assert_int_not_equal(GELF_R_SYM(eh.relas[k].r_info), 3);
	kc_diff_eh_release(&eh);
	kc_diff_cu_release(&cus[1]);

	/* nothing copied, or compiled without tables: no section at all */
	d.ncus = 1;
	kc_diff_cu_release(&cus[0]);
	eh_unit(&cus[0], "eh1.o");
	assert_int_equal(kc_diff_eh_build(&d, &eh, &err), 0);
	assert_null(eh.data);
	assert_int_equal(eh.size, 0);
	kc_diff_cu_release(&cus[0]);
	eh_unit(&cus[0], "eh0.o");
	eh_copy(&cus[0], "f", 1);
	assert_int_equal(kc_diff_eh_build(&d, &eh, &err), 0);
	assert_null(eh.data);
	kc_diff_cu_release(&cus[0]);
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
	/* the fix object carried f's call frame entry: the patch has an unwind table */
	assert_true(p->unwind_size > 0);
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
	    cmocka_unit_test(test_differ__eh_frame),
	    cmocka_unit_test(test_differ__run),
	    cmocka_unit_test(test_differ__run_many),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
