// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Patch file reader and writer: write -> parse round trip, atomic file
 * writing, and one crafted file per validation failure of the parser,
 * plus every truncation of a valid file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <elf.h>
#include <unistd.h>
#include <cmocka.h>

#include "kcare/patch.h"
#include "lib/patchfile.h"

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

/* A small but complete patch: two functions, three symbols, five relocations. */
static struct kc_patch *make_patch(void)
{
	struct kc_patch *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->id = xstrdup("test-1.fix");
	p->level = 2;
	p->description = xstrdup("a test patch");
	p->ncves = 2;
	p->cves = calloc(2, sizeof(char *));
	p->cves[0] = xstrdup("CVE-2024-1234");
	p->cves[1] = xstrdup("CVE-2023-99999");
	p->target_name = xstrdup("libfoo.so.1");
	p->target_path = xstrdup("/usr/lib/libfoo.so.1");
	p->build_id.len = 20;
	for (int i = 0; i < 20; i++)
		p->build_id.bytes[i] = (uint8_t)(i * 7 + 1);
	p->created = 1700000000;
	p->machine = kc_patch_host_machine();
	p->flags = KC_PF_F_TARGET_EXEC;
	p->text_size = 0x40;
	p->rodata_off = 0x1000;
	p->rodata_size = 16;
	p->data_off = 0x2000;
	p->data_size = 8;
	p->bss_off = 0x2010;
	p->bss_size = 0x20;
	p->image_size = 0x3000;
	p->image = calloc(1, p->image_size);
	memset(p->image, 0x90, p->text_size);
	memcpy(p->image + 0x1000, "hello, world!", 14);
	p->image[0x2000] = 0x42;
	p->nfuncs = 2;
	p->funcs = calloc(2, sizeof(*p->funcs));
	p->funcs[0] = (struct kc_patch_func){xstrdup("foo"), 0x1130, 40, 0, 0x20, 16, {0}};
	memcpy(p->funcs[0].orig, "\xf3\x0f\x1e\xfa\x55\x48\x89\xe5\x01\x02\x03\x04\x05\x06\x07\x08",
	       16);
	p->funcs[1] = (struct kc_patch_func){xstrdup("bar"), 0x1180, 6, 0x20, 0x20, 6, {0}};
	memcpy(p->funcs[1].orig, "\x31\xc0\xc3\x90\x90\x90", 6);
	p->nsyms = 3;
	p->syms = calloc(3, sizeof(*p->syms));
	p->syms[0] =
	    (struct kc_patch_sym){xstrdup("counter"), xstrdup(""), KC_PF_SYM_TARGET, 0, 0x4010, 4};
	p->syms[1] = (struct kc_patch_sym){
	    xstrdup("memcpy"), xstrdup("GLIBC_2.14"), KC_PF_SYM_EXTERN, KC_PF_SYMF_FUNC, 0, 0};
	p->syms[2] = (struct kc_patch_sym){xstrdup("tlsvar"),
					   xstrdup(""),
					   KC_PF_SYM_EXTERN,
					   KC_PF_SYMF_TLS | KC_PF_SYMF_WEAK,
					   0,
					   0};
	p->nrelocs = 5;
	p->relocs = calloc(5, sizeof(*p->relocs));
	p->relocs[0] = (struct kc_patch_reloc){0x1008, KC_PF_R_IMAGE64, KC_PF_NOSYM, 0x20};
	p->relocs[1] = (struct kc_patch_reloc){0x2000, KC_PF_R_ABS64, 1, 0};
	p->relocs[2] = (struct kc_patch_reloc){0x4, KC_PF_R_PC32, 0, -4};
	p->relocs[3] = (struct kc_patch_reloc){0x2008, KC_PF_R_TPOFF64, 2, 0};
	p->relocs[4] = (struct kc_patch_reloc){0x24, KC_PF_R_TPOFF32, 2, 8};
	return p;
}

static void serialize(const struct kc_patch *p, uint8_t **buf, size_t *len)
{
	struct kc_err err = KC_ERR_INIT;

	if (kc_patch_serialize(p, NULL, 0, buf, len, &err) < 0)
		fail_msg("serialize: %s", err.msg);
}

static Elf64_Shdr *find_sec(uint8_t *buf, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);
	const char *shstr = (const char *)buf + sh[eh->e_shstrndx].sh_offset;

	for (unsigned i = 0; i < eh->e_shnum; i++)
		if (!strcmp(shstr + sh[i].sh_name, name))
			return &sh[i];
	fail_msg("no section %s", name);
	return NULL;
}

