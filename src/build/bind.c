// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Binding the symbols that the fix object's relocations name. Defined in
 * the fix: internal. Undefined but defined in the target (any binding,
 * local ones through .symtab or the debug file): a TARGET patch symbol
 * with the target's st_value. Otherwise an EXTERN patch symbol looked up
 * at apply time, with the version from ".symver" spelling (name@VER) or
 * from the target's own import of the name. Patch symbols are shared by
 * every fix symbol that maps to the same name, version and kind.
 *
 * Data the target exports (a default-visibility object of its .dynsym) is
 * not the target's to bind: a program that reads a library's variable has
 * its own copy (R_X86_64_COPY), and the library reaches that copy through
 * its GOT. Such a TARGET symbol is marked KC_PF_SYMF_INTERPOSE with its
 * version, and the engine binds it per process as ld.so did.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "build/bind.h"

static int bind_add(struct kc_pack_ctx *c, const char *name, size_t namelen, const char *version,
		    enum kc_pf_sym_kind kind, uint32_t flags, uint64_t value, uint64_t size,
		    uint32_t *out, struct kc_err *err)
{
	struct kc_patch *p = c->patch;
	struct kc_patch_sym *s;

	for (size_t i = 0; i < p->nsyms; i++) {
		s = &p->syms[i];
		/* two static definitions may share a name: TARGET symbols differ by value */
		if (s->kind == kind && (kind != KC_PF_SYM_TARGET || s->value == value) &&
		    strlen(s->name) == namelen && !strncmp(s->name, name, namelen) &&
		    !strcmp(s->version, version)) {
			/* a weak and a strong reference: the strong one wins */
			s->flags = ((s->flags | flags) & ~KC_PF_SYMF_WEAK) |
				   (s->flags & flags & KC_PF_SYMF_WEAK);
			*out = (uint32_t)i;
			return 0;
		}
	}
	if (p->nsyms == c->cap_syms) {
		size_t cap = c->cap_syms ? 2 * c->cap_syms : 32;
		struct kc_patch_sym *n = realloc(p->syms, cap * sizeof(*n));

		if (!n)
			return kc_err_set(err, -ENOMEM, "out of memory");
		p->syms = n;
		c->cap_syms = cap;
	}
	s = &p->syms[p->nsyms];
	*s = (struct kc_patch_sym){
	    strndup(name, namelen), strdup(version), kind, flags, value, size};
	if (!s->name || !s->version) {
		free(s->name);
		free(s->version);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	*out = (uint32_t)p->nsyms++;
	return 0;
}

/* The target's dynamic symbols and versions, and whether it binds its own definitions. */
struct bind_dyn {
	Elf_Data *syms, *versym, *verdef;
	GElf_Shdr symsh, verdefsh;
	bool binds_own;
};

/*
 * Nothing takes the place of the target's own definitions in a program (first in every scope,
 * DF_1_PIE; ET_EXEC is checked by the caller) or in an object linked with -Bsymbolic.
 */
static bool bind_dynamic_binds_own(Elf_Data *d, const GElf_Shdr *sh)
{
	for (size_t i = 0; d && sh->sh_entsize && i < sh->sh_size / sh->sh_entsize; i++) {
		GElf_Dyn dyn;

		if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag == DT_SYMBOLIC ||
		    (dyn.d_tag == DT_FLAGS && (dyn.d_un.d_val & DF_SYMBOLIC)) ||
		    (dyn.d_tag == DT_FLAGS_1 && (dyn.d_un.d_val & DF_1_PIE)))
			return true;
	}
	return false;
}

static void bind_dyn_read(Elf *elf, struct bind_dyn *d)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	memset(d, 0, sizeof(*d));
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNSYM) {
			d->syms = elf_getdata(scn, NULL);
			d->symsh = sh;
		} else if (sh.sh_type == SHT_GNU_versym) {
			d->versym = elf_getdata(scn, NULL);
		} else if (sh.sh_type == SHT_GNU_verdef) {
			d->verdef = elf_getdata(scn, NULL);
			d->verdefsh = sh;
		} else if (sh.sh_type == SHT_DYNAMIC) {
			d->binds_own |= bind_dynamic_binds_own(elf_getdata(scn, NULL), &sh);
		}
	}
}

