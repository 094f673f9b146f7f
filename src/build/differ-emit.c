// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fix object: a relocatable x86_64 ELF file written with libelf that
 * holds the sections kc_diff_include() picked from every changed unit,
 * ready for kc_pack_build(). Defined symbols become local (units may
 * share static names); a reference to something the fix carries becomes
 * section symbol + offset; a reference to the target's own definition
 * becomes an undefined symbol with a kc_pack_bind giving its address;
 * everything else stays an undefined symbol by name (libc, or a global
 * of an unchanged unit, which pack finds in the target). The copied
 * code's call frame entries follow as .eh_frame (differ-eh.c), so that
 * the patch gets an unwind table as a compiled fix object does.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/differ-int.h"

struct emit_str {
	char *buf; /* owned */
	size_t len, cap;
};

struct emit_out {
	size_t cu, sec;	  /* the patched section copied */
	GElf_Rela *relas; /* owned */
	size_t nrelas;
};

struct emit_ctx {
	struct kc_diff *d;
	struct emit_out *secs; /* owned; secs[k] is fix section k + 1 */
	size_t nsecs;
	GElf_Sym *syms; /* owned */
	size_t nsyms, capsyms, nlocal;
	struct emit_str strtab, shstrtab;
	struct kc_pack_bind *binds; /* owned until handed to the caller */
	size_t nbinds, capbinds;
	size_t *externs; /* owned; symbol indices of the extern names */
	size_t nexterns, capexterns;
	struct kc_diff_eh eh; /* owned; after the copied sections when it has entries */
};

int kc_diff_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t cap2 = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (cap2 < need)
		cap2 *= 2;
	n = realloc(*p, cap2 * elem);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = cap2;
	return 0;
}

/* Appends @s; returns its offset, or (size_t)-1 when out of memory. */
static size_t emit_str_add(struct emit_str *t, const char *s)
{
	size_t n = strlen(s) + 1, off = t->len;

	if (!t->len) {
		if (kc_diff_grow((void **)&t->buf, &t->cap, 1, 1) < 0)
			return (size_t)-1;
		t->buf[t->len++] = '\0';
		off = 1;
	}
	if (!*s)
		return 0;
	if (kc_diff_grow((void **)&t->buf, &t->cap, t->len + n, 1) < 0)
		return (size_t)-1;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	return off;
}