static struct kc_pf_meta *meta_of(uint8_t *buf)
{
	return (struct kc_pf_meta *)(buf + find_sec(buf, KC_PF_SEC_META)->sh_offset);
}

static void expect_fail(const uint8_t *buf, size_t len, int code, const char *msg)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patch *p = (struct kc_patch *)buf;

	assert_int_equal(kc_patch_parse(buf, len, &p, &err), code);
	assert_null(p);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' lacks '%s'", err.msg, msg);
}

static void assert_patch_equal(const struct kc_patch *a, const struct kc_patch *b)
{
	assert_string_equal(a->id, b->id);
	assert_int_equal(a->level, b->level);
	assert_string_equal(a->description, b->description);
	assert_int_equal(a->ncves, b->ncves);
	for (size_t i = 0; i < a->ncves; i++)
		assert_string_equal(a->cves[i], b->cves[i]);
	assert_string_equal(a->target_name, b->target_name);
	assert_string_equal(a->target_path, b->target_path);
	assert_true(kc_buildid_equal(&a->build_id, &b->build_id));
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->machine, b->machine);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->image_size, b->image_size);
	assert_memory_equal(a->image, b->image, a->image_size);
	assert_int_equal(a->text_size, b->text_size);
	assert_int_equal(a->rodata_off, b->rodata_off);
	assert_int_equal(a->rodata_size, b->rodata_size);
	assert_int_equal(a->data_off, b->data_off);
	assert_int_equal(a->data_size, b->data_size);
	assert_int_equal(a->bss_off, b->bss_off);
	assert_int_equal(a->bss_size, b->bss_size);
	assert_int_equal(a->nfuncs, b->nfuncs);
	for (size_t i = 0; i < a->nfuncs; i++) {
		assert_string_equal(a->funcs[i].name, b->funcs[i].name);
		assert_int_equal(a->funcs[i].target_value, b->funcs[i].target_value);
		assert_int_equal(a->funcs[i].target_size, b->funcs[i].target_size);
		assert_int_equal(a->funcs[i].image_off, b->funcs[i].image_off);
		assert_int_equal(a->funcs[i].image_size, b->funcs[i].image_size);
		assert_int_equal(a->funcs[i].orig_len, b->funcs[i].orig_len);
		assert_memory_equal(a->funcs[i].orig, b->funcs[i].orig, KC_PF_ENTRY_MAX);
	}
	assert_int_equal(a->nsyms, b->nsyms);
	for (size_t i = 0; i < a->nsyms; i++) {
		assert_string_equal(a->syms[i].name, b->syms[i].name);
		assert_string_equal(a->syms[i].version, b->syms[i].version);
		assert_int_equal(a->syms[i].kind, b->syms[i].kind);
		assert_int_equal(a->syms[i].flags, b->syms[i].flags);
		assert_int_equal(a->syms[i].value, b->syms[i].value);
		assert_int_equal(a->syms[i].size, b->syms[i].size);
	}
	assert_int_equal(a->nrelocs, b->nrelocs);
	for (size_t i = 0; i < a->nrelocs; i++) {
		assert_int_equal(a->relocs[i].offset, b->relocs[i].offset);
		assert_int_equal(a->relocs[i].type, b->relocs[i].type);
		assert_int_equal(a->relocs[i].sym, b->relocs[i].sym);
		assert_int_equal(a->relocs[i].addend, b->relocs[i].addend);
	}
}

static void test_patchfile__round_trip(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patch *p = make_patch(), *q = NULL;
	uint8_t *buf, *buf2;
	size_t len, len2;

	(void)state;
	serialize(p, &buf, &len);
	assert_int_equal(kc_patch_parse(buf, len, &q, &err), 0);
	assert_patch_equal(p, q);
	/* the writer is deterministic: parse -> serialize gives the same bytes */
	serialize(q, &buf2, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf);
	free(buf2);
	kc_patch_free(q);
	kc_patch_free(p);
}