/* Name of version definition @ndx, NULL if none. */
static const char *bind_verdef_name(Elf *elf, const struct bind_dyn *d, unsigned ndx)
{
	size_t off = 0;

	for (size_t cnt = 0; d->verdef && cnt < d->verdefsh.sh_info; cnt++) {
		GElf_Verdef def;
		GElf_Verdaux aux;

		if (!gelf_getverdef(d->verdef, (int)off, &def))
			break;
		if (def.vd_ndx == ndx && def.vd_cnt &&
		    gelf_getverdaux(d->verdef, (int)(off + def.vd_aux), &aux))
			return elf_strptr(elf, d->verdefsh.sh_link, aux.vda_name);
		if (!def.vd_next)
			break;
		off += def.vd_next;
	}
	return NULL;
}

/*
 * Whether the target exports @name at @value as data that the process may bind elsewhere: a
 * shared object that does not bind its own (above) with a default-visibility global object of
 * that name and value, of its default version, in .dynsym. *version: that version's name ("" if
 * unversioned; borrowed).
 */
static bool bind_exported_data(const struct kc_target *t, const char *name, uint64_t value,
			       const char **version)
{
	struct bind_dyn d;

	if (t->eh.e_type != ET_DYN)
		return false;
	bind_dyn_read(t->elf, &d);
	if (!d.syms || !d.symsh.sh_entsize || d.binds_own)
		return false;
	for (size_t i = 1; i < d.symsh.sh_size / d.symsh.sh_entsize; i++) {
		GElf_Sym ds;
		GElf_Versym vs = 1;
		const char *n;
		unsigned bind;

		if (!gelf_getsym(d.syms, (int)i, &ds) || ds.st_shndx == SHN_UNDEF ||
		    ds.st_value != value || GELF_ST_TYPE(ds.st_info) != STT_OBJECT)
			continue;
		bind = GELF_ST_BIND(ds.st_info);
		if ((bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) ||
		    GELF_ST_VISIBILITY(ds.st_other) != STV_DEFAULT)
			continue;
		if (!(n = elf_strptr(t->elf, d.symsh.sh_link, ds.st_name)) || strcmp(n, name))
			continue;
		if (d.versym && !gelf_getversym(d.versym, (int)i, &vs))
			continue;
		if (vs & 0x8000)
			continue; /* an older version: a plain reference never binds to it */
		n = (vs & 0x7fff) > 1 ? bind_verdef_name(t->elf, &d, vs & 0x7fff) : "";
		if (!n)
			return false;
		*version = n;
		return true;
	}
	return false;
}

/* TARGET flags and version of a target symbol: FUNC, TLS, or data, maybe interposable. */
static uint32_t bind_target_flags(const struct kc_pack_ctx *c, const char *name, unsigned char type,
				  unsigned char bind, uint64_t value, const char **version)
{
	*version = "";
	if (type == STT_FUNC)
		return KC_PF_SYMF_FUNC;
	if (type == STT_TLS)
		return KC_PF_SYMF_TLS;
	if (type == STT_OBJECT && bind != STB_LOCAL &&
	    bind_exported_data(c->tgt, name, value, version))
		return KC_PF_SYMF_INTERPOSE;
	return 0;
}

static int bind_internal(struct kc_pack_ctx *c, size_t sym, struct kc_err *err)
{
	const struct kc_objfile_sym *s = &c->obj->syms[sym];
	uint16_t shndx = s->sym.st_shndx;

	if (shndx == SHN_COMMON)
		return kc_err_set(err, -ENOTSUP,
				  "common symbol '%s' (compile the fix with -fno-common)", s->name);
	if (shndx >= SHN_LORESERVE)
		return kc_err_set(err, -ENOTSUP, "absolute symbol '%s' is not supported", s->name);
	if (c->kind[shndx] == KC_SEC_SKIP)
		return kc_err_set(err, -ENOTSUP,
				  "symbol '%s' is in section '%s', which is not part of a patch",
				  s->name, c->obj->secs[shndx].name);
	c->bind[sym].kind = KC_BIND_INTERNAL;
	return 0;
}

