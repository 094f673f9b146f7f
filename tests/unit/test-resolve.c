// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Symbol and TLS resolution in a real child compiled here with two shared
 * libraries: one using general-dynamic TLS (module id slot only), one
 * initial-exec (tp offset slot only), plus TLS in the program itself. The
 * child prints the addresses the dynamic linker gave it; we must agree.
 * The child also reads a versioned library's variables and libc's environ
 * directly, so it holds their live copies (R_X86_64_COPY): exported data is
 * bound to those, through the library's own GOT slot or by the lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kcare/resolve.h"
#include "testchild.h"

static const char lib_gd_src[] = "__thread int ltvar = 3;\n"
				 "int *lib_gd_addr(void) { return &ltvar; }\n";
static const char lib_ie_src[] = "__thread long l2tvar[4] __attribute__((aligned(64))) = {1};\n"
				 "long *lib_ie_addr(void) { return l2tvar; }\n";
/* kcv_used is read by the library through its GOT, kcv_only never, kcv_own is not copied */
static const char lib_var_src[] = "int kcv_used = 1, kcv_only = 2, kcv_own = 3;\n"
				  "__attribute__((noipa)) int kcv_get(void) { return kcv_used; }\n";
static const char lib_var_map[] = "KCV_1 { global: kcv_*; local: *; };\n";
static const char child_src[] =
    "#include <stdio.h>\n"
    "#include <string.h>\n"
    "#include <unistd.h>\n"
    "__thread int tvar = 7;\n"
    "__thread char tpad[40] __attribute__((aligned(32)));\n"
    "int *lib_gd_addr(void);\n"
    "long *lib_ie_addr(void);\n"
    "extern char **environ;\n"
    "extern int kcv_used, kcv_only;\n"
    "void *(*volatile mc)(void *, const void *, size_t) = memcpy;\n"
    "int main(void)\n"
    "{\n"
    "	void *tp;\n"
    "	__asm__(\"mov %%fs:0, %0\" : \"=r\"(tp));\n"
    "	printf(\"%p %p %p %p %p %p\\n\", (void *)&printf, (void *)mc, (void *)&tvar,\n"
    "	       (void *)lib_gd_addr(), (void *)lib_ie_addr(), tp);\n"
    "	printf(\"%p %p %p\\n\", (void *)&environ, (void *)&kcv_used, (void *)&kcv_only);\n"
    "	fflush(stdout);\n"
    "	pause();\n"
    "	return tpad[0];\n"
    "}\n";

struct resolve_fixture {
	struct tc_child c;
	uint64_t printf_addr, memcpy_addr, tvar, ltvar, l2tvar, tp;
	uint64_t environ_addr, kcv_used, kcv_only;
	struct kc_proc_maps maps;
	struct kc_objs objs;
	struct kc_resolver r;
};

static void resolve_start(struct resolve_fixture *f, const char *cflags)
{
	struct kc_err err = KC_ERR_INIT;
	char line[512];

	memset(f, 0, sizeof(*f));
	assert_int_equal(tc_mkdir(&f->c), 0);
	assert_int_equal(tc_write_file(&f->c, "gd.c", lib_gd_src), 0);
	assert_int_equal(tc_write_file(&f->c, "ie.c", lib_ie_src), 0);
	assert_int_equal(tc_write_file(&f->c, "var.c", lib_var_src), 0);
	assert_int_equal(tc_write_file(&f->c, "var.map", lib_var_map), 0);
	assert_int_equal(tc_write_file(&f->c, "child.c", child_src), 0);
	assert_int_equal(
	    tc_sh(&f->c,
		  "gcc -O2 -fPIC -shared -o libkcgd.so gd.c && "
		  "gcc -O2 -fPIC -ftls-model=initial-exec -shared -o libkcie.so ie.c && "
		  "gcc -O2 -fPIC -shared -Wl,--version-script=var.map -o libkcvar.so var.c && "
		  "gcc -O2 %s -rdynamic -o child child.c -L. -lkcgd -lkcie -lkcvar "
		  "-Wl,-rpath,'%s'",
		  cflags, f->c.dir),
	    0);
	assert_int_equal(tc_spawn(&f->c, "child"), 0);
	assert_int_equal(tc_read_line(&f->c, line, sizeof(line)), 0);
	assert_int_equal(
	    sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64,
		   &f->printf_addr, &f->memcpy_addr, &f->tvar, &f->ltvar, &f->l2tvar, &f->tp),
	    6);
	assert_int_equal(tc_read_line(&f->c, line, sizeof(line)), 0);
	assert_int_equal(sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, &f->environ_addr,
				&f->kcv_used, &f->kcv_only),
			 3);
	assert_int_equal(kc_proc_maps_read(f->c.pid, &f->maps, &err), 0);
	if (kc_objs_read(f->c.pid, &f->maps, &f->objs, &err) != 0)
		fail_msg("kc_objs_read: %s", err.msg);
	f->r.objs = &f->objs;
	f->r.read = tc_read_mem;
	f->r.read_ctx = &f->c.pid;
	f->r.fs_base = f->tp;
}

