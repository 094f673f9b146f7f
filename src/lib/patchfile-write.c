// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The patch file writer: the inverse of kc_patch_parse(). Lays out an
 * ELF64 ET_REL file with the .kcare.* sections (text, rodata, data and
 * bss carry image offsets as sh_addr so objdump shows image offsets), an
 * informational .symtab naming the functions of the image, and the
 * section header table last, so that any truncated copy fails to parse.
 * Writing to disk is atomic: temporary file in the same directory, fsync,
 * rename, fsync of the directory.
 */
#include <elf.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcare/patch.h"
#include "lib/patchfile.h"
#include "kcare/conf.h"

struct pw_buf {
	uint8_t *p;
	size_t len, cap;
	int oom;
};

static size_t pw_reserve(struct pw_buf *b, size_t n, size_t align)
{
	size_t off = (b->len + align - 1) & ~(align - 1);

	if (b->oom)
		return 0;
	if (off + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *np;

		while (cap < off + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return 0;
		}
		b->p = np;
		b->cap = cap;
	}
	if (off + n > b->len)
		memset(b->p + b->len, 0, off + n - b->len);
	b->len = off + n;
	return off;
}

static size_t pw_put(struct pw_buf *b, const void *data, size_t n, size_t align)
{
	size_t off = pw_reserve(b, n, align);

	if (!b->oom && n)
		memcpy(b->p + off, data, n);
	return off;
}

/* Adds @s to a string table, reusing an identical earlier string. */
static uint32_t pw_str(struct pw_buf *t, const char *s)
{
	size_t n = strlen(s);

	if (!*s)
		return 0;
	for (size_t off = 1; off + n < t->len; off++)
		if (!memcmp(t->p + off, s, n + 1))
			return (uint32_t)off;
	return (uint32_t)pw_put(t, s, n + 1, 1);
}

enum {
	S_NULL,
	S_META,
	S_STRTAB,
	S_TEXT,
	S_RODATA,
	S_DATA,
	S_BSS,
	S_FUNCS,
	S_SYMS,
	S_RELOCS,
	S_SYMTAB,
	S_STR,
	S_SHSTR,
	S_N
};

static uint64_t pw_addralign(uint64_t addr)
{
	uint64_t a = 16;

	while (a > 1 && addr % a)
		a /= 2;
	return a;
}

static int pw_build_tables(const struct kc_patch *p, struct pw_buf *str, struct pw_buf *funcs,
			   struct pw_buf *syms, struct pw_buf *relocs, struct kc_pf_meta *m)
{
	struct pw_buf cves = {0};

	for (size_t i = 0; i < p->ncves; i++) {
		if (i)
			pw_put(&cves, ",", 1, 1);
		pw_put(&cves, p->cves[i], strlen(p->cves[i]), 1);
	}
	pw_put(&cves, "", 1, 1);
	if (cves.oom)
		return -ENOMEM;
	memcpy(m->magic, KC_PF_MAGIC, sizeof(m->magic));
	/* the oldest version that can hold it, so that older engines still read what they can */
	m->version = p->unwind_size ? KC_PF_VERSION : KC_PF_VERSION_1;
	m->machine = p->machine;
	m->id = pw_str(str, p->id);
	m->level = p->level;
	m->description = pw_str(str, p->description);
	m->cves = pw_str(str, (char *)cves.p);
	free(cves.p);
	m->target_name = pw_str(str, p->target_name);
	m->target_path = pw_str(str, p->target_path);
	m->build_id_len = (uint32_t)p->build_id.len;
	memcpy(m->build_id, p->build_id.bytes, p->build_id.len);
	m->created = p->created;
	m->flags = p->flags;
	m->text_size = p->text_size;
	m->rodata_off = p->rodata_off;
	m->rodata_size = p->rodata_size;
	m->data_off = p->data_off;
	m->data_size = p->data_size;
	m->bss_off = p->bss_off;
	m->bss_size = p->bss_size;
	m->image_size = p->image_size;
	m->unwind_off = p->unwind_off;
	m->unwind_size = p->unwind_size;
	m->nfuncs = (uint32_t)p->nfuncs;
	m->nsyms = (uint32_t)p->nsyms;
	m->nrelocs = (uint32_t)p->nrelocs;
	for (size_t i = 0; i < p->nfuncs; i++) {
		const struct kc_patch_func *f = &p->funcs[i];
		struct kc_pf_func r = {0};

		r.name = pw_str(str, f->name);
		r.target_value = f->target_value;
		r.target_size = f->target_size;
		r.image_off = f->image_off;
		r.image_size = f->image_size;
		r.orig_len = f->orig_len;
		memcpy(r.orig, f->orig, sizeof(r.orig));
		pw_put(funcs, &r, sizeof(r), 8);
	}
	for (size_t i = 0; i < p->nsyms; i++) {
		const struct kc_patch_sym *s = &p->syms[i];
		struct kc_pf_sym r = {0};

		r.name = pw_str(str, s->name);
		r.version = pw_str(str, s->version);
		r.kind = s->kind;
		r.flags = s->flags;
		r.value = s->value;
		r.size = s->size;
		pw_put(syms, &r, sizeof(r), 8);
	}
	for (size_t i = 0; i < p->nrelocs; i++) {
		const struct kc_patch_reloc *rl = &p->relocs[i];
		struct kc_pf_reloc r = {rl->offset, rl->type, rl->sym, rl->addend};

		pw_put(relocs, &r, sizeof(r), 8);
	}
	return str->oom || funcs->oom || syms->oom || relocs->oom ? -ENOMEM : 0;
}

