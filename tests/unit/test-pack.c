// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kc_pack() on real objects: small C sources compiled with gcc -O2 at
 * test time into a temporary directory (a PIE, an ET_EXEC, a shared
 * library, a stripped target with a debug file; fixes in -fPIC and -fPIE
 * with libc calls, static symbols of the target, TLS in three models, a
 * jump table), then the patch is parsed back and its functions, symbols
 * and relocations checked. Also every refusal the brief lists.
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

#include "build/pack.h"
#include "kcare/patch.h"
#include "scratch.h"

static const char tgt_c[] =
    "#include <stdio.h>\n#include <string.h>\n"
    "static int counter;\n"
    "__thread int tv = 7;\n"
    "__attribute__((noipa)) static int scale(int x) { return x * 3 + counter; }\n"
    "__attribute__((noipa)) int tiny(void) { return 0; }\n"
    "__attribute__((noipa)) int compute(int x) { counter++; return scale(x) + 1; }\n"
    "int main(int argc, char **argv) {\n"
    "  static char buf[4096];\n"
    "  memcpy(buf, argv[0], strlen(argv[0]));\n"
    "  fprintf(stderr, \"x%d\\n\", argc);\n"
    "  printf(\"%d %d %d %d\\n\", compute(argc), tiny(), tv, buf[0]);\n"
    "  return 0;\n}\n";

static const char fix_c[] = "#include <stdio.h>\n#include <string.h>\n"
			    "extern int counter;\n"
			    "int scale(int x);\n"
			    "static char gbuf[64];\n"
			    "__attribute__((noipa)) int newfn(int x) { return x * 5; }\n"
			    "int compute(int x) {\n"
			    "  char buf[32];\n"
			    "  counter += 2;\n"
			    "  memcpy(buf, \"literal string\", (size_t)(x & 7) + 1);\n"
			    "  memcpy(gbuf, gbuf + 32, (size_t)x);\n"
			    "  buf[(x & 7) + 1] = 0;\n"
			    "  fprintf(stderr, \"fix %s %zu\\n\", buf, strlen(buf));\n"
			    "  switch (x) {\n"
			    "  case 0: return scale(1);\n"
			    "  case 1: return newfn(2) + 3;\n"
			    "  case 2: return puts(\"two\");\n"
			    "  case 3: return scale(x) * 7;\n"
			    "  case 4: return newfn(x) - 1;\n"
			    "  case 5: return (int)strlen(buf) + 9;\n"
			    "  case 6: return counter * 11;\n"
			    "  case 7: return puts(\"seven\") + 2;\n"
			    "  }\n"
			    "  return scale(x) + newfn(x);\n}\n";

#define CFLAGS_FIX "gcc -O2 -fPIC -ffunction-sections -fdata-sections -c"

static int group_setup(void **state)
{
	(void)state;
	if (scratch_make("pack") < 0)
		return -1;
	scratch_put("tgt.c", tgt_c);
	scratch_put("fix.c", fix_c);
	scratch_run("gcc -O2 -fPIE -pie -o tgt tgt.c && " CFLAGS_FIX " fix.c -o fix.o");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return scratch_remove();
}

/* st_value, st_size and the first bytes of @name in @file, read independently of kc_target. */
static void elf_sym(const char *file, const char *name, uint64_t *value, uint64_t *size,
		    uint8_t *bytes, size_t n)
{
	int fd = open(file, O_RDONLY);
	Elf *elf;
	Elf_Scn *scn = NULL;
	int found = 0;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; i < sh.sh_size / sizeof(Elf64_Sym); i++) {
			GElf_Sym s;

			gelf_getsym(d, (int)i, &s);
			if (strcmp(elf_strptr(elf, sh.sh_link, s.st_name), name) || !s.st_shndx)
				continue;
			*value = s.st_value;
			*size = s.st_size;
			found = 1;
		}
	}
	assert_true(found);
	scn = NULL;
	while (bytes && (scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type == SHT_PROGBITS && *value >= sh.sh_addr &&
		    *value < sh.sh_addr + sh.sh_size)
			assert_int_equal(
			    pread(fd, bytes, n, (off_t)(sh.sh_offset + *value - sh.sh_addr)),
			    (ssize_t)n);
	}
	elf_end(elf);
	close(fd);
}

