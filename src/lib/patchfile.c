// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The patch file reader: kc_patch_parse() turns untrusted bytes into a
 * struct kc_patch, and kc_patch_validate() holds the semantic invariants
 * that both the reader and the writer (patchfile-write.c) enforce. The
 * parser checks the ELF container (header, section table, bounds,
 * overlaps, one of each .kcare.* section) and the raw records (reserved
 * fields, string offsets); the validator checks what the records mean
 * (layout of the image, function ranges, symbol and relocation rules).
 * Nothing here reads outside the caller's buffer or trusts a count.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcare/patch.h"
#include "lib/patchfile.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "patch files are little-endian; this reader assumes a little-endian host"
#endif

#define PF_MAX_SECTIONS 64
#define PF_FILE_MAX	((size_t)KC_PF_IMAGE_MAX * 4)
#define PF_ALIGN(x)	(((uint64_t)(x) + KC_PF_PAGE - 1) & ~(uint64_t)(KC_PF_PAGE - 1))

uint32_t kc_patch_host_machine(void)
{
#if defined(__x86_64__)
	return EM_X86_64;
#elif defined(__aarch64__)
	return EM_AARCH64;
#else
	return EM_NONE;
#endif
}

const char *kc_patch_machine_name(uint32_t machine, char *buf, size_t bufsz)
{
	switch (machine) {
	case EM_X86_64:
		return "x86_64";
	case EM_AARCH64:
		return "aarch64";
	case EM_386:
		return "i386";
	case EM_ARM:
		return "arm";
	case EM_PPC64:
		return "ppc64";
	case EM_S390:
		return "s390x";
	case EM_RISCV:
		return "riscv";
	}
	snprintf(buf, bufsz, "machine %u", machine);
	return buf;
}

void kc_patch_free(struct kc_patch *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->description);
	for (size_t i = 0; i < p->ncves; i++)
		free(p->cves[i]);
	free(p->cves);
	free(p->target_name);
	free(p->target_path);
	free(p->image);
	for (size_t i = 0; i < p->nfuncs; i++)
		free(p->funcs[i].name);
	free(p->funcs);
	for (size_t i = 0; i < p->nsyms; i++) {
		free(p->syms[i].name);
		free(p->syms[i].version);
	}
	free(p->syms);
	free(p->relocs);
	free(p);
}

/* Symbol names, versions, CVE ids: printable, no blanks, no commas. */
static int patch_is_word(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f || *s == ',')
			return 0;
	return 1;
}