/* Exported data of the target, bound per process: a TARGET symbol with a version. */
static void test_patchfile__interposable_target_data(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patch *p = make_patch(), *q = NULL;
	uint8_t *buf;
	size_t len;

	(void)state;
	p->syms[0].flags = KC_PF_SYMF_INTERPOSE;
	free(p->syms[0].version);
	p->syms[0].version = xstrdup("LIB_1.0");
	serialize(p, &buf, &len);
	assert_int_equal(kc_patch_parse(buf, len, &q, &err), 0);
	assert_patch_equal(p, q);
	assert_int_equal(q->syms[0].flags, KC_PF_SYMF_INTERPOSE);
	assert_string_equal(q->syms[0].version, "LIB_1.0");
	free(buf);
	kc_patch_free(q);
	kc_patch_free(p);
}

static void test_patchfile__write_read_file_atomic(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patch *p = make_patch(), *q = NULL;
	char dir[] = "/tmp/kc-test-patchfile.XXXXXX", path[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.kcp", dir);
	assert_int_equal(kc_patch_write_file(p, path, &err), 0);
	/* overwrite in place: still one file, no temporary left behind */
	assert_int_equal(kc_patch_write_file(p, path, &err), 0);
	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.' || strncmp(de->d_name, ".x.kcp", 6) == 0;
	closedir(d);
	assert_int_equal(n, 1);
	assert_int_equal(kc_patch_read_file(path, &q, &err), 0);
	assert_patch_equal(p, q);
	kc_patch_free(q);
	unlink(path);
	assert_int_equal(kc_patch_read_file(path, &q, &err), -ENOENT);
	snprintf(path, sizeof(path), "%s/nodir/x.kcp", dir);
	assert_true(kc_patch_write_file(p, path, &err) < 0);
	rmdir(dir);
	kc_patch_free(p);
}

static void test_patchfile__truncation_at_every_length(void **state)
{
	struct kc_patch *p = make_patch();
	uint8_t *buf;
	size_t len;

	(void)state;
	serialize(p, &buf, &len);
	for (size_t n = 0; n < len; n++) {
		/* a fresh copy of exactly n bytes, so ASan sees any read past it */
		uint8_t *cut = malloc(n ? n : 1);

		memcpy(cut, buf, n);
		expect_fail(cut, n, -ENOEXEC, n < 4 ? "not an ELF" : "");
		free(cut);
	}
	free(buf);
	kc_patch_free(p);
}

/* Each mutation of a valid file and the message it must produce. */
typedef void (*mutate_fn)(uint8_t *buf, size_t len);

#define MUT(name, body)                                                                            \
	static void mut_##name(uint8_t *buf, size_t len)                                           \
	{                                                                                          \
		Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;                                                \
		struct kc_pf_meta *m = meta_of(buf);                                               \
		(void)eh;                                                                          \
		(void)m;                                                                           \
		(void)len;                                                                         \
		body;                                                                              \
	}

static struct kc_pf_func *func0(uint8_t *buf)
{
	return (struct kc_pf_func *)(buf + find_sec(buf, KC_PF_SEC_FUNCS)->sh_offset);
}

static struct kc_pf_sym *sym0(uint8_t *buf)
{
	return (struct kc_pf_sym *)(buf + find_sec(buf, KC_PF_SEC_SYMS)->sh_offset);
}

static struct kc_pf_reloc *rel0(uint8_t *buf)
{
	return (struct kc_pf_reloc *)(buf + find_sec(buf, KC_PF_SEC_RELOCS)->sh_offset);
}

MUT(magic, buf[1] = 'X')
MUT(class, buf[EI_CLASS] = ELFCLASS32)
MUT(type, eh->e_type = ET_EXEC)
MUT(phnum, eh->e_phnum = 1)
MUT(shnum0, eh->e_shnum = 0)
MUT(shnum_big, eh->e_shnum = 200)
MUT(shstrndx, eh->e_shstrndx = 99)
MUT(shoff, eh->e_shoff = len - 10)
MUT(sec0, ((Elf64_Shdr *)(buf + eh->e_shoff))[0].sh_size = 1)
MUT(shstrtab_oob, find_sec(buf, ".shstrtab")->sh_size = 1u << 30)
MUT(shname, find_sec(buf, KC_PF_SEC_SYMS)->sh_name = 1u << 20)
MUT(out_of_bounds, find_sec(buf, KC_PF_SEC_FUNCS)->sh_offset = ~0ull - 8)
MUT(overlap,
    find_sec(buf, KC_PF_SEC_SYMS)->sh_offset = find_sec(buf, KC_PF_SEC_FUNCS)->sh_offset + 8)
MUT(overlap_header, find_sec(buf, KC_PF_SEC_STRTAB)->sh_offset = 8)
MUT(duplicate, find_sec(buf, KC_PF_SEC_SYMS)->sh_name = find_sec(buf, KC_PF_SEC_FUNCS)->sh_name)
MUT(missing, find_sec(buf, KC_PF_SEC_RELOCS)->sh_name = find_sec(buf, ".symtab")->sh_name)
MUT(wrong_type, find_sec(buf, KC_PF_SEC_FUNCS)->sh_type = SHT_NOBITS)
MUT(meta_size, find_sec(buf, KC_PF_SEC_META)->sh_size = 200)
MUT(meta_magic, m->magic[0] = 'k')
MUT(version, m->version = 3)
MUT(wrong_arch, m->machine = EM_AARCH64; eh->e_machine = EM_AARCH64)
MUT(machine_mismatch, m->machine = EM_AARCH64)
MUT(reserved, m->reserved[31] = 1)
MUT(v1_unwind, m->unwind_size = 16)
MUT(v2_no_unwind, m->version = 2)
MUT(buildid0, m->build_id_len = 0)
MUT(buildid65, m->build_id_len = 65)
MUT(buildid_tail, m->build_id[63] = 1)
MUT(strtab_nul,
    buf[find_sec(buf, KC_PF_SEC_STRTAB)->sh_offset + find_sec(buf, KC_PF_SEC_STRTAB)->sh_size - 1] =
	'x')
MUT(stroff, m->id = 1u << 30)
MUT(bad_id, m->id = m->description)
MUT(level0, m->level = 0)
MUT(bad_text, buf[find_sec(buf, KC_PF_SEC_STRTAB)->sh_offset + m->description] = '\n')
MUT(empty_target, m->target_name = 0)
MUT(flags, m->flags = 0x10)
MUT(nfuncs, m->nfuncs++)
MUT(nrelocs_overflow, m->nrelocs = 0xffffffffu)
MUT(text_size, m->text_size = 0x41)
MUT(rodata_addr, find_sec(buf, KC_PF_SEC_RODATA)->sh_addr = 0x800)
MUT(rodata_off, m->rodata_off = 0x800; find_sec(buf, KC_PF_SEC_RODATA)->sh_addr = 0x800)
MUT(data_off, m->data_off = 0x1000; find_sec(buf, KC_PF_SEC_DATA)->sh_addr = 0x1000)
MUT(bss_off, m->bss_off = 0x2004; find_sec(buf, KC_PF_SEC_BSS)->sh_addr = 0x2004)
MUT(image_size, m->image_size = 0x5000)
MUT(image_huge, m->image_size = 0x80000000u)
MUT(image_unaligned, m->image_size = 0x2fff)
MUT(func_outside, func0(buf)->image_off = 0x30)
MUT(func_short, func0(buf)->target_size = 4)
MUT(func_orig, func0(buf)->orig_len = 17)
MUT(func_orig_tail, func0(buf)[1].orig[15] = 1)
MUT(func_reserved, func0(buf)->reserved[2] = 1)
MUT(func_flags, func0(buf)->flags = 1)
MUT(func_name, func0(buf)->name = 1u << 30)
MUT(func_overlap, func0(buf)[1].target_value = 0x1150)
MUT(func_empty_name, func0(buf)->name = 0)
MUT(sym_kind, sym0(buf)->kind = 9)
MUT(sym_flags, sym0(buf)[1].flags = 0x80)
MUT(sym_version, sym0(buf)->version = 1u << 30)
MUT(sym_target_weak, sym0(buf)->flags = KC_PF_SYMF_WEAK)
MUT(sym_extern_value, sym0(buf)[1].value = 5)
MUT(sym_func_tls, sym0(buf)[1].flags = KC_PF_SYMF_FUNC | KC_PF_SYMF_TLS)
MUT(sym_target_version, sym0(buf)->version = sym0(buf)[1].version)
MUT(sym_interpose_func, sym0(buf)->flags = KC_PF_SYMF_INTERPOSE | KC_PF_SYMF_FUNC)
MUT(sym_extern_interpose, sym0(buf)[1].flags = KC_PF_SYMF_INTERPOSE)
MUT(rel_type, rel0(buf)->type = 99)
MUT(rel_offset, rel0(buf)[1].offset = 0x2ffc)
MUT(rel_offset_wrap, rel0(buf)[1].offset = ~0ull - 2)
MUT(rel_sym, rel0(buf)[1].sym = 3)
MUT(rel_nosym, rel0(buf)[1].sym = KC_PF_NOSYM)
MUT(rel_image_sym, rel0(buf)->sym = 0)
MUT(rel_tls, rel0(buf)[3].sym = 0)
MUT(rel_overlap, rel0(buf)[2].offset = 0x2006)

static const struct {
	const char *name;
	mutate_fn fn;
	int code;
	const char *msg;
} mutations[] = {
#define M(n, msg)                                                                                  \
	{                                                                                          \
#n, mut_##n, -ENOEXEC, msg                                                         \
	}
    M(magic, "not an ELF file"),
    M(class, "not a little-endian ELF64"),
    M(type, "not a patch file"),
    M(phnum, "bad ELF header"),
    M(shnum0, "bad section count"),
    M(shnum_big, "bad section count"),
    M(shstrndx, "bad section name table index"),
    M(shoff, "truncated patch file"),
    M(sec0, "section 0 is not null"),
    M(shstrtab_oob, "section name table out of bounds"),
    M(shname, "bad name"),
    M(out_of_bounds, "section '.kcare.funcs' out of bounds"),
    M(overlap, "overlaps"),
    M(overlap_header, "overlaps"),
    M(duplicate, "duplicate section '.kcare.funcs'"),
    M(missing, "missing section '.kcare.relocs'"),
    M(wrong_type, "section '.kcare.funcs' has the wrong type"),
    M(meta_size, "section '.kcare.meta' has the wrong size"),
    M(meta_magic, "bad patch magic"),
    {"version", mut_version, -EPROTONOSUPPORT, "unsupported patch format version 3"},
    M(wrong_arch, "wrong architecture: patch is for aarch64, this host is x86_64"),
    M(machine_mismatch, "machine of the metadata and ELF header differ"),
    M(reserved, "reserved metadata fields"),
    M(v1_unwind, "reserved metadata fields"),
    M(v2_no_unwind, "a version 2 patch without an unwind table"),
    M(buildid0, "bad build-id length 0"),
    M(buildid65, "bad build-id length 65"),
    M(buildid_tail, "bad build-id length"),
    M(strtab_nul, "bad section '.kcare.strtab'"),
    M(stroff, "string offset"),
    M(bad_id, "bad patch id"),
    M(level0, "level must be at least 1"),
    M(bad_text, "bad description"),
    M(empty_target, "bad target name"),
    M(flags, "unknown flags"),
    M(nfuncs, "section '.kcare.funcs' does not match the metadata"),
    M(nrelocs_overflow, "section '.kcare.relocs' does not match the metadata"),
    M(text_size, "section '.kcare.text' does not match the metadata"),
    M(rodata_addr, "section '.kcare.rodata' does not match the metadata"),
    M(rodata_off, "does not follow text"),
    M(data_off, "does not follow rodata"),
    M(bss_off, "bss offset"),
    M(image_size, "does not match its segments"),
    M(image_huge, "bad image size"),
    M(image_unaligned, "bad image size"),
    M(func_outside, "function 'foo' is outside the text segment"),
    M(func_short, "function 'foo' has a bad target size"),
    M(func_orig, "bad original length 17"),
    M(func_orig_tail, "stray original bytes"),
    M(func_reserved, "reserved fields are not zero"),
    M(func_flags, "reserved fields are not zero"),
    M(func_name, "function name: string offset"),
    M(func_overlap, "functions 'foo' and 'bar' overlap"),
    M(func_empty_name, "function 0 has a bad name"),
    M(sym_kind, "unknown kind 9"),
    M(sym_flags, "unknown flags 0x80"),
    M(sym_version, "symbol version: string offset"),
    M(sym_target_weak, "target symbol 'counter'"),
    M(sym_extern_value, "extern symbol 'memcpy' has a value"),
    M(sym_func_tls, "both a function and TLS"),
    M(sym_target_version, "target symbol 'counter' has a version"),
    M(sym_interpose_func, "interposable symbol 'counter' is not data"),
    M(sym_extern_interpose, "extern symbol 'memcpy' is marked interposable"),
    M(rel_type, "unknown type 99"),
    M(rel_offset, "outside the image"),
    M(rel_offset_wrap, "outside the image"),
    M(rel_sym, "bad symbol index 3"),
    M(rel_nosym, "bad symbol index"),
    M(rel_image_sym, "image relocation 0 has a symbol"),
    M(rel_tls, "TLS mismatch"),
    M(rel_overlap, "relocations overlap"),
#undef M
};

static void test_patchfile__every_validation_failure(void **state)
{
	struct kc_patch *p = make_patch();
	uint8_t *buf, *copy;
	size_t len;

	(void)state;
	serialize(p, &buf, &len);
	copy = malloc(len);
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		struct kc_err err = KC_ERR_INIT;
		struct kc_patch *q = NULL;
		int ret;

		memcpy(copy, buf, len);
		mutations[i].fn(copy, len);
		ret = kc_patch_parse(copy, len, &q, &err);
		if (ret != mutations[i].code || !strstr(err.msg, mutations[i].msg))
			fail_msg("mutation %s: got %d '%s', want %d '%s'", mutations[i].name, ret,
				 err.msg, mutations[i].code, mutations[i].msg);
		assert_null(q);
	}
	free(copy);
	free(buf);
	kc_patch_free(p);
}