static struct kc_patch *pack_ok(const char *target, const char *obj, const char *debug_dir,
				struct kc_pack_summary *sum)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_pack_opts o = {.target = scratch_path(target),
				 .object = scratch_path(obj),
				 .output = scratch_path("out.kcp"),
				 .debug_dir = debug_dir};
	struct kc_pack_summary s;
	struct kc_patch *p = NULL;

	if (kc_pack(&o, sum ? sum : &s, &err) < 0)
		fail_msg("kc_pack: %s", err.msg);
	if (kc_patch_read_file(o.output, &p, &err) < 0)
		fail_msg("read back: %s", err.msg);
	return p;
}

static void pack_fails_dbg(const char *target, const char *obj, const char *debug_dir,
			   const char *msg)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_pack_opts o = {.target = scratch_path(target),
				 .object = scratch_path(obj),
				 .output = scratch_path("fail.kcp"),
				 .debug_dir = debug_dir ? scratch_path(debug_dir) : NULL};

	assert_true(kc_pack(&o, NULL, &err) < 0);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' lacks '%s'", err.msg, msg);
	assert_int_equal(access(o.output, F_OK), -1);
}

static void pack_fails(const char *target, const char *obj, const char *msg)
{
	pack_fails_dbg(target, obj, NULL, msg);
}

static const struct kc_patch_sym *find_sym(const struct kc_patch *p, const char *name,
					   uint32_t *idx)
{
	for (size_t i = 0; i < p->nsyms; i++)
		if (!strcmp(p->syms[i].name, name)) {
			if (idx)
				*idx = (uint32_t)i;
			return &p->syms[i];
		}
	fail_msg("no symbol '%s' in patch", name);
	return NULL;
}

static const struct kc_patch_reloc *find_reloc(const struct kc_patch *p, enum kc_pf_rel_type type,
					       const char *sym)
{
	uint32_t idx = 0;

	find_sym(p, sym, &idx);
	for (size_t i = 0; i < p->nrelocs; i++)
		if (p->relocs[i].type == type && p->relocs[i].sym == idx)
			return &p->relocs[i];
	fail_msg("no relocation of type %d against '%s'", type, sym);
	return NULL;
}

/* The stub `jmp *slot(%rip)` that goes through the GOT slot at @slot. */
static int has_stub(const struct kc_patch *p, uint64_t slot)
{
	for (uint64_t off = 0; off + 8 <= p->text_size; off += 8) {
		int32_t rel;

		memcpy(&rel, p->image + off + 2, 4);
		if (p->image[off] == 0xff && p->image[off + 1] == 0x25 &&
		    (int64_t)off + 6 + rel == (int64_t)slot)
			return 1;
	}
	return 0;
}