/* Free text (description, paths): one line, no control characters. */
static int patch_is_text(const char *s)
{
	if (!s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

static int patch_is_id(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n >= 1 && n <= 63;
}

struct patch_range {
	uint64_t start, end; /* [start, end) */
	size_t idx;
};

static int patch_range_cmp(const void *a, const void *b)
{
	const struct patch_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/*
 * Sorts @r and returns the index (in @r) of the first range overlapping
 * its predecessor, or 0 if none overlap (index 0 can never overlap).
 */
static size_t patch_first_overlap(struct patch_range *r, size_t n)
{
	qsort(r, n, sizeof(*r), patch_range_cmp);
	for (size_t i = 1; i < n; i++)
		if (r[i].start < r[i - 1].end)
			return i;
	return 0;
}

/* 1 if @img[from, to) is all zero */
static int patch_zero(const uint8_t *img, uint64_t from, uint64_t to)
{
	if (from >= to)
		return 1;
	return img[from] == 0 && memcmp(img + from, img + from + 1, to - from - 1) == 0;
}

static int patch_check_layout(const struct kc_patch *p, int code, struct kc_err *err)
{
	uint64_t data_end = (uint64_t)p->data_off + p->data_size;

	if (!p->image || p->image_size == 0 || p->image_size % KC_PF_PAGE ||
	    p->image_size > KC_PF_IMAGE_MAX)
		return kc_err_set(err, code, "bad image size %u", p->image_size);
	if (p->rodata_off != PF_ALIGN(p->text_size))
		return kc_err_set(err, code, "rodata offset %#x does not follow text",
				  p->rodata_off);
	if (p->data_off != PF_ALIGN((uint64_t)p->rodata_off + p->rodata_size))
		return kc_err_set(err, code, "data offset %#x does not follow rodata", p->data_off);
	if (p->bss_off < data_end || p->bss_off - data_end >= KC_PF_PAGE)
		return kc_err_set(err, code, "bss offset %#x does not follow data", p->bss_off);
	if (p->image_size != PF_ALIGN((uint64_t)p->bss_off + p->bss_size))
		return kc_err_set(err, code, "image size %#x does not match its segments",
				  p->image_size);
	/* gaps and bss are zero, so that what is written is what is parsed */
	if (!patch_zero(p->image, p->text_size, p->rodata_off) ||
	    !patch_zero(p->image, (uint64_t)p->rodata_off + p->rodata_size, p->data_off) ||
	    !patch_zero(p->image, data_end, p->image_size))
		return kc_err_set(err, code, "image bytes outside its sections are not zero");
	return 0;
}

static int patch_check_funcs(const struct kc_patch *p, int code, struct kc_err *err)
{
	struct patch_range *r;
	size_t bad;

	if (p->nfuncs == 0 || !p->funcs)
		return kc_err_set(err, code, "patch replaces no function");
	for (size_t i = 0; i < p->nfuncs; i++) {
		const struct kc_patch_func *f = &p->funcs[i];

		if (!patch_is_word(f->name))
			return kc_err_set(err, code, "function %zu has a bad name", i);
		if (f->image_size == 0 || f->image_off > p->text_size ||
		    f->image_size > p->text_size - f->image_off)
			return kc_err_set(err, code, "function '%s' is outside the text segment",
					  f->name);
		if (f->target_size < 5 || f->target_value + f->target_size < f->target_value)
			return kc_err_set(err, code, "function '%s' has a bad target size",
					  f->name);
		if (f->orig_len < 5 || f->orig_len > KC_PF_ENTRY_MAX ||
		    f->orig_len > f->target_size)
			return kc_err_set(err, code, "function '%s' has a bad original length %u",
					  f->name, f->orig_len);
		for (size_t j = f->orig_len; j < KC_PF_ENTRY_MAX; j++)
			if (f->orig[j])
				return kc_err_set(
				    err, code, "function '%s' has stray original bytes", f->name);
	}
	r = calloc(p->nfuncs, sizeof(*r));
	if (!r)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < p->nfuncs; i++)
		r[i] = (struct patch_range){p->funcs[i].target_value,
					    p->funcs[i].target_value + p->funcs[i].target_size, i};
	bad = patch_first_overlap(r, p->nfuncs);
	if (bad) {
		int ret = kc_err_set(err, code, "functions '%s' and '%s' overlap in the target",
				     p->funcs[r[bad - 1].idx].name, p->funcs[r[bad].idx].name);
		free(r);
		return ret;
	}
	free(r);
	return 0;
}

static int patch_check_syms(const struct kc_patch *p, int code, struct kc_err *err)
{
	const uint32_t known =
	    KC_PF_SYMF_WEAK | KC_PF_SYMF_FUNC | KC_PF_SYMF_TLS | KC_PF_SYMF_INTERPOSE;

	if (p->nsyms && !p->syms)
		return kc_err_set(err, code, "symbol table missing");
	for (size_t i = 0; i < p->nsyms; i++) {
		const struct kc_patch_sym *s = &p->syms[i];

		if (!patch_is_word(s->name))
			return kc_err_set(err, code, "symbol %zu has a bad name", i);
		if (!s->version || (*s->version && !patch_is_word(s->version)))
			return kc_err_set(err, code, "symbol '%s' has a bad version", s->name);
		if (s->flags & ~known)
			return kc_err_set(err, code, "symbol '%s' has unknown flags %#x", s->name,
					  s->flags);
		if ((s->flags & KC_PF_SYMF_FUNC) && (s->flags & KC_PF_SYMF_TLS))
			return kc_err_set(err, code, "symbol '%s' is both a function and TLS",
					  s->name);
		switch (s->kind) {
		case KC_PF_SYM_TARGET:
			if ((*s->version && !(s->flags & KC_PF_SYMF_INTERPOSE)) ||
			    (s->flags & KC_PF_SYMF_WEAK))
				return kc_err_set(err, code,
						  "target symbol '%s' has a version or is weak",
						  s->name);
			if ((s->flags & KC_PF_SYMF_INTERPOSE) &&
			    (s->flags & (KC_PF_SYMF_FUNC | KC_PF_SYMF_TLS)))
				return kc_err_set(err, code, "interposable symbol '%s' is not data",
						  s->name);
			break;
		case KC_PF_SYM_EXTERN:
			if (s->value)
				return kc_err_set(err, code, "extern symbol '%s' has a value",
						  s->name);
			if (s->flags & KC_PF_SYMF_INTERPOSE)
				return kc_err_set(err, code,
						  "extern symbol '%s' is marked interposable",
						  s->name);
			break;
		default:
			return kc_err_set(err, code, "symbol '%s' has unknown kind %u", s->name,
					  (unsigned)s->kind);
		}
	}
	return 0;
}

static int patch_reloc_width(enum kc_pf_rel_type t)
{
	switch (t) {
	case KC_PF_R_IMAGE64:
	case KC_PF_R_ABS64:
	case KC_PF_R_TPOFF64:
	case KC_PF_R_DTPMOD64:
	case KC_PF_R_DTPOFF64:
		return 8;
	case KC_PF_R_PC32:
	case KC_PF_R_TPOFF32:
		return 4;
	}
	return 0;
}

static int patch_check_relocs(const struct kc_patch *p, int code, struct kc_err *err)
{
	struct patch_range *r;
	size_t bad;

	if (p->nrelocs && !p->relocs)
		return kc_err_set(err, code, "relocation table missing");
	for (size_t i = 0; i < p->nrelocs; i++) {
		const struct kc_patch_reloc *rel = &p->relocs[i];
		int w = patch_reloc_width(rel->type), tls;

		if (!w)
			return kc_err_set(err, code, "relocation %zu has unknown type %u", i,
					  (unsigned)rel->type);
		if (rel->offset > p->image_size || p->image_size - rel->offset < (uint64_t)w)
			return kc_err_set(err, code, "relocation %zu at %#llx is outside the image",
					  i, (unsigned long long)rel->offset);
		if (rel->type == KC_PF_R_IMAGE64) {
			if (rel->sym != KC_PF_NOSYM)
				return kc_err_set(err, code, "image relocation %zu has a symbol",
						  i);
			continue;
		}
		if (rel->sym >= p->nsyms)
			return kc_err_set(err, code, "relocation %zu has bad symbol index %u", i,
					  rel->sym);
		tls = rel->type == KC_PF_R_TPOFF64 || rel->type == KC_PF_R_TPOFF32 ||
		      rel->type == KC_PF_R_DTPMOD64 || rel->type == KC_PF_R_DTPOFF64;
		if (tls != !!(p->syms[rel->sym].flags & KC_PF_SYMF_TLS))
			return kc_err_set(err, code,
					  "relocation %zu: TLS mismatch with symbol '%s'", i,
					  p->syms[rel->sym].name);
	}
	if (!p->nrelocs)
		return 0;
	r = calloc(p->nrelocs, sizeof(*r));
	if (!r)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < p->nrelocs; i++)
		r[i] = (struct patch_range){
		    p->relocs[i].offset,
		    p->relocs[i].offset + (uint64_t)patch_reloc_width(p->relocs[i].type), i};
	bad = patch_first_overlap(r, p->nrelocs);
	free(r);
	if (bad)
		return kc_err_set(err, code, "relocations overlap");
	return 0;
}

/* The semantic checks, reporting @code (-EINVAL in memory, -ENOEXEC in a file). */
static int patch_check(const struct kc_patch *p, int code, struct kc_err *err)
{
	int ret;

	if (!patch_is_id(p->id))
		return kc_err_set(err, code, "bad patch id (want [A-Za-z0-9._-]{1,63})");
	if (p->level < 1)
		return kc_err_set(err, code, "patch '%s': level must be at least 1", p->id);
	if (!patch_is_text(p->description))
		return kc_err_set(err, code, "patch '%s': bad description", p->id);
	if (p->ncves && !p->cves)
		return kc_err_set(err, code, "patch '%s': cve list missing", p->id);
	for (size_t i = 0; i < p->ncves; i++)
		if (!patch_is_word(p->cves[i]))
			return kc_err_set(err, code, "patch '%s': bad cve id", p->id);
	if (!p->target_name || !*p->target_name || !patch_is_text(p->target_name))
		return kc_err_set(err, code, "patch '%s': bad target name", p->id);
	if (!patch_is_text(p->target_path))
		return kc_err_set(err, code, "patch '%s': bad target path", p->id);
	if (p->build_id.len < 1 || p->build_id.len > KC_BUILDID_MAX)
		return kc_err_set(err, code, "patch '%s': bad build-id length %zu", p->id,
				  p->build_id.len);
	if (p->machine == EM_NONE)
		return kc_err_set(err, code, "patch '%s': no machine", p->id);
	if (p->flags & ~KC_PF_F_TARGET_EXEC)
		return kc_err_set(err, code, "patch '%s': unknown flags %#x", p->id, p->flags);
	if ((ret = patch_check_layout(p, code, err)) < 0 ||
	    (ret = patch_check_funcs(p, code, err)) < 0 ||
	    (ret = patch_check_syms(p, code, err)) < 0 ||
	    (ret = patch_check_relocs(p, code, err)) < 0 ||
	    (ret = kc_patch_check_unwind(p, code, err)) < 0)
		return kc_err_prefix(err, "patch '%s'", p->id);
	return 0;
}

int kc_patch_validate(const struct kc_patch *p, struct kc_err *err)
{
	KC_BUG_ON(!p);
	return patch_check(p, -EINVAL, err);
}

/* The .kcare.* sections in the order of enum pf_sec. */
enum pf_sec {
	PF_META,
	PF_STRTAB,
	PF_TEXT,
	PF_RODATA,
	PF_DATA,
	PF_BSS,
	PF_FUNCS,
	PF_SYMS,
	PF_RELOCS,
	PF_NSEC
};

static const struct {
	const char *name;
	uint32_t type;
} pf_secs[PF_NSEC] = {
    {KC_PF_SEC_META, SHT_PROGBITS},   {KC_PF_SEC_STRTAB, SHT_STRTAB},
    {KC_PF_SEC_TEXT, SHT_PROGBITS},   {KC_PF_SEC_RODATA, SHT_PROGBITS},
    {KC_PF_SEC_DATA, SHT_PROGBITS},   {KC_PF_SEC_BSS, SHT_NOBITS},
    {KC_PF_SEC_FUNCS, SHT_PROGBITS},  {KC_PF_SEC_SYMS, SHT_PROGBITS},
    {KC_PF_SEC_RELOCS, SHT_PROGBITS},
};

/* What the parser knows about the file while it builds the patch. */
struct pf_view {
	const uint8_t *buf;
	size_t len;
	Elf64_Shdr sh[PF_MAX_SECTIONS];
	unsigned nsec;
	const char *shstr;
	size_t shstrsz;
	const Elf64_Shdr *sec[PF_NSEC];
	const char *str; /* .kcare.strtab */
	size_t strsz;
};

static int pf_check_header(struct pf_view *v, struct kc_err *err)
{
	Elf64_Ehdr eh;
	uint64_t tab_end;

	if (v->len < SELFMAG || memcmp(v->buf, ELFMAG, SELFMAG))
		return kc_err_set(err, -ENOEXEC, "not an ELF file");
	if (v->len < sizeof(eh))
		return kc_err_set(err, -ENOEXEC, "truncated patch file");
	memcpy(&eh, v->buf, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
		return kc_err_set(err, -ENOEXEC, "not a little-endian ELF64 file");
	if (eh.e_type != ET_REL)
		return kc_err_set(err, -ENOEXEC, "not a patch file (ELF type %u)", eh.e_type);
	if (eh.e_ehsize != sizeof(Elf64_Ehdr) || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_phnum != 0 || eh.e_phoff != 0)
		return kc_err_set(err, -ENOEXEC, "bad ELF header");
	if (eh.e_shnum == 0 || eh.e_shnum > PF_MAX_SECTIONS)
		return kc_err_set(err, -ENOEXEC, "bad section count %u", eh.e_shnum);
	if (eh.e_shstrndx == SHN_UNDEF || eh.e_shstrndx >= eh.e_shnum)
		return kc_err_set(err, -ENOEXEC, "bad section name table index");
	tab_end = eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr);
	if (eh.e_shoff < sizeof(eh) || tab_end < eh.e_shoff || tab_end > v->len)
		return kc_err_set(err, -ENOEXEC, "truncated patch file");
	v->nsec = eh.e_shnum;
	memcpy(v->sh, v->buf + eh.e_shoff, (size_t)eh.e_shnum * sizeof(Elf64_Shdr));
	if (v->sh[eh.e_shstrndx].sh_type != SHT_STRTAB)
		return kc_err_set(err, -ENOEXEC, "bad section name table");
	/* machine of the ELF header; the meta record must agree (pf_check_meta) */
	return eh.e_machine;
}

static const char *pf_name(const struct pf_view *v, const Elf64_Shdr *sh)
{
	return v->shstr ? v->shstr + sh->sh_name : "?";
}

/* Every section inside the file, none overlapping another or the headers. */
static int pf_check_sections(struct pf_view *v, unsigned shstrndx, struct kc_err *err)
{
	struct patch_range r[PF_MAX_SECTIONS + 2];
	const uint8_t zero[sizeof(Elf64_Shdr)] = {0};
	const Elf64_Shdr *shs;
	Elf64_Ehdr eh;
	size_t n = 0, bad;

	memcpy(&eh, v->buf, sizeof(eh));
	if (memcmp(&v->sh[0], zero, sizeof(zero)))
		return kc_err_set(err, -ENOEXEC, "section 0 is not null");
	shs = &v->sh[shstrndx];
	if (shs->sh_offset > v->len || shs->sh_size > v->len - shs->sh_offset)
		return kc_err_set(err, -ENOEXEC, "section name table out of bounds");
	if (shs->sh_size == 0 || v->buf[shs->sh_offset + shs->sh_size - 1] != '\0')
		return kc_err_set(err, -ENOEXEC, "bad section name table");
	v->shstr = (const char *)v->buf + v->sh[shstrndx].sh_offset;
	v->shstrsz = v->sh[shstrndx].sh_size;
	r[n++] = (struct patch_range){0, sizeof(eh), 0};
	r[n++] = (struct patch_range){eh.e_shoff, eh.e_shoff + v->nsec * sizeof(Elf64_Shdr), 0};
	for (unsigned i = 1; i < v->nsec; i++) {
		const Elf64_Shdr *sh = &v->sh[i];
		uint64_t end = sh->sh_offset + sh->sh_size;

		if (sh->sh_name >= v->shstrsz)
			return kc_err_set(err, -ENOEXEC, "section %u has a bad name", i);
		if (sh->sh_type == SHT_NOBITS || sh->sh_size == 0)
			continue;
		if (sh->sh_offset > v->len || sh->sh_size > v->len - sh->sh_offset)
			return kc_err_set(err, -ENOEXEC, "section '%s' out of bounds",
					  pf_name(v, sh));
		r[n++] = (struct patch_range){sh->sh_offset, end, i};
	}
	bad = patch_first_overlap(r, n);
	if (bad)
		return kc_err_set(err, -ENOEXEC, "section '%s' overlaps another part of the file",
				  r[bad].idx ? pf_name(v, &v->sh[r[bad].idx])
					     : pf_name(v, &v->sh[r[bad - 1].idx]));
	for (unsigned i = 1; i < v->nsec; i++) {
		const char *name = pf_name(v, &v->sh[i]);

		for (int k = 0; k < PF_NSEC; k++) {
			if (strcmp(name, pf_secs[k].name))
				continue;
			if (v->sec[k])
				return kc_err_set(err, -ENOEXEC, "duplicate section '%s'", name);
			if (v->sh[i].sh_type != pf_secs[k].type)
				return kc_err_set(err, -ENOEXEC, "section '%s' has the wrong type",
						  name);
			v->sec[k] = &v->sh[i];
		}
	}
	for (int k = 0; k < PF_NSEC; k++)
		if (!v->sec[k])
			return kc_err_set(err, -ENOEXEC, "missing section '%s'", pf_secs[k].name);
	return 0;
}

static int pf_check_meta(struct pf_view *v, const struct kc_pf_meta *m, uint32_t e_machine,
			 struct kc_err *err)
{
	const uint8_t zero[64] = {0};
	char b1[32], b2[32];

	if (memcmp(m->magic, KC_PF_MAGIC, sizeof(m->magic)))
		return kc_err_set(err, -ENOEXEC, "bad patch magic");
	if (m->version != KC_PF_VERSION_1 && m->version != KC_PF_VERSION)
		return kc_err_set(err, -EPROTONOSUPPORT, "unsupported patch format version %u",
				  m->version);
	/* version 1 had these bytes reserved */
	if (m->version == KC_PF_VERSION_1 && (m->unwind_off || m->unwind_size))
		return kc_err_set(err, -ENOEXEC, "reserved metadata fields are not zero");
	if (m->version == KC_PF_VERSION && !m->unwind_size)
		return kc_err_set(err, -ENOEXEC, "a version %u patch without an unwind table",
				  m->version);
	if (m->machine != e_machine)
		return kc_err_set(err, -ENOEXEC, "machine of the metadata and ELF header differ");
	if (m->machine != kc_patch_host_machine())
		return kc_err_set(err, -ENOEXEC,
				  "wrong architecture: patch is for %s, this host is %s",
				  kc_patch_machine_name(m->machine, b1, sizeof(b1)),
				  kc_patch_machine_name(kc_patch_host_machine(), b2, sizeof(b2)));
	if (memcmp(m->reserved, zero, sizeof(m->reserved)))
		return kc_err_set(err, -ENOEXEC, "reserved metadata fields are not zero");
	if (m->build_id_len < 1 || m->build_id_len > KC_BUILDID_MAX ||
	    memcmp(m->build_id + m->build_id_len, zero, KC_BUILDID_MAX - m->build_id_len))
		return kc_err_set(err, -ENOEXEC, "bad build-id length %u", m->build_id_len);
	if (v->sec[PF_STRTAB]->sh_size == 0 || v->buf[v->sec[PF_STRTAB]->sh_offset] != '\0' ||
	    v->buf[v->sec[PF_STRTAB]->sh_offset + v->sec[PF_STRTAB]->sh_size - 1] != '\0')
		return kc_err_set(err, -ENOEXEC, "bad section '%s'", KC_PF_SEC_STRTAB);
	v->str = (const char *)v->buf + v->sec[PF_STRTAB]->sh_offset;
	v->strsz = v->sec[PF_STRTAB]->sh_size;

	/* every count and size agrees with its section, and addresses with the image */
	const struct {
		int sec;
		uint64_t size, addr;
	} want[] = {
	    {PF_TEXT, m->text_size, 0},
	    {PF_RODATA, m->rodata_size, m->rodata_off},
	    {PF_DATA, m->data_size, m->data_off},
	    {PF_BSS, m->bss_size, m->bss_off},
	    {PF_FUNCS, (uint64_t)m->nfuncs * sizeof(struct kc_pf_func), 0},
	    {PF_SYMS, (uint64_t)m->nsyms * sizeof(struct kc_pf_sym), 0},
	    {PF_RELOCS, (uint64_t)m->nrelocs * sizeof(struct kc_pf_reloc), 0},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const Elf64_Shdr *sh = v->sec[want[i].sec];

		if (sh->sh_size != want[i].size || sh->sh_addr != want[i].addr)
			return kc_err_set(err, -ENOEXEC, "section '%s' does not match the metadata",
					  pf_secs[want[i].sec].name);
	}
	return 0;
}

/* A string of .kcare.strtab; always NUL-terminated since the table ends in NUL. */
static int pf_str(const struct pf_view *v, uint32_t off, const char *what, char **out,
		  struct kc_err *err)
{
	if (off >= v->strsz)
		return kc_err_set(err, -ENOEXEC, "%s: string offset %u outside '%s'", what, off,
				  KC_PF_SEC_STRTAB);
	*out = strdup(v->str + off);
	if (!*out)
		return kc_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int pf_split_cves(struct kc_patch *p, const char *list, struct kc_err *err)
{
	size_t n = *list ? 1 : 0;

	for (const char *s = list; *s; s++)
		n += *s == ',';
	if (!n)
		return 0;
	p->cves = calloc(n, sizeof(*p->cves));
	if (!p->cves)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (const char *s = list;; s++) {
		size_t len = strcspn(s, ",");

		p->cves[p->ncves] = strndup(s, len);
		if (!p->cves[p->ncves])
			return kc_err_set(err, -ENOMEM, "out of memory");
		p->ncves++;
		s += len;
		if (!*s)
			break;
	}
	return 0;
}

static int pf_read_meta(const struct pf_view *v, const struct kc_pf_meta *m, struct kc_patch *p,
			struct kc_err *err)
{
	char *cves = NULL;
	int ret;

	if ((ret = pf_str(v, m->id, "patch id", &p->id, err)) < 0 ||
	    (ret = pf_str(v, m->description, "description", &p->description, err)) < 0 ||
	    (ret = pf_str(v, m->target_name, "target name", &p->target_name, err)) < 0 ||
	    (ret = pf_str(v, m->target_path, "target path", &p->target_path, err)) < 0 ||
	    (ret = pf_str(v, m->cves, "cve list", &cves, err)) < 0)
		return ret;
	ret = pf_split_cves(p, cves, err);
	free(cves);
	if (ret < 0)
		return ret;
	p->level = m->level;
	p->machine = m->machine;
	p->flags = m->flags;
	p->created = m->created;
	p->build_id.len = m->build_id_len;
	memcpy(p->build_id.bytes, m->build_id, m->build_id_len);
	p->text_size = m->text_size;
	p->rodata_off = m->rodata_off;
	p->rodata_size = m->rodata_size;
	p->data_off = m->data_off;
	p->data_size = m->data_size;
	p->bss_off = m->bss_off;
	p->bss_size = m->bss_size;
	p->image_size = m->image_size;
	p->unwind_off = m->unwind_off;
	p->unwind_size = m->unwind_size;
	return 0;
}

/* Copies the segments into a zeroed image; layout is checked later by patch_check(). */
static int pf_read_image(const struct pf_view *v, struct kc_patch *p, struct kc_err *err)
{
	const struct {
		int sec;
		uint64_t off;
	} seg[] = {{PF_TEXT, 0}, {PF_RODATA, p->rodata_off}, {PF_DATA, p->data_off}};

	if (p->image_size == 0 || p->image_size > KC_PF_IMAGE_MAX)
		return kc_err_set(err, -ENOEXEC, "bad image size %u", p->image_size);
	p->image = calloc(1, p->image_size);
	if (!p->image)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < sizeof(seg) / sizeof(seg[0]); i++) {
		const Elf64_Shdr *sh = v->sec[seg[i].sec];

		if (seg[i].off > p->image_size || sh->sh_size > p->image_size - seg[i].off)
			return kc_err_set(err, -ENOEXEC, "section '%s' does not fit in the image",
					  pf_secs[seg[i].sec].name);
		memcpy(p->image + seg[i].off, v->buf + sh->sh_offset, sh->sh_size);
	}
	return 0;
}

static int pf_read_tables(const struct pf_view *v, const struct kc_pf_meta *m, struct kc_patch *p,
			  struct kc_err *err)
{
	const uint8_t *fb = v->buf + v->sec[PF_FUNCS]->sh_offset;
	const uint8_t *sb = v->buf + v->sec[PF_SYMS]->sh_offset;
	const uint8_t *rb = v->buf + v->sec[PF_RELOCS]->sh_offset;
	int ret;

	p->funcs = calloc(m->nfuncs ? m->nfuncs : 1, sizeof(*p->funcs));
	p->syms = calloc(m->nsyms ? m->nsyms : 1, sizeof(*p->syms));
	p->relocs = calloc(m->nrelocs ? m->nrelocs : 1, sizeof(*p->relocs));
	if (!p->funcs || !p->syms || !p->relocs)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < m->nfuncs; i++, p->nfuncs = i) {
		struct kc_pf_func f;
		struct kc_patch_func *pf = &p->funcs[i];

		memcpy(&f, fb + (size_t)i * sizeof(f), sizeof(f));
		if (f.flags || f.reserved[0] || f.reserved[1] || f.reserved[2] || f.reserved[3])
			return kc_err_set(err, -ENOEXEC,
					  "function %u: reserved fields are not zero", i);
		if ((ret = pf_str(v, f.name, "function name", &pf->name, err)) < 0)
			return ret;
		pf->target_value = f.target_value;
		pf->target_size = f.target_size;
		pf->image_off = f.image_off;
		pf->image_size = f.image_size;
		pf->orig_len = f.orig_len;
		memcpy(pf->orig, f.orig, sizeof(pf->orig));
	}
	for (uint32_t i = 0; i < m->nsyms; i++) {
		struct kc_pf_sym s;
		struct kc_patch_sym *ps = &p->syms[i];

		p->nsyms = i + 1; /* so that kc_patch_free() sees a half-read entry */
		memcpy(&s, sb + (size_t)i * sizeof(s), sizeof(s));
		if ((ret = pf_str(v, s.name, "symbol name", &ps->name, err)) < 0 ||
		    (ret = pf_str(v, s.version, "symbol version", &ps->version, err)) < 0)
			return ret;
		ps->kind = (enum kc_pf_sym_kind)s.kind;
		ps->flags = s.flags;
		ps->value = s.value;
		ps->size = s.size;
	}
	for (uint32_t i = 0; i < m->nrelocs; i++, p->nrelocs++) {
		struct kc_pf_reloc r;

		memcpy(&r, rb + (size_t)i * sizeof(r), sizeof(r));
		p->relocs[i] =
		    (struct kc_patch_reloc){r.offset, (enum kc_pf_rel_type)r.type, r.sym, r.addend};
	}
	return 0;
}

