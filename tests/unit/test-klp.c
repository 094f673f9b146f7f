// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kc_klp_convert() on small objects compiled here: which relocations move
 * to which .klp.rela section, the symbols renamed in place (indices kept),
 * relocations against other symbols kept, a module reference from a
 * special section refused with the file left as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

#include "build/klp.h"
#include "kcare/conf.h"
#include "scratch.h"

#define FIX_SRC                                                                                    \
	"extern int hidden_var, mod_var, exported_var;\n"                                          \
	"extern int hidden_func(int);\n"                                                           \
	"extern int exported_func(int);\n"                                                         \
	"int *data_ref = &hidden_var;\n"                                                           \
	"int f(int x)\n"                                                                           \
	"{\n"                                                                                      \
	"\treturn hidden_func(x) + hidden_var + exported_func(x) + mod_var + exported_var;\n"      \
	"}\n"

static const struct kc_klp_ref refs[] = {
    {"hidden_var", "vmlinux", "hidden_var", 0},
    {"hidden_func", "vmlinux", "hidden_func", 3},
    {"mod_var", "somemod", "mod_var", 0},
    {"not_in_the_file", "vmlinux", "not_in_the_file", 0},
};

struct obj_view {
	size_t nsyms;
	char secs[4096]; /* "name:type:flags:nrelas;" for each section */
	char syms[4096]; /* "name@shndx;" for each named symbol */
};

static void view(const char *path, struct obj_view *v)
{
	int fd = open(path, O_RDONLY);
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	assert_true(fd >= 0);
	memset(v, 0, sizeof(*v));
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d = elf_getdata(scn, NULL);
		char one[300];

		gelf_getshdr(scn, &sh);
		snprintf(one, sizeof(one), "%s:%u:%llx:%zu;", elf_strptr(elf, shstrndx, sh.sh_name),
			 sh.sh_type, (unsigned long long)sh.sh_flags,
			 sh.sh_type == SHT_RELA ? (size_t)(sh.sh_size / sizeof(Elf64_Rela)) : 0);
		strcat(v->secs, one);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		v->nsyms = sh.sh_size / sizeof(Elf64_Sym);
		for (size_t i = 1; i < v->nsyms; i++) {
			GElf_Sym s;
			const char *n;

			gelf_getsym(d, (int)i, &s);
			n = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!n || !*n || GELF_ST_TYPE(s.st_info) == STT_FILE)
				continue;
			snprintf(one, sizeof(one), "%s@%x;", n, s.st_shndx);
			strcat(v->syms, one);
		}
	}
	elf_end(elf);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	if (scratch_make("klp") < 0)
		return -1;
	scratch_put("fix.c", FIX_SRC);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return scratch_remove();
}

static void test_klp__moves_unexported_references(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_klp_stats st;
	struct obj_view before, after;
	char **undef;
	size_t n;

	(void)state;
	scratch_run("cc -O2 -fno-pic -mcmodel=kernel -c fix.c -o a.o");
	view(scratch_path("a.o"), &before);
	assert_int_equal(kc_klp_undefined(scratch_path("a.o"), &undef, &n, &err), 0);
	assert_int_equal(n, 5);
	kc_klp_names_free(undef, n);

	assert_int_equal(kc_klp_convert(scratch_path("a.o"), refs, 4, &st, &err), 0);
	assert_int_equal(st.nsyms, 3);
	/* hidden_func, hidden_var, mod_var from .text; hidden_var from .data */
	assert_int_equal(st.nrelas, 4);
	assert_int_equal(st.nsecs, 3);
	view(scratch_path("a.o"), &after);
	assert_int_equal(after.nsyms, before.nsyms);
	assert_non_null(strstr(after.syms, ".klp.sym.vmlinux.hidden_var,0@ff20;"));
	assert_non_null(strstr(after.syms, ".klp.sym.vmlinux.hidden_func,3@ff20;"));
	assert_non_null(strstr(after.syms, ".klp.sym.somemod.mod_var,0@ff20;"));
	assert_non_null(strstr(after.syms, "exported_func@0;"));
	assert_non_null(strstr(after.syms, "exported_var@0;"));
	assert_null(strstr(after.syms, "hidden_func@"));
	/* SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH */
	assert_non_null(strstr(after.secs, ".klp.rela.vmlinux..text:4:100042:2;"));
	assert_non_null(strstr(after.secs, ".klp.rela.somemod..text:4:100042:1;"));
	assert_non_null(strstr(after.secs, ".klp.rela.vmlinux..data:4:100042:1;"));
	assert_non_null(strstr(after.secs, ".rela.text:4:40:2;"));
	assert_non_null(strstr(after.secs, ".rela.data:4:40:0;"));
	/* the result is still an object the toolchain reads */
	scratch_run("readelf -rW a.o | grep -q '\\.klp\\.sym\\.vmlinux\\.hidden_func,3 - 4'");
}

static void test_klp__refuses_module_reference_from_special_section(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char *a = NULL, *b = NULL;
	size_t alen, blen;

	(void)state;
	scratch_put("special.c",
		    "extern int mod_var;\n"
		    "int *p __attribute__((section(\"__jump_table\"), used)) = &mod_var;\n");
	scratch_run("cc -O2 -c special.c -o s.o && cp s.o s.orig");
	assert_int_equal(kc_klp_convert(scratch_path("s.o"), refs, 4, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "somemod's 'mod_var' from section '__jump_table'"));
	assert_int_equal(kc_file_read_all(scratch_path("s.o"), 1 << 20, &a, &alen, &err), 0);
	assert_int_equal(kc_file_read_all(scratch_path("s.orig"), 1 << 20, &b, &blen, &err), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(access(scratch_path("s.o.klp-tmp"), F_OK), -1);
	free(a);
	free(b);
}

static void test_klp__refuses_bad_refs_and_files(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	const struct kc_klp_ref dotted = {"x", "a.b", "x", 0}, comma = {"x", "vmlinux", "x,y", 0};

	(void)state;
	assert_int_equal(kc_klp_check_ref(&dotted, &err), -EINVAL);
	assert_int_equal(kc_klp_check_ref(&comma, &err), -EINVAL);
	scratch_put("text.o", "not an object\n");
	assert_int_equal(kc_klp_convert(scratch_path("text.o"), refs, 1, NULL, &err), -ENOEXEC);
	assert_int_equal(kc_klp_convert(scratch_path("none.o"), refs, 1, NULL, &err), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_klp__moves_unexported_references),
	    cmocka_unit_test(test_klp__refuses_module_reference_from_special_section),
	    cmocka_unit_test(test_klp__refuses_bad_refs_and_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