static void test_pack__pie_target_with_libc_and_statics(void **state)
{
	struct kc_pack_summary sum;
	struct kc_patch *p;
	uint64_t v, sz, fv;
	uint8_t orig[16];
	const struct kc_patch_sym *s;
	const struct kc_patch_reloc *r;
	int table = 0;

	(void)state;
	p = pack_ok("tgt", "fix.o", NULL, &sum);
	assert_int_equal(sum.nreplaced, 1);
	assert_int_equal(sum.nnew, 1);
	assert_string_equal(sum.id, "fix");
	assert_string_equal(p->target_name, "tgt");
	assert_int_equal(p->flags, 0);
	assert_int_equal(p->level, 1);
	/* the replaced function: target value, size and entry bytes from the file */
	elf_sym(scratch_path("tgt"), "compute", &v, &sz, orig, sizeof(orig));
	assert_int_equal(p->nfuncs, 1);
	assert_string_equal(p->funcs[0].name, "compute");
	assert_int_equal(p->funcs[0].target_value, v);
	assert_int_equal(p->funcs[0].target_size, sz);
	assert_int_equal(p->funcs[0].orig_len, sz < 16 ? sz : 16);
	assert_memory_equal(p->funcs[0].orig, orig, p->funcs[0].orig_len);
	/* static variable and static function of the target, via .symtab */
	elf_sym(scratch_path("tgt"), "counter", &v, &sz, NULL, 0);
	s = find_sym(p, "counter", NULL);
	assert_int_equal(s->kind, KC_PF_SYM_TARGET);
	assert_int_equal(s->value, v);
	r = find_reloc(p, KC_PF_R_ABS64, "counter"); /* GOTPCREL: a slot in rodata */
	assert_true(r->offset >= p->rodata_off && r->offset < p->rodata_off + p->rodata_size);
	elf_sym(scratch_path("tgt"), "scale", &v, &sz, NULL, 0);
	s = find_sym(p, "scale", NULL);
	assert_int_equal(s->kind, KC_PF_SYM_TARGET);
	assert_int_equal(s->flags, KC_PF_SYMF_FUNC);
	assert_int_equal(s->value, v);
	r = find_reloc(p, KC_PF_R_PC32, "scale");
	assert_true(r->offset < p->text_size);
	/* libc calls: extern, versioned like the target's imports, through stubs */
	s = find_sym(p, "fprintf", NULL);
	assert_int_equal(s->kind, KC_PF_SYM_EXTERN);
	assert_string_equal(s->version, "GLIBC_2.2.5");
	assert_true(s->flags & KC_PF_SYMF_FUNC);
	assert_true(has_stub(p, find_reloc(p, KC_PF_R_ABS64, "fprintf")->offset));
	assert_string_equal(find_sym(p, "memcpy", NULL)->version, "GLIBC_2.14");
	assert_true(has_stub(p, find_reloc(p, KC_PF_R_ABS64, "memcpy")->offset));
	assert_true(has_stub(p, find_reloc(p, KC_PF_R_ABS64, "strlen")->offset));
	assert_string_equal(find_sym(p, "puts", NULL)->version,
			    ""); /* the target does not import it */
	/* stderr: data through a GOT slot, no stub */
	s = find_sym(p, "stderr", NULL);
	assert_int_equal(s->kind, KC_PF_SYM_EXTERN);
	assert_false(s->flags & KC_PF_SYMF_FUNC);
	assert_false(has_stub(p, find_reloc(p, KC_PF_R_ABS64, "stderr")->offset));
	/* string literals are in rodata */
	assert_non_null(memmem(p->image + p->rodata_off, p->rodata_size, "literal string", 15));
	assert_true(p->bss_size >= 64); /* gbuf */
	assert_non_null(memmem(p->image + p->rodata_off, p->rodata_size, "seven", 6));
	/* the jump table: eight entries, each table-relative into compute */
	fv = p->funcs[0].image_off;
	for (uint64_t t = p->rodata_off; t + 32 <= p->rodata_off + p->rodata_size; t += 4) {
		int ok = 1;

		for (int k = 0; k < 8; k++) {
			int32_t e;

			memcpy(&e, p->image + t + 4 * k, 4);
			ok &= (int64_t)t + e > (int64_t)fv &&
			      (int64_t)t + e < (int64_t)(fv + p->funcs[0].image_size);
		}
		table |= ok;
	}
	assert_true(table);
	kc_patch_free(p);
}

static void test_pack__shared_library_and_exec_targets(void **state)
{
	struct kc_pack_summary sum;
	struct kc_patch *p;
	uint64_t v, sz;

	(void)state;
	scratch_run("gcc -O2 -fPIC -shared -Wl,-soname,libtgt.so.1 -o libtgt.so tgt.c && "
		    "gcc -O2 -no-pie -fno-pie -o tgt-exec tgt.c");
	p = pack_ok("libtgt.so", "fix.o", NULL, &sum);
	assert_string_equal(p->target_name, "libtgt.so.1");
	assert_string_equal(sum.target_name, "libtgt.so.1");
	assert_int_equal(p->flags, 0);
	elf_sym(scratch_path("libtgt.so"), "compute", &v, &sz, NULL, 0);
	assert_int_equal(p->funcs[0].target_value, v);
	kc_patch_free(p);
	p = pack_ok("tgt-exec", "fix.o", NULL, NULL);
	assert_int_equal(p->flags, KC_PF_F_TARGET_EXEC);
	elf_sym(scratch_path("tgt-exec"), "counter", &v, &sz, NULL, 0);
	assert_int_equal(find_sym(p, "counter", NULL)->value, v);
	kc_patch_free(p);
}