int kc_bind_sym(struct kc_pack_ctx *c, size_t sym, struct kc_err *err)
{
	const struct kc_objfile_sym *s = &c->obj->syms[sym];
	struct kc_symbind *b = &c->bind[sym];
	const struct kc_target_sym *ts = NULL;
	const struct kc_target_import *im;
	const struct kc_pack_bind *pb;
	const char *at, *version = "";
	uint32_t flags = 0;
	size_t namelen;
	int ret;

	if (b->kind != KC_BIND_NONE)
		return 0;
	if (sym == 0)
		return kc_err_set(err, -ENOEXEC, "relocation against the null symbol");
	if (s->sym.st_shndx != SHN_UNDEF)
		return bind_internal(c, sym, err);
	if (!*s->name)
		return kc_err_set(err, -ENOEXEC, "relocation against an unnamed undefined symbol");
	pb = kc_pack_find_bind(c, sym);
	if (pb && pb->type != STT_GNU_IFUNC) {
		/* the caller resolved it (a static of a known compilation unit) */
		flags = bind_target_flags(c, s->name, pb->type, pb->bind, pb->value, &version);
		ret = bind_add(c, s->name, strlen(s->name), version, KC_PF_SYM_TARGET, flags,
			       pb->value, pb->size, &b->pf, err);
		if (ret == 0)
			b->kind = KC_BIND_PF;
		return ret;
	}
	at = strchr(s->name, '@');
	namelen = at ? (size_t)(at - s->name) : strlen(s->name);
	if (!at) {
		ret = kc_target_lookup(c->tgt, s->name, &ts, err);
		if (ret < 0 && ret != -ENOENT)
			return ret;
		/*
		 * An ifunc symbol is its resolver. If the target fills a GOT slot
		 * with the implementation (IRELATIVE), calls go through that slot;
		 * otherwise a global one is left to the loader's rules as extern.
		 */
		if (ts && ts->type == STT_GNU_IFUNC) {
			uint64_t slot;
			char *gname;

			if (kc_target_ifunc_slot(c->tgt, ts->value, &slot) == 0) {
				if (asprintf(&gname, "%s@got", s->name) < 0)
					return kc_err_set(err, -ENOMEM, "out of memory");
				ret = bind_add(c, gname, strlen(gname), "", KC_PF_SYM_TARGET, 0,
					       slot, 8, &b->pf, err);
				free(gname);
				if (ret == 0) {
					b->kind = KC_BIND_PF;
					b->ifunc = 1;
				}
				return ret;
			}
			if (ts->bind == STB_LOCAL)
				return kc_err_set(err, -ENOTSUP,
						  "local ifunc '%s' of the target is not supported",
						  s->name);
			ts = NULL;
		}
	}
	if (ts) {
		flags = bind_target_flags(c, s->name, ts->type, ts->bind, ts->value, &version);
		ret = bind_add(c, s->name, namelen, version, KC_PF_SYM_TARGET, flags, ts->value,
			       ts->size, &b->pf, err);
		b->tsym = ts;
	} else {
		if (at)
			version = at + 1 + (at[1] == '@');
		else if ((im = kc_target_import(c->tgt, s->name)) != NULL)
			version = im->version;
		flags = (s->bind == STB_WEAK ? KC_PF_SYMF_WEAK : 0) |
			(s->type == STT_TLS ? KC_PF_SYMF_TLS : 0) |
			(s->type == STT_FUNC ? KC_PF_SYMF_FUNC : 0);
		ret = bind_add(c, s->name, namelen, version, KC_PF_SYM_EXTERN, flags, 0, 0, &b->pf,
			       err);
	}
	if (ret == 0)
		b->kind = KC_BIND_PF;
	return ret;
}

int kc_bind_is_func(const struct kc_pack_ctx *c, size_t sym)
{
	const struct kc_symbind *b = &c->bind[sym];
	const struct kc_objfile_sym *s = &c->obj->syms[sym];
	const struct kc_target_import *im;

	if (s->type == STT_FUNC || s->type == STT_GNU_IFUNC)
		return 1;
	if (b->kind == KC_BIND_PF && (c->patch->syms[b->pf].flags & KC_PF_SYMF_FUNC))
		return 1;
	im = kc_target_import(c->tgt, s->name);
	return im && (im->type == STT_FUNC || im->type == STT_GNU_IFUNC);
}
