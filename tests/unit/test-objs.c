// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loaded objects of a real child (compiled here, as PIE and as non-PIE):
 * the program, libc, ld.so and [vdso] are found with the right load bias
 * (checked against addresses the child prints), build-ids match the files,
 * versioned dynsym lookups (memcpy's two versions), IFUNC and import slots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kcare/objs.h"
#include "testchild.h"

static const char child_src[] = "#include <stdio.h>\n"
				"#include <string.h>\n"
				"#include <unistd.h>\n"
				"int main(void)\n"
				"{\n"
				"	printf(\"%p %p\\n\", (void *)&printf, (void *)&main);\n"
				"	fflush(stdout);\n"
				"	pause();\n"
				"	return 0;\n"
				"}\n";

struct objs_fixture {
	struct tc_child c;
	uint64_t printf_addr, main_addr;
	struct kc_proc_maps maps;
	struct kc_objs objs;
};

static void objs_start(struct objs_fixture *f, const char *cflags)
{
	struct kc_err err = KC_ERR_INIT;
	char line[256];

	memset(f, 0, sizeof(*f));
	assert_int_equal(tc_mkdir(&f->c), 0);
	assert_int_equal(tc_write_file(&f->c, "child.c", child_src), 0);
	assert_int_equal(tc_sh(&f->c, "gcc -O2 %s -o child child.c", cflags), 0);
	assert_int_equal(tc_spawn(&f->c, "child"), 0);
	assert_int_equal(tc_read_line(&f->c, line, sizeof(line)), 0);
	assert_int_equal(sscanf(line, "%" SCNx64 " %" SCNx64, &f->printf_addr, &f->main_addr), 2);
	assert_int_equal(kc_proc_maps_read(f->c.pid, &f->maps, &err), 0);
	if (kc_objs_read(f->c.pid, &f->maps, &f->objs, &err) != 0)
		fail_msg("kc_objs_read: %s", err.msg);
}

static void objs_stop(struct objs_fixture *f)
{
	kc_objs_release(&f->objs);
	kc_proc_maps_release(&f->maps);
	tc_finish(&f->c);
}

static struct kc_obj *objs_by_soname(struct kc_objs *objs, const char *soname)
{
	for (size_t i = 0; i < objs->n; i++)
		if (objs->v[i].soname && strcmp(objs->v[i].soname, soname) == 0)
			return &objs->v[i];
	return NULL;
}

static void objs_check_common(struct objs_fixture *f, uint16_t main_type)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_obj *prog, *libc, *ld, *vdso = NULL;
	struct kc_buildid id;
	char realexe[4096];
	GElf_Sym sym, sym2;
	uint64_t slot, val, libc_printf;

	assert_true(f->objs.n >= 4);
	prog = &f->objs.v[0];
	assert_true(prog->is_main);
	snprintf(realexe, sizeof(realexe), "%s/child", f->c.dir);
	assert_string_equal(prog->path, realexe);
	assert_int_equal(prog->e_type, main_type);
	if (main_type == ET_EXEC)
		assert_int_equal(prog->bias, 0);
	assert_non_null(strstr(prog->file, "/map_files/"));
	/* Bias of the program: main's link-time value from .symtab plus bias is where it runs. */
	assert_int_equal(kc_obj_symtab(prog, "main", &sym, &err), 0);
	assert_int_equal(prog->bias + sym.st_value, f->main_addr);
	assert_ptr_equal(kc_objs_find_addr(&f->objs, f->main_addr), prog);
	assert_int_equal(kc_buildid_from_file(realexe, &id, &err), 0);
	assert_true(kc_buildid_equal(&id, &prog->build_id));

	libc = objs_by_soname(&f->objs, "libc.so.6");
	assert_non_null(libc);
	assert_false(libc->is_main);
	assert_int_equal(libc->e_type, ET_DYN);
	assert_true(libc->has_tls);
	assert_true(libc->tls_memsz >= libc->tls_filesz);
	assert_int_equal(kc_buildid_from_file(libc->path, &id, &err), 0);
	assert_true(kc_buildid_equal(&id, &libc->build_id));
	assert_int_equal(kc_obj_dynsym(libc, "printf", NULL, &sym, &err), 0);
	libc_printf = libc->bias + sym.st_value;
	assert_ptr_equal(kc_objs_find_addr(&f->objs, libc_printf), libc);
	if (main_type == ET_DYN) {
		assert_int_equal(libc_printf, f->printf_addr);
	} else {
		/* A non-PIE program's &printf is its own canonical PLT entry. */
		assert_ptr_equal(kc_objs_find_addr(&f->objs, f->printf_addr), prog);
	}

	/* memcpy: default GLIBC_2.14 is the IFUNC, GLIBC_2.2.5 a different (hidden) definition. */
	assert_int_equal(kc_obj_dynsym(libc, "memcpy", NULL, &sym, &err), 0);
	assert_int_equal(GELF_ST_TYPE(sym.st_info), STT_GNU_IFUNC);
	assert_int_equal(kc_obj_dynsym(libc, "memcpy", "GLIBC_2.14", &sym2, &err), 0);
	assert_int_equal(sym2.st_value, sym.st_value);
	assert_int_equal(kc_obj_dynsym(libc, "memcpy", "GLIBC_2.2.5", &sym2, &err), 0);
	assert_int_not_equal(sym2.st_value, sym.st_value);
	assert_int_equal(kc_obj_dynsym(libc, "memcpy", "GLIBC_9.99", &sym2, &err), -ENOENT);
	assert_int_equal(kc_obj_dynsym(libc, "no_such_symbol_kc", NULL, &sym2, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no_such_symbol_kc"));
	/* Undefined entries never match: libc imports _dl_argv... from ld.so. */
	assert_int_equal(kc_obj_dynsym(libc, "_rtld_global", NULL, &sym2, &err), -ENOENT);

	/* ld.so filled memcpy's IRELATIVE slot with an implementation inside libc. */
	assert_int_equal(kc_obj_irelative_slot(libc, sym.st_value, &slot, &err), 0);
	assert_int_equal(tc_read_mem(&f->c.pid, libc->bias + slot, &val, sizeof(val)), 0);
	assert_ptr_equal(kc_objs_find_addr(&f->objs, val), libc);
	assert_int_not_equal(val, libc->bias + sym.st_value);
	assert_int_equal(kc_obj_irelative_slot(libc, 1, &slot, &err), -ENOENT);

	/* libc's own TLS relocations: initial-exec tp offsets, no module id. */
	assert_int_equal(kc_obj_tpoff_slot(libc, &slot, &val, &err), 0);

	/* The program imports printf (and has called it): its GOT slot holds libc's printf. */
	assert_int_equal(kc_obj_import_slot(prog, "printf", &slot, &err), 0);
	assert_int_equal(tc_read_mem(&f->c.pid, prog->bias + slot, &val, sizeof(val)), 0);
	assert_int_equal(val, libc_printf);
	assert_int_equal(kc_obj_import_slot(prog, "strtold", &slot, &err), -ENOENT);

	ld = NULL;
	for (size_t i = 0; i < f->objs.n; i++) {
		if (strstr(f->objs.v[i].path, "ld-linux-x86-64"))
			ld = &f->objs.v[i];
		if (f->objs.v[i].is_vdso)
			vdso = &f->objs.v[i];
	}
	assert_non_null(ld);
	assert_string_equal(ld->soname, "ld-linux-x86-64.so.2");
	assert_int_equal(kc_obj_dynsym(ld, "_rtld_global", NULL, &sym, &err), 0);
	assert_non_null(vdso);
	assert_string_equal(vdso->path, "[vdso]");
	assert_int_equal(kc_obj_dynsym(vdso, "__vdso_clock_gettime", "LINUX_2.6", &sym, &err), 0);
	assert_ptr_equal(kc_objs_find_addr(&f->objs, vdso->bias + sym.st_value), vdso);
	assert_true(vdso->build_id.len > 0);

	/* Address order after the program. */
	for (size_t i = 2; i < f->objs.n; i++)
		assert_true(f->objs.v[i - 1].lo < f->objs.v[i].lo);
}

static void test_objs__finds_objects_of_pie_child(void **state)
{
	struct objs_fixture f;

	(void)state;
	objs_start(&f, "-fpie -pie");
	objs_check_common(&f, ET_DYN);
	assert_int_not_equal(f.objs.v[0].bias, 0);
	objs_stop(&f);
}

static void test_objs__finds_objects_of_non_pie_child(void **state)
{
	struct objs_fixture f;

	(void)state;
	objs_start(&f, "-fno-pie -no-pie");
	objs_check_common(&f, ET_EXEC);
	objs_stop(&f);
}

static void test_objs__reports_gone_process(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct objs_fixture f;
	pid_t pid;

	(void)state;
	objs_start(&f, "");
	kc_objs_release(&f.objs);
	pid = f.c.pid;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	f.c.pid = 0;
	assert_int_equal(kc_objs_read(pid, &f.maps, &f.objs, &err), -ESRCH);
	assert_int_equal(f.objs.n, 0);
	objs_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_objs__finds_objects_of_pie_child),
	    cmocka_unit_test(test_objs__finds_objects_of_non_pie_child),
	    cmocka_unit_test(test_objs__reports_gone_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