static void test_pack__stripped_target_with_debug_file(void **state)
{
	struct kc_patch *p;
	uint64_t v, sz;
	char hex[2 * KC_BUILDID_MAX + 1];

	(void)state;
	p = pack_ok("tgt", "fix.o", NULL, NULL);
	kc_buildid_to_hex(&p->build_id, hex, sizeof(hex));
	kc_patch_free(p);
	elf_sym(scratch_path("tgt"), "counter", &v, &sz, NULL, 0);
	scratch_run("cp tgt tgt-stripped && objcopy --only-keep-debug tgt tgt.debug && "
		    "strip tgt-stripped && mkdir -p dbg/.build-id/%.2s && mv tgt.debug "
		    "dbg/.build-id/%.2s/%s.debug",
		    hex, hex, hex + 2);
	p = pack_ok("tgt-stripped", "fix.o", scratch_path("dbg"), NULL);
	assert_int_equal(find_sym(p, "counter", NULL)->kind, KC_PF_SYM_TARGET);
	assert_int_equal(find_sym(p, "counter", NULL)->value, v);
	assert_int_equal(find_sym(p, "scale", NULL)->kind, KC_PF_SYM_TARGET);
	assert_string_equal(p->funcs[0].name, "compute");
	kc_patch_free(p);
	/* without the debug file a stripped PIE has no 'compute' to replace */
	pack_fails_dbg("tgt-stripped", "fix.o", "nodbg", "replaces a function of");
	/* a stripped library still exports 'compute', but its static variable is unknown */
	scratch_run("gcc -O2 -fPIC -shared -o libs.so tgt.c && strip libs.so");
	p = pack_ok("libs.so", "fix.o", scratch_path("nodbg"), NULL);
	assert_int_equal(find_sym(p, "counter", NULL)->kind, KC_PF_SYM_EXTERN);
	kc_patch_free(p);
}

static void test_pack__tls_models(void **state)
{
	struct kc_patch *p;
	const struct kc_patch_reloc *r;
	uint64_t v, sz, val;

	(void)state;
	scratch_put("tls-gd.c", "extern __thread int tv;\nint compute(int x) { return tv + x; }\n");
	scratch_put("tls-ie.c",
		    "extern __thread int tv __attribute__((tls_model(\"initial-exec\")));\n"
		    "int compute(int x) { return tv * x; }\n");
	scratch_put("tls-le.c",
		    "extern __thread int tv __attribute__((tls_model(\"local-exec\")));\n"
		    "int compute(int x) { return tv - x; }\n");
	scratch_run(CFLAGS_FIX " tls-gd.c && " CFLAGS_FIX " tls-ie.c && "
			       "gcc -O2 -fPIE -ffunction-sections -fdata-sections -c tls-le.c");
	elf_sym(scratch_path("tgt"), "tv", &v, &sz, NULL, 0);
	/* general dynamic: module id slot + constant offset, __tls_get_addr via a stub */
	p = pack_ok("tgt", "tls-gd.o", NULL, NULL);
	assert_int_equal(find_sym(p, "tv", NULL)->kind, KC_PF_SYM_TARGET);
	assert_int_equal(find_sym(p, "tv", NULL)->flags, KC_PF_SYMF_TLS);
	r = find_reloc(p, KC_PF_R_DTPMOD64, "tv");
	assert_int_equal(r->offset % 16, 0);
	memcpy(&val, p->image + r->offset + 8, 8);
	assert_int_equal(val, v);
	assert_true(has_stub(p, find_reloc(p, KC_PF_R_ABS64, "__tls_get_addr")->offset));
	kc_patch_free(p);
	/* initial exec: a TPOFF64 GOT slot */
	p = pack_ok("tgt", "tls-ie.o", NULL, NULL);
	r = find_reloc(p, KC_PF_R_TPOFF64, "tv");
	assert_true(r->offset >= p->rodata_off && r->addend == 0);
	kc_patch_free(p);
	/* local exec: the field in the code itself */
	p = pack_ok("tgt", "tls-le.o", NULL, NULL);
	r = find_reloc(p, KC_PF_R_TPOFF32, "tv");
	assert_true(r->offset < p->text_size);
	kc_patch_free(p);
}

/*
 * Data a library exports may live in the program (a copy): such references are marked for the
 * engine to bind per process, with the definition's version; what nothing can interpose is not.
 */