/* .symtab: a null symbol, then one local STT_FUNC per label, all in .kcare.text. */
static int pw_build_symtab(const struct kc_patch *p, const struct kc_patch_label *labels,
			   size_t nlabels, struct pw_buf *symtab, struct pw_buf *str,
			   struct kc_err *err)
{
	Elf64_Sym null = {0};
	size_t n = labels ? nlabels : p->nfuncs;

	pw_put(symtab, &null, sizeof(null), 8);
	for (size_t i = 0; i < n; i++) {
		struct kc_patch_label l =
		    labels ? labels[i]
			   : (struct kc_patch_label){p->funcs[i].name, p->funcs[i].image_off,
						     p->funcs[i].image_size};
		Elf64_Sym s = {0};

		if (!l.name || !*l.name || l.value > p->text_size ||
		    l.size > p->text_size - l.value)
			return kc_err_set(err, -EINVAL, "label '%s' is outside the text segment",
					  l.name ? l.name : "");
		s.st_name = pw_str(str, l.name);
		s.st_info = ELF64_ST_INFO(STB_LOCAL, STT_FUNC);
		s.st_shndx = S_TEXT;
		s.st_value = l.value;
		s.st_size = l.size;
		pw_put(symtab, &s, sizeof(s), 8);
	}
	return symtab->oom || str->oom ? kc_err_set(err, -ENOMEM, "out of memory") : 0;
}

int kc_patch_serialize(const struct kc_patch *p, const struct kc_patch_label *labels,
		       size_t nlabels, uint8_t **out, size_t *outlen, struct kc_err *err)
{
	struct pw_buf f = {0}, str = {0}, fn = {0}, sy = {0}, rl = {0}, symtab = {0}, lstr = {0},
		      shstr = {0};
	static const char *const names[S_N] = {
	    "",
	    KC_PF_SEC_META,
	    KC_PF_SEC_STRTAB,
	    KC_PF_SEC_TEXT,
	    KC_PF_SEC_RODATA,
	    KC_PF_SEC_DATA,
	    KC_PF_SEC_BSS,
	    KC_PF_SEC_FUNCS,
	    KC_PF_SEC_SYMS,
	    KC_PF_SEC_RELOCS,
	    ".symtab",
	    ".strtab",
	    ".shstrtab",
	};
	Elf64_Shdr sh[S_N] = {{0}};
	struct kc_pf_meta m = {0};
	Elf64_Ehdr eh = {0};
	int ret;

	*out = NULL;
	*outlen = 0;
	if ((ret = kc_patch_validate(p, err)) < 0)
		return ret;
	pw_put(&str, "", 1, 1);
	pw_put(&lstr, "", 1, 1);
	pw_put(&shstr, "", 1, 1);
	if (pw_build_tables(p, &str, &fn, &sy, &rl, &m) < 0) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = pw_build_symtab(p, labels, nlabels, &symtab, &lstr, err)) < 0)
		goto out;
	for (int i = 1; i < S_N; i++)
		sh[i].sh_name = pw_str(&shstr, names[i]);

	pw_reserve(&f, sizeof(eh), 1);