static void test_patchfile__validate_in_memory(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patch *p = make_patch();
	uint8_t *buf = NULL;
	size_t len;

	(void)state;
	assert_int_equal(kc_patch_validate(p, &err), 0);
	p->image[0x1800] = 1; /* a gap byte */
	assert_int_equal(kc_patch_validate(p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "outside its sections"));
	assert_int_equal(kc_patch_serialize(p, NULL, 0, &buf, &len, &err), -EINVAL);
	assert_null(buf);
	p->image[0x1800] = 0;
	free(p->id);
	p->id = xstrdup("bad id");
	assert_int_equal(kc_patch_validate(p, &err), -EINVAL);
	free(p->id);
	p->id = xstrdup("0123456789012345678901234567890123456789012345678901234567890123");
	assert_int_equal(kc_patch_validate(p, &err), -EINVAL);
	free(p->id);
	p->id = xstrdup("ok");
	free(p->cves[1]);
	p->cves[1] = xstrdup("CVE,1");
	assert_int_equal(kc_patch_validate(p, &err), -EINVAL);
	kc_patch_free(p);
}

static void test_patchfile__labels_in_symtab(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patch *p = make_patch(), *q = NULL;
	struct kc_patch_label labels[] = {{"foo", 0, 0x20}, {"helper", 0x20, 0x10}};
	struct kc_patch_label bad[] = {{"far", 0x30, 0x20}};
	uint8_t *buf;
	size_t len;
	Elf64_Shdr *st;
	Elf64_Sym *sym;
	char b[32];

	(void)state;
	assert_int_equal(kc_patch_serialize(p, labels, 2, &buf, &len, &err), 0);
	st = find_sec(buf, ".symtab");
	assert_int_equal(st->sh_size, 3 * sizeof(Elf64_Sym));
	sym = (Elf64_Sym *)(buf + st->sh_offset);
	assert_string_equal((char *)buf + find_sec(buf, ".strtab")->sh_offset + sym[2].st_name,
			    "helper");
	assert_int_equal(sym[2].st_value, 0x20);
	assert_int_equal(ELF64_ST_TYPE(sym[2].st_info), STT_FUNC);
	assert_int_equal(find_sec(buf, KC_PF_SEC_TEXT)->sh_flags, SHF_ALLOC | SHF_EXECINSTR);
	assert_int_equal(find_sec(buf, KC_PF_SEC_DATA)->sh_addr, 0x2000);
	assert_int_equal(kc_patch_parse(buf, len, &q, &err), 0);
	kc_patch_free(q);
	free(buf);
	assert_int_equal(kc_patch_serialize(p, bad, 1, &buf, &len, &err), -EINVAL);
	assert_string_equal(kc_patch_machine_name(EM_AARCH64, b, sizeof(b)), "aarch64");
	assert_string_equal(kc_patch_machine_name(4242, b, sizeof(b)), "machine 4242");
	kc_patch_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_patchfile__round_trip),
	    cmocka_unit_test(test_patchfile__interposable_target_data),
	    cmocka_unit_test(test_patchfile__write_read_file_atomic),
	    cmocka_unit_test(test_patchfile__truncation_at_every_length),
	    cmocka_unit_test(test_patchfile__every_validation_failure),
	    cmocka_unit_test(test_patchfile__validate_in_memory),
	    cmocka_unit_test(test_patchfile__labels_in_symtab),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