static void test_pack__exported_data_interposable(void **state)
{
	struct kc_patch *p;
	const struct kc_patch_sym *s;
	uint64_t v, sz;

	(void)state;
	scratch_put("vars.c", "int exp_var = 1;\n"
			      "__attribute__((visibility(\"protected\"))) int prot_var = 2;\n"
			      "__attribute__((visibility(\"hidden\"))) int hid_var = 3;\n"
			      "static int st_var = 4;\n"
			      "__thread int tls_var;\n"
			      "__attribute__((noipa)) int get(void)\n"
			      "{ return exp_var + prot_var + hid_var + st_var++ + tls_var; }\n"
			      "int main(void) { return get(); }\n");
	scratch_put("vars.map", "V_1 { global: exp_var; prot_var; tls_var; get; local: *; };\n");
	scratch_put("vars-fix.c",
		    "extern int exp_var, prot_var, hid_var, st_var;\n"
		    "extern __thread int tls_var;\n"
		    "int get(void)\n"
		    "{ return 2 * exp_var + prot_var + hid_var + st_var + tls_var; }\n");
	scratch_run("gcc -O2 -fPIC -shared -Wl,--version-script=vars.map -o libvars.so vars.c && "
		    "gcc -O2 -fPIC -shared -Wl,-Bsymbolic -o libsymb.so vars.c && "
		    "gcc -O2 -fPIE -pie -rdynamic -o vars vars.c && " CFLAGS_FIX " vars-fix.c");
	p = pack_ok("libvars.so", "vars-fix.o", NULL, NULL);
	elf_sym(scratch_path("libvars.so"), "exp_var", &v, &sz, NULL, 0);
	s = find_sym(p, "exp_var", NULL);
	assert_int_equal(s->kind, KC_PF_SYM_TARGET);
	assert_int_equal(s->flags, KC_PF_SYMF_INTERPOSE);
	assert_string_equal(s->version, "V_1");
	assert_int_equal(s->value, v);
	find_reloc(p, KC_PF_R_ABS64, "exp_var"); /* through a GOT slot */
	/* protected, hidden, static, thread-local: the library's own */
	assert_int_equal(find_sym(p, "prot_var", NULL)->flags, 0);
	assert_int_equal(find_sym(p, "hid_var", NULL)->flags, 0);
	assert_int_equal(find_sym(p, "st_var", NULL)->flags, 0);
	assert_int_equal(find_sym(p, "tls_var", NULL)->flags, KC_PF_SYMF_TLS);
	assert_string_equal(find_sym(p, "prot_var", NULL)->version, "");
	kc_patch_free(p);
	/* an object linked with -Bsymbolic, and a program, bind their own */
	p = pack_ok("libsymb.so", "vars-fix.o", NULL, NULL);
	assert_int_equal(find_sym(p, "exp_var", NULL)->flags, 0);
	kc_patch_free(p);
	p = pack_ok("vars", "vars-fix.o", NULL, NULL);
	assert_int_equal(find_sym(p, "exp_var", NULL)->flags, 0);
	assert_string_equal(find_sym(p, "exp_var", NULL)->version, "");
	kc_patch_free(p);
}

static void test_pack__refusals(void **state)
{
	(void)state;
	scratch_put("short.c", "int tiny(void) { return 1; }\n");
	scratch_put("none.c", "int unrelated(int x) { return x; }\n");
	scratch_put("tdata.c", "__thread int mine = 3;\nint compute(int x) { return mine + x; }\n");
	scratch_put("abs32.c", "int table[4];\nint compute(int x) { return table[x & 3]; }\n");
	scratch_put("amb1.c", "static int counter;\n__attribute__((noipa)) int f1(void) "
			      "{ return counter++; }\n");
	scratch_put("amb2.c", "static int counter;\n__attribute__((noipa)) int compute(int x) "
			      "{ return counter += x; }\nint f1(void);\nint main(void) "
			      "{ return f1() + compute(2); }\n");
	scratch_run(
	    CFLAGS_FIX
	    " short.c && " CFLAGS_FIX " none.c && " CFLAGS_FIX " tdata.c && "
	    "gcc -O2 -fno-pic -mcmodel=small -ffunction-sections -fdata-sections -c abs32.c && "
	    "gcc -O2 -fPIE -pie -o amb amb1.c amb2.c && "
	    "gcc -O2 -fPIE -pie -Wl,--build-id=none -o noid tgt.c && "
	    "gcc -O2 -fPIE -pie -falign-functions=1 -o tight tgt.c && "
	    "cp fix.o arm.o && printf '\\267\\000' | dd of=arm.o bs=1 seek=18 conv=notrunc "
	    "2>/dev/null");
	/* no alignment padding after tiny(): compute() follows at once */
	pack_fails("tight", "short.o",
		   "function 'tiny' is too short for the entry jump (3 < 5 bytes): it is followed "
		   "by symbol 'compute' at +3");
	pack_fails("tgt", "none.o", "replaces a function of");
	pack_fails("tgt", "tdata.o", "new thread-local variables are not supported");
	pack_fails("tgt", "abs32.o", "unsupported relocation R_X86_64_32");
	pack_fails("tgt", "abs32.o", "(compile the fix with -fPIC)");
	pack_fails("amb", "fix.o", "ambiguous static symbol 'counter' in target (2 definitions)");
	pack_fails("noid", "fix.o", "has no GNU build-id");
	pack_fails("tgt", "arm.o", "wrong architecture");
	pack_fails("tgt", "missing.o", "cannot open");
	pack_fails("fix.o", "fix.o", "not an executable or a shared object");
}