static int emit_sym(struct emit_ctx *x, const char *name, unsigned char bind, unsigned char type,
		    size_t shndx, uint64_t value, uint64_t size, size_t *idx, struct kc_err *err)
{
	size_t off = emit_str_add(&x->strtab, name);

	if (off == (size_t)-1 ||
	    kc_diff_grow((void **)&x->syms, &x->capsyms, x->nsyms + 1, sizeof(*x->syms)) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	x->syms[x->nsyms] = (GElf_Sym){.st_name = (Elf64_Word)off,
				       .st_info = GELF_ST_INFO(bind, type),
				       .st_shndx = (Elf64_Section)shndx,
				       .st_value = value,
				       .st_size = size};
	if (idx)
		*idx = x->nsyms;
	x->nsyms++;
	return 0;
}

static int emit_bind(struct emit_ctx *x, size_t sym, const struct kc_dsec *s, int replace,
		     struct kc_err *err)
{
	if (kc_diff_grow((void **)&x->binds, &x->capbinds, x->nbinds + 1, sizeof(*x->binds)) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	x->binds[x->nbinds++] =
	    (struct kc_pack_bind){sym, s->tvalue, s->tsize, s->ttype, s->tbind, replace};
	return 0;
}

/* Section symbols, then the defined symbols of every copied section: all local. */
static int emit_locals(struct emit_ctx *x, struct kc_err *err)
{
	int ret;

	if ((ret = emit_sym(x, "", STB_LOCAL, STT_NOTYPE, 0, 0, 0, NULL, err)) < 0)
		return ret;
	for (size_t k = 0; k < x->nsecs; k++)
		if ((ret = emit_sym(x, "", STB_LOCAL, STT_SECTION, k + 1, 0, 0, NULL, err)) < 0)
			return ret;
	for (size_t k = 0; k < x->nsecs; k++) {
		struct kc_dcu *cu = &x->d->cus[x->secs[k].cu];
		size_t sec = x->secs[k].sec;
		struct kc_dsec *s = &cu->ps[sec];

		for (size_t i = 1; i < cu->p->nsyms; i++) {
			const struct kc_objfile_sym *ps = &cu->p->syms[i];
			const char *name = ps->name;
			size_t idx;

			if (ps->sym.st_shndx != sec || !*name ||
			    (ps->type != STT_FUNC && ps->type != STT_OBJECT && ps->type != STT_TLS))
				continue;
			/* a replacement carries the target's name (a clone may be renumbered) */
			if (i == s->entry && s->replace)
				name = cu->o->syms[cu->os[s->pair].entry].name;
			ret = emit_sym(x, name, STB_LOCAL, ps->type, k + 1, ps->sym.st_value,
				       ps->sym.st_size, &idx, err);
			if (ret == 0 && i == s->entry && s->replace)
				ret = emit_bind(x, idx, s, 1, err);
			if (ret < 0)
				return ret;
		}
	}
	x->nlocal = x->nsyms;
	return 0;
}

/* Undefined symbols for the target's definitions that copied code uses. */
static int emit_bound(struct emit_ctx *x, struct kc_err *err)
{
	for (size_t c = 0; c < x->d->ncus; c++) {
		struct kc_dcu *cu = &x->d->cus[c];

		for (size_t i = 1; i < cu->p->nsecs; i++) {
			struct kc_dsec *s = &cu->ps[i];
			const char *name;
			int ret;

			if (!s->bound)
				continue;
			name = cu->o->syms[cu->os[s->pair].entry].name;
			ret = emit_sym(x, name, STB_GLOBAL,
				       s->ttype == STT_FUNC ? STT_FUNC : s->ttype, SHN_UNDEF, 0, 0,
				       &s->out_sym, err);
			if (ret == 0)
				ret = emit_bind(x, s->out_sym, s, 0, err);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* The undefined symbol for extern @ps (one per name; a strong use wins over weak). */
static int emit_extern(struct emit_ctx *x, const struct kc_objfile_sym *ps, size_t *idx,
		       struct kc_err *err)
{
	unsigned char bind = ps->bind == STB_WEAK ? STB_WEAK : STB_GLOBAL;
	int ret;

	for (size_t k = 0; k < x->nexterns; k++) {
		GElf_Sym *s = &x->syms[x->externs[k]];

		if (strcmp(x->strtab.buf + s->st_name, ps->name))
			continue;
		if (bind == STB_GLOBAL)
			s->st_info = GELF_ST_INFO(STB_GLOBAL, GELF_ST_TYPE(s->st_info));
		*idx = x->externs[k];
		return 0;
	}
	if (kc_diff_grow((void **)&x->externs, &x->capexterns, x->nexterns + 1, sizeof(size_t)) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	ret = emit_sym(x, ps->name, bind, ps->type, SHN_UNDEF, 0, 0, idx, err);
	if (ret == 0)
		x->externs[x->nexterns++] = *idx;
	return ret;
}

/* Symbol and addend for a reference to offset @off of section @sec of unit @c. */
static int emit_target(struct emit_ctx *x, size_t c, size_t sec, int64_t off, size_t *sym,
		       int64_t *addend, struct kc_err *err)
{
	struct kc_dcu *cu = &x->d->cus[c];
	struct kc_dsec *s = &cu->ps[sec];

	if (s->include && s->out_sec) {
		*sym = s->out_sec; /* section symbol k + 1 is symbol k + 1 */
		*addend = off;
		return 0;
	}
	if (s->bound) {
		*sym = s->out_sym;
		*addend = off - (int64_t)cu->p->syms[s->entry].sym.st_value;
		return 0;
	}
	return kc_err_set(err, -EINVAL,
			  "internal error: section '%s' of '%s' is neither copied nor bound",
			  cu->p->secs[sec].name, cu->file ? cu->file : cu->rel);
}

static int emit_relocs(struct emit_ctx *x, struct emit_out *out, struct kc_err *err)
{
	struct kc_dcu *cu = &x->d->cus[out->cu];
	const struct kc_objfile_sec *sec = &cu->p->secs[out->sec];
	int ret = 0;

	if (!sec->nrelas)
		return 0;
	out->relas = calloc(sec->nrelas, sizeof(*out->relas));
	if (!out->relas)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t k = 0; k < sec->nrelas && ret == 0; k++) {
		const GElf_Rela *r = &sec->relas[k];
		const struct kc_objfile_sym *ps = &cu->p->syms[GELF_R_SYM(r->r_info)];
		struct kc_dref ref;
		size_t sym = 0, c2, s2;
		int64_t addend = r->r_addend;

		kc_diff_ref(cu->p, r, &ref);
		if (ref.undef == 1 && kc_diff_find_global(x->d, ref.name, &c2, &s2) == 0) {
			const GElf_Sym *def = &x->d->cus[c2].p->syms[s2].sym;

			ret = emit_target(x, c2, def->st_shndx,
					  (int64_t)def->st_value + r->r_addend, &sym, &addend, err);
		} else if (ref.undef == 1) {
			ret = emit_extern(x, ps, &sym, err);
		} else if (ref.undef) {
			ret = kc_err_set(err, -ENOTSUP,
					 "absolute symbol '%s' in '%s' is not supported", ps->name,
					 cu->file ? cu->file : cu->rel);
		} else {
			ret = emit_target(x, out->cu, ref.sec, ref.off, &sym, &addend, err);
		}
		out->relas[k] =
		    (GElf_Rela){r->r_offset, GELF_R_INFO(sym, GELF_R_TYPE(r->r_info)), addend};
		out->nrelas++;
	}
	return ret;
}

static Elf_Scn *emit_scn(Elf *e, const char *name, struct emit_str *shstr, uint32_t type,
			 uint64_t flags, void *buf, size_t size, uint64_t align, Elf_Type dtype,
			 uint64_t entsize, uint32_t link, uint32_t info)
{
	Elf_Scn *scn = elf_newscn(e);
	Elf_Data *d = scn ? elf_newdata(scn) : NULL;
	size_t off = emit_str_add(shstr, name);
	GElf_Shdr sh;

	if (!d || off == (size_t)-1 || !gelf_getshdr(scn, &sh))
		return NULL;
	d->d_buf = buf;
	d->d_size = size;
	d->d_align = align ? align : 1;
	d->d_type = dtype;
	d->d_version = EV_CURRENT;
	sh.sh_name = (Elf64_Word)off;
	sh.sh_type = type;
	sh.sh_flags = flags;
	sh.sh_addralign = align ? align : 1;
	sh.sh_entsize = entsize;
	sh.sh_link = link;
	sh.sh_info = info;
	sh.sh_size = size;
	return gelf_update_shdr(scn, &sh) ? scn : NULL;
}

static int emit_write(struct emit_ctx *x, const char *path, struct kc_err *err)
{
	size_t nrela = 0, symtab, k;
	char **names = NULL;
	GElf_Ehdr eh;
	Elf *e = NULL;
	int fd, ret = 0;

	for (k = 0; k < x->nsecs; k++)
		nrela += x->secs[k].nrelas > 0;
	/* the copied sections, .eh_frame, their relocation sections, .symtab */
	symtab = x->nsecs + nrela + 1 + (x->eh.size ? 2 : 0);
	names = calloc(x->nsecs ? x->nsecs : 1, sizeof(*names));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !names) {
		ret = kc_err_set(err, fd < 0 ? -errno : -ENOMEM, "cannot write '%s'", path);
		goto out;
	}
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!e || !gelf_newehdr(e, ELFCLASS64) || !gelf_getehdr(e, &eh))
		goto elf_fail;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_machine = EM_X86_64;
	eh.e_type = ET_REL;
	eh.e_version = EV_CURRENT;
	for (k = 0; k < x->nsecs; k++) {
		const struct kc_objfile_sec *s = &x->d->cus[x->secs[k].cu].p->secs[x->secs[k].sec];
		int nobits = s->sh.sh_type == SHT_NOBITS;

		if (!emit_scn(e, s->name, &x->shstrtab, s->sh.sh_type, s->sh.sh_flags & ~SHF_GROUP,
			      nobits || !s->data ? NULL : s->data->d_buf, s->sh.sh_size,
			      s->sh.sh_addralign, ELF_T_BYTE, s->sh.sh_entsize, 0, 0))
			goto elf_fail;
	}
	if (x->eh.size && !emit_scn(e, ".eh_frame", &x->shstrtab, SHT_X86_64_UNWIND, SHF_ALLOC,
				    x->eh.data, x->eh.size, 8, ELF_T_BYTE, 0, 0, 0))
		goto elf_fail;
	for (k = 0; k < x->nsecs; k++) {
		const struct kc_objfile_sec *s = &x->d->cus[x->secs[k].cu].p->secs[x->secs[k].sec];

		if (!x->secs[k].nrelas)
			continue;
		if (asprintf(&names[k], ".rela%s", s->name) < 0) {
			names[k] = NULL;
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		if (!emit_scn(e, names[k], &x->shstrtab, SHT_RELA, SHF_INFO_LINK, x->secs[k].relas,
			      x->secs[k].nrelas * sizeof(Elf64_Rela), 8, ELF_T_RELA,
			      sizeof(Elf64_Rela), (uint32_t)symtab, (uint32_t)(k + 1)))
			goto elf_fail;
	}
	if (x->eh.size && !emit_scn(e, ".rela.eh_frame", &x->shstrtab, SHT_RELA, SHF_INFO_LINK,
				    x->eh.relas, x->eh.nrelas * sizeof(Elf64_Rela), 8, ELF_T_RELA,
				    sizeof(Elf64_Rela), (uint32_t)symtab, (uint32_t)(x->nsecs + 1)))
		goto elf_fail;
	if (!emit_scn(e, ".symtab", &x->shstrtab, SHT_SYMTAB, 0, x->syms,
		      x->nsyms * sizeof(Elf64_Sym), 8, ELF_T_SYM, sizeof(Elf64_Sym),
		      (uint32_t)symtab + 1, (uint32_t)x->nlocal) ||
	    !emit_scn(e, ".strtab", &x->shstrtab, SHT_STRTAB, 0, x->strtab.buf, x->strtab.len, 1,
		      ELF_T_BYTE, 0, 0, 0))
		goto elf_fail;
	/* the name of .shstrtab itself must be in it before its size is fixed */
	if (emit_str_add(&x->shstrtab, ".shstrtab") == (size_t)-1) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	{
		Elf_Scn *scn = elf_newscn(e);
		Elf_Data *d = scn ? elf_newdata(scn) : NULL;
		GElf_Shdr sh;

		if (!d || !gelf_getshdr(scn, &sh))
			goto elf_fail;
		d->d_buf = x->shstrtab.buf;
		d->d_size = x->shstrtab.len;
		d->d_align = 1;
		d->d_type = ELF_T_BYTE;
		d->d_version = EV_CURRENT;
		sh.sh_name = (Elf64_Word)(x->shstrtab.len - strlen(".shstrtab") - 1);
		sh.sh_type = SHT_STRTAB;
		sh.sh_addralign = 1;
		sh.sh_size = x->shstrtab.len;
		if (!gelf_update_shdr(scn, &sh))
			goto elf_fail;
		eh.e_shstrndx = (Elf64_Half)elf_ndxscn(scn);
	}
	if (!gelf_update_ehdr(e, &eh) || elf_update(e, ELF_C_WRITE) < 0)
		goto elf_fail;
	goto out;
elf_fail:
	ret = kc_err_set(err, -EIO, "cannot write the fix object '%s': %s", path, elf_errmsg(-1));
out:
	if (e)
		elf_end(e);
	if (fd >= 0 && close(fd) < 0 && ret == 0)
		ret = kc_err_set(err, -errno, "cannot write '%s': %s", path, strerror(errno));
	for (k = 0; names && k < x->nsecs; k++)
		free(names[k]);
	free(names);
	return ret;
}

int kc_emit_fix(struct kc_diff *d, const char *path, struct kc_pack_bind **binds, size_t *nbinds,
		struct kc_err *err)
{
	struct emit_ctx x = {.d = d};
	size_t cap = 0;
	int ret = 0;

	*binds = NULL;
	*nbinds = 0;
	for (size_t c = 0; c < d->ncus && ret == 0; c++)
		for (size_t i = 1; i < d->cus[c].p->nsecs; i++) {
			if (!d->cus[c].ps[i].include)
				continue;
			if (kc_diff_grow((void **)&x.secs, &cap, x.nsecs + 1, sizeof(*x.secs)) <
			    0) {
				ret = kc_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			x.secs[x.nsecs] = (struct emit_out){c, i, NULL, 0};
			d->cus[c].ps[i].out_sec = ++x.nsecs;
		}
	if (ret == 0)
		ret = emit_locals(&x, err);
	if (ret == 0)
		ret = emit_bound(&x, err);
	for (size_t k = 0; k < x.nsecs && ret == 0; k++)
		ret = emit_relocs(&x, &x.secs[k], err);
	if (ret == 0)
		ret = kc_diff_eh_build(d, &x.eh, err);
	if (ret == 0)
		ret = emit_write(&x, path, err);
	if (ret == 0) {
		*binds = x.binds;
		*nbinds = x.nbinds;
		x.binds = NULL;
	}
	for (size_t k = 0; k < x.nsecs; k++)
		free(x.secs[k].relas);
	free(x.secs);
	free(x.syms);
	free(x.externs);
	free(x.strtab.buf);
	free(x.shstrtab.buf);
	free(x.binds);
	kc_diff_eh_release(&x.eh);
	return ret;
}