static void resolve_stop(struct resolve_fixture *f)
{
	kc_objs_release(&f->objs);
	kc_proc_maps_release(&f->maps);
	tc_finish(&f->c);
}

/* *out = fs_base + tpoff + st_value of TLS symbol @name, as kc_resolve_* compute it. */
static void resolve_tls_addr(struct resolve_fixture *f, const char *name, uint64_t expect_modid,
			     uint64_t *out)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_obj *def;
	uint64_t off, modid;
	int64_t tpoff;

	if (kc_resolve_symbol(&f->r, name, NULL, &off, &def, &err) != 0)
		fail_msg("resolve %s: %s", name, err.msg);
	assert_non_null(def);
	if (kc_resolve_tls(&f->r, def, &modid, &tpoff, &err) != 0)
		fail_msg("tls of %s: %s", name, err.msg);
	assert_true(tpoff < 0);
	assert_int_equal(modid, expect_modid);
	*out = f->tp + (uint64_t)tpoff + off;
}

static void resolve_check(struct resolve_fixture *f)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_obj *def, *libc = NULL;
	uint64_t addr, modid, slot_tpoff;
	int64_t tpoff;

	assert_int_equal(kc_resolve_symbol(&f->r, "printf", NULL, &addr, &def, &err), 0);
	assert_non_null(def);
	assert_string_equal(def->soname, "libc.so.6");
	libc = def;
	if (f->objs.v[0].e_type == ET_DYN)
		assert_int_equal(addr, f->printf_addr);
	/* IFUNC: the implementation ld.so picked, as the program's function pointer shows. */
	assert_int_equal(kc_resolve_symbol(&f->r, "memcpy", NULL, &addr, &def, &err), 0);
	assert_ptr_equal(def, libc);
	assert_int_equal(addr, f->memcpy_addr);
	assert_int_equal(kc_resolve_symbol(&f->r, "memcpy", "GLIBC_2.14", &addr, NULL, &err), 0);
	assert_int_equal(addr, f->memcpy_addr);
	assert_int_equal(kc_resolve_symbol(&f->r, "kc_no_such_fn", "V_1", &addr, &def, &err),
			 -ENOENT);
	assert_string_equal(err.msg, "undefined symbol 'kc_no_such_fn@V_1'");
	assert_null(def);
	/* The vdso is searched too (last). */
	assert_int_equal(kc_resolve_symbol(&f->r, "__vdso_clock_gettime", NULL, &addr, &def, &err),
			 0);
	assert_true(def->is_vdso);

	/* TLS: program (modid 1, local-exec layout), gd library (2), ie library (3). */
	resolve_tls_addr(f, "tvar", 1, &addr);
	assert_int_equal(addr, f->tvar);
	resolve_tls_addr(f, "ltvar", 2, &addr);
	assert_int_equal(addr, f->ltvar);
	resolve_tls_addr(f, "l2tvar", 3, &addr);
	assert_int_equal(addr, f->l2tvar);

	/* libc: tp offset from its own GOT, module id from link_map; the DTV agrees. */
	assert_int_equal(kc_resolve_tls(&f->r, libc, &modid, &tpoff, &err), 0);
	assert_int_equal(modid, 4);
	slot_tpoff = (uint64_t)tpoff;
	f->r.fs_base = f->tp;
	{
		uint64_t dtv, block;

		assert_int_equal(tc_read_mem(&f->c.pid, f->tp + 8, &dtv, 8), 0);
		assert_int_equal(tc_read_mem(&f->c.pid, dtv + 16 * modid, &block, 8), 0);
		assert_int_equal(block - f->tp, slot_tpoff);
	}
	/* An object without PT_TLS. */
	for (size_t i = 0; i < f->objs.n; i++)
		if (f->objs.v[i].is_vdso)
			assert_int_equal(kc_resolve_tls(&f->r, &f->objs.v[i], &modid, &tpoff, &err),
					 -EINVAL);
}