/* A function shorter than the jump, followed by padding: the entry takes 5 bytes. */
static void test_pack__short_function_takes_padding(void **state)
{
	struct kc_patch *p;
	uint64_t v, sz;
	uint8_t orig[5];

	(void)state;
	scratch_put("short.c", "int tiny(void) { return 1; }\n");
	scratch_run(CFLAGS_FIX " short.c");
	elf_sym(scratch_path("tgt"), "tiny", &v, &sz, orig, sizeof(orig));
	assert_true(sz < 5);
	p = pack_ok("tgt", "short.o", NULL, NULL);
	assert_int_equal(p->nfuncs, 1);
	assert_int_equal(p->funcs[0].target_value, v);
	assert_int_equal(p->funcs[0].target_size, 5);
	assert_int_equal(p->funcs[0].orig_len, 5);
	assert_memory_equal(p->funcs[0].orig, orig, 5);
	kc_patch_free(p);
}

/* A fix of an IFUNC replaces each implementation its resolver returns; a loaded one is refused. */
static void test_pack__ifunc_implementations(void **state)
{
	struct kc_patch *p;
	const char *a, *b;

	(void)state;
	scratch_put("ifn.c", "#include <stdlib.h>\n"
			     "__attribute__((noipa)) static int pick_one(int x) { return x + 1; }\n"
			     "__attribute__((noipa)) static int pick_two(int x) { return x + 2; }\n"
			     "static int (*resolve_pick(void))(int)\n"
			     "{ return getenv(\"TWO\") ? pick_two : pick_one; }\n"
			     "int pick(int) __attribute__((ifunc(\"resolve_pick\")));\n"
			     "int (*volatile impl)(int) = pick_one;\n"
			     "static int (*resolve_loaded(void))(int) { return impl; }\n"
			     "int loaded(int) __attribute__((ifunc(\"resolve_loaded\")));\n");
	scratch_put("ifn-fix.c", "int FN(int x) { return x * 7; }\n");
	scratch_run("gcc -O2 -fPIC -shared -o libifn.so ifn.c && " CFLAGS_FIX
		    " -DFN=pick -o ifn-pick.o ifn-fix.c && " CFLAGS_FIX
		    " -DFN=loaded -o ifn-loaded.o ifn-fix.c");
	p = pack_ok("libifn.so", "ifn-pick.o", NULL, NULL);
	assert_int_equal(p->nfuncs, 2);
	a = p->funcs[0].name;
	b = p->funcs[1].name;
	assert_true((!strcmp(a, "pick_one") && !strcmp(b, "pick_two")) ||
		    (!strcmp(a, "pick_two") && !strcmp(b, "pick_one")));
	assert_int_equal(p->funcs[0].image_off, p->funcs[1].image_off);
	kc_patch_free(p);
	pack_fails(
	    "libifn.so", "ifn-loaded.o",
	    "'loaded' is an IFUNC in libifn.so: its resolver may return an address it loads");
}

static void test_pack__default_id(void **state)
{
	char id[64];

	(void)state;
	kc_pack_default_id("/a/b/fix-CVE 1+2.o", id, sizeof(id));
	assert_string_equal(id, "fix-CVE_1_2");
	kc_pack_default_id(".o", id, sizeof(id));
	assert_string_equal(id, ".o");
	kc_pack_default_id("dir/", id, sizeof(id));
	assert_string_equal(id, "patch");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pack__pie_target_with_libc_and_statics),
	    cmocka_unit_test(test_pack__shared_library_and_exec_targets),
	    cmocka_unit_test(test_pack__stripped_target_with_debug_file),
	    cmocka_unit_test(test_pack__tls_models),
	    cmocka_unit_test(test_pack__exported_data_interposable),
	    cmocka_unit_test(test_pack__refusals),
	    cmocka_unit_test(test_pack__short_function_takes_padding),
	    cmocka_unit_test(test_pack__ifunc_implementations),
	    cmocka_unit_test(test_pack__default_id),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