int kc_patch_parse(const void *buf, size_t len, struct kc_patch **out, struct kc_err *err)
{
	struct pf_view *v;
	struct kc_patch *p = NULL;
	struct kc_pf_meta m;
	Elf64_Ehdr eh;
	int ret, machine;

	KC_BUG_ON(!out || (!buf && len));
	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return kc_err_set(err, -ENOMEM, "out of memory");
	v->buf = buf;
	v->len = len;
	ret = machine = pf_check_header(v, err);
	if (ret < 0)
		goto out;
	memcpy(&eh, buf, sizeof(eh));
	if ((ret = pf_check_sections(v, eh.e_shstrndx, err)) < 0)
		goto out;
	if (v->sec[PF_META]->sh_size != sizeof(m)) {
		ret = kc_err_set(err, -ENOEXEC, "section '%s' has the wrong size", KC_PF_SEC_META);
		goto out;
	}
	memcpy(&m, v->buf + v->sec[PF_META]->sh_offset, sizeof(m));
	if ((ret = pf_check_meta(v, &m, (uint32_t)machine, err)) < 0)
		goto out;
	p = calloc(1, sizeof(*p));
	if (!p) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = pf_read_meta(v, &m, p, err)) < 0 || (ret = pf_read_image(v, p, err)) < 0 ||
	    (ret = pf_read_tables(v, &m, p, err)) < 0 || (ret = patch_check(p, -ENOEXEC, err)) < 0)
		goto out;
	*out = p;
	p = NULL;
out:
	kc_patch_free(p);
	free(v);
	return ret;
}

int kc_patch_read_file(const char *path, struct kc_patch **out, struct kc_err *err)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = kc_err_set(err, -errno, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > PF_FILE_MAX) {
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not a patch file (%s)", path,
				 S_ISREG(st.st_mode) ? "too large" : "not a regular file");
		goto out;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret =
			    kc_err_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break; /* shrank under us: parse what is there */
		got += (size_t)n;
	}
	ret = kc_patch_parse(buf, got, out, err);
	if (ret < 0)
		kc_err_prefix(err, "'%s'", path);
out:
	free(buf);
	close(fd);
	return ret;
}