/* kc_resolve_interposed() of @name defined by @target; returns the address, checks the definer. */
static uint64_t resolve_data(struct resolve_fixture *f, struct kc_obj *target, const char *name,
			     const char *version, struct kc_obj *expect_def)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_obj *def = NULL;
	uint64_t addr = 0;
	GElf_Sym sym;

	if (kc_obj_dynsym(target, name, NULL, &sym, &err) != 0)
		fail_msg("%s in %s: %s", name, target->path, err.msg);
	kc_resolve_interposed(&f->r, target, name, version, sym.st_value, &addr, &def);
	assert_ptr_equal(def, expect_def);
	if (def == target)
		assert_int_equal(addr, target->bias + sym.st_value);
	return addr;
}

/* Exported data that the program copied is the program's copy, for every way of asking. */
static void resolve_check_copies(struct resolve_fixture *f)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_obj *prog = &f->objs.v[0], *libc = NULL, *var = NULL, *def;
	uint64_t addr;

	assert_true(prog->is_main);
	for (size_t i = 0; i < f->objs.n; i++) {
		if (f->objs.v[i].soname && !strcmp(f->objs.v[i].soname, "libc.so.6"))
			libc = &f->objs.v[i];
		if (f->objs.v[i].path && strstr(f->objs.v[i].path, "/libkcvar.so"))
			var = &f->objs.v[i];
	}
	assert_non_null(libc);
	assert_non_null(var);
	/* a versioned lookup finds the copy, whose version index names a needed version */
	assert_int_equal(kc_resolve_symbol(&f->r, "environ", "GLIBC_2.2.5", &addr, &def, &err), 0);
	assert_ptr_equal(def, prog);
	assert_int_equal(addr, f->environ_addr);
	assert_int_equal(kc_resolve_symbol(&f->r, "kcv_only", "KCV_1", &addr, &def, &err), 0);
	assert_ptr_equal(def, prog);
	assert_int_equal(addr, f->kcv_only);
	/* through the library's own GOT slot */
	assert_int_equal(resolve_data(f, libc, "__environ", "GLIBC_2.2.5", prog), f->environ_addr);
	assert_int_equal(resolve_data(f, var, "kcv_used", "KCV_1", prog), f->kcv_used);
	/* no slot (libc reads environ as __environ; nothing in the library reads kcv_only) */
	assert_int_equal(resolve_data(f, libc, "environ", "GLIBC_2.2.5", prog), f->environ_addr);
	assert_int_equal(resolve_data(f, var, "kcv_only", "KCV_1", prog), f->kcv_only);
	/* not copied: the library's own; and the program's own is its own */
	resolve_data(f, var, "kcv_own", "KCV_1", var);
	assert_int_equal(resolve_data(f, prog, "kcv_used", "KCV_1", prog), f->kcv_used);
}

static void test_resolve__pie_child(void **state)
{
	struct resolve_fixture f;

	(void)state;
	resolve_start(&f, "-fpie -pie");
	resolve_check(&f);
	resolve_check_copies(&f);
	resolve_stop(&f);
}

static void test_resolve__non_pie_child(void **state)
{
	struct resolve_fixture f;

	(void)state;
	resolve_start(&f, "-fno-pie -no-pie");
	resolve_check(&f);
	resolve_check_copies(&f);
	resolve_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolve__pie_child),
	    cmocka_unit_test(test_resolve__non_pie_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