#define PW_SEC(idx, type, flags, data, size, align)                                                \
	do {                                                                                       \
		sh[idx].sh_type = (type);                                                          \
		sh[idx].sh_flags = (flags);                                                        \
		sh[idx].sh_offset = pw_put(&f, (data), (size), (align));                           \
		sh[idx].sh_size = (size);                                                          \
		sh[idx].sh_addralign = (align);                                                    \
	} while (0)
	PW_SEC(S_META, SHT_PROGBITS, 0, &m, sizeof(m), 8);
	PW_SEC(S_STRTAB, SHT_STRTAB, 0, str.p, str.len, 1);
	PW_SEC(S_TEXT, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, p->image, p->text_size, 16);
	PW_SEC(S_RODATA, SHT_PROGBITS, SHF_ALLOC, p->image + p->rodata_off, p->rodata_size, 16);
	PW_SEC(S_DATA, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, p->image + p->data_off, p->data_size,
	       16);
	PW_SEC(S_FUNCS, SHT_PROGBITS, 0, fn.p, fn.len, 8);
	PW_SEC(S_SYMS, SHT_PROGBITS, 0, sy.p, sy.len, 8);
	PW_SEC(S_RELOCS, SHT_PROGBITS, 0, rl.p, rl.len, 8);
	PW_SEC(S_SYMTAB, SHT_SYMTAB, 0, symtab.p, symtab.len, 8);
	PW_SEC(S_STR, SHT_STRTAB, 0, lstr.p, lstr.len, 1);
	PW_SEC(S_SHSTR, SHT_STRTAB, 0, shstr.p, shstr.len, 1);
#undef PW_SEC
	sh[S_RODATA].sh_addr = p->rodata_off;
	sh[S_DATA].sh_addr = p->data_off;
	sh[S_BSS].sh_type = SHT_NOBITS;
	sh[S_BSS].sh_flags = SHF_ALLOC | SHF_WRITE;
	sh[S_BSS].sh_addr = p->bss_off;
	sh[S_BSS].sh_offset = f.len;
	sh[S_BSS].sh_size = p->bss_size;
	sh[S_BSS].sh_addralign = pw_addralign(p->bss_off);
	sh[S_SYMTAB].sh_entsize = sizeof(Elf64_Sym);
	sh[S_SYMTAB].sh_link = S_STR;
	sh[S_SYMTAB].sh_info = (uint32_t)(symtab.len / sizeof(Elf64_Sym)); /* all local */
	sh[S_FUNCS].sh_entsize = sizeof(struct kc_pf_func);
	sh[S_SYMS].sh_entsize = sizeof(struct kc_pf_sym);
	sh[S_RELOCS].sh_entsize = sizeof(struct kc_pf_reloc);

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_REL;
	eh.e_machine = (uint16_t)p->machine;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = S_N;
	eh.e_shstrndx = S_SHSTR;
	eh.e_shoff = pw_put(&f, sh, sizeof(sh), 8);
	if (!f.oom)
		memcpy(f.p, &eh, sizeof(eh));
	if (f.oom) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	*out = f.p;
	*outlen = f.len;
	f.p = NULL;
	ret = 0;
out:
	free(f.p);
	free(str.p);
	free(fn.p);
	free(sy.p);
	free(rl.p);
	free(symtab.p);
	free(lstr.p);
	free(shstr.p);
	return ret;
}

int kc_patch_write_file_labels(const struct kc_patch *p, const struct kc_patch_label *labels,
			       size_t nlabels, const char *path, struct kc_err *err)
{
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	if ((ret = kc_patch_serialize(p, labels, nlabels, &buf, &len, err)) < 0)
		return ret;
	ret = kc_file_replace(path, buf, len, 0644, err);
	free(buf);
	return ret;
}

int kc_patch_write_file(const struct kc_patch *p, const char *path, struct kc_err *err)
{
	return kc_patch_write_file_labels(p, NULL, 0, path, err);
}
