// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The patch's unwind table (patchfmt.h, format version 2): the fix
 * object's .eh_frame, cut down to the entries for code that lands in the
 * image and rebased onto the image layout, behind an .eh_frame_hdr search
 * table. It lets the engine unwind a thread that runs inside patch code,
 * so that unpatching or upgrading a function that threads call in a tight
 * loop can drive them out like a patch does.
 *
 * Only what needs no relocation at apply time is kept: CIEs without a
 * personality routine or LSDA (C code), FDEs whose only relocation is
 * their pc_begin against code of the image. Anything else leaves that
 * code without a table, which is no worse than a patch without one: the
 * engine then scans the stack conservatively, as before.
 */
#include <stdlib.h>
#include <string.h>

#include "build/packctx.h"
#include "lib/patchfile.h"

struct unwind_fde {
	size_t at, len; /* the entry in .eh_frame, length word included */
	size_t cie;	/* index in kc_pack_unwind.cies */
	size_t sec;	/* the text section it describes */
	uint64_t sec_rel;
	uint64_t pc; /* image offset, once laid out */
	uint64_t out;
};

struct unwind_cie {
	size_t at, len;
	bool used;
	uint64_t out;
};

struct kc_pack_unwind {
	const uint8_t *data; /* borrowed: the fix's .eh_frame */
	struct unwind_cie *cies;
	size_t ncies;
	struct unwind_fde *fdes;
	size_t nfdes;
};

void kc_pack_unwind_free(struct kc_pack_unwind *u)
{
	if (!u)
		return;
	free(u->cies);
	free(u->fdes);
	free(u);
}

/* The relocations of .eh_frame inside [at, at + len), and the one at pc_begin. */
static size_t unwind_relas_in(const struct kc_objfile_sec *s, size_t at, size_t len,
			      const GElf_Rela **pc_begin)
{
	size_t n = 0;

	*pc_begin = NULL;
	for (size_t k = 0; k < s->nrelas; k++) {
		if (s->relas[k].r_offset < at || s->relas[k].r_offset >= at + len)
			continue;
		n++;
		if (s->relas[k].r_offset == at + 8)
			*pc_begin = &s->relas[k];
	}
	return n;
}

/* An FDE the image can carry: pc_begin is its only relocation, PC32 against kept code. */
static bool unwind_fde_target(const struct kc_pack_ctx *c, const struct kc_objfile_sec *s,
			      size_t at, size_t len, struct unwind_fde *f)
{
	const GElf_Rela *r;
	const GElf_Sym *sym;
	int64_t rel;

	if (len < 4 + 12 || unwind_relas_in(s, at, len, &r) != 1 || !r ||
	    GELF_R_TYPE(r->r_info) != R_X86_64_PC32)
		return false;
	sym = &c->obj->syms[GELF_R_SYM(r->r_info)].sym;
	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= c->obj->nsecs ||
	    c->kind[sym->st_shndx] != KC_SEC_TEXT)
		return false;
	/* the field holds S + A - P, so the code starts at S + A; pc_range follows it */
	rel = (int64_t)sym->st_value + r->r_addend;
	if (rel < 0 || (uint64_t)rel + kc_pf_get32((const uint8_t *)s->data->d_buf + at + 12) >
			   c->obj->secs[sym->st_shndx].sh.sh_size)
		return false;
	f->sec = sym->st_shndx;
	f->sec_rel = (uint64_t)rel;
	return true;
}

static int unwind_add_cie(struct kc_pack_unwind *u, size_t at, size_t len)
{
	struct unwind_cie *n = reallocarray(u->cies, u->ncies + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	u->cies = n;
	u->cies[u->ncies++] = (struct unwind_cie){at, len, false, 0};
	return 0;
}

static int unwind_add_fde(struct kc_pack_unwind *u, const struct unwind_fde *f)
{
	struct unwind_fde *n = reallocarray(u->fdes, u->nfdes + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	u->fdes = n;
	u->fdes[u->nfdes++] = *f;
	return 0;
}

/* Walks .eh_frame: usable CIEs (no relocation in them), and the FDEs that refer to them. */
static int unwind_walk(struct kc_pack_ctx *c, const struct kc_objfile_sec *s,
		       struct kc_pack_unwind *u)
{
	const uint8_t *d = s->data->d_buf;
	size_t size = s->data->d_size;

	for (size_t at = 0; at + 4 <= size;) {
		uint32_t len = kc_pf_get32(d + at), id;
		const GElf_Rela *r;

		if (len == 0)
			break; /* a terminator */
		if (len == 0xffffffffu || len < 4 || len > size - at - 4)
			return 0; /* 64-bit DWARF or a broken table: keep nothing after it */
		id = kc_pf_get32(d + at + 4);
		if (id == 0) {
			if (kc_pf_cie_supported(d + at, 4 + (size_t)len) &&
			    unwind_relas_in(s, at, 4 + (size_t)len, &r) == 0 &&
			    unwind_add_cie(u, at, 4 + (size_t)len) < 0)
				return -ENOMEM;
		} else {
			struct unwind_fde f = {.at = at, .len = 4 + (size_t)len};
			size_t cie_at = at + 4 - id;

			f.cie = u->ncies;
			for (size_t k = 0; id <= at + 4 && k < u->ncies; k++)
				if (u->cies[k].at == cie_at)
					f.cie = k;
			if (f.cie < u->ncies && unwind_fde_target(c, s, at, f.len, &f)) {
				if (unwind_add_fde(u, &f) < 0)
					return -ENOMEM;
				u->cies[f.cie].used = true;
			}
		}
		at += 4 + (size_t)len;
	}
	return 0;
}

int kc_pack_unwind_plan(struct kc_pack_ctx *c, struct kc_err *err)
{
	const struct kc_objfile_sec *s = NULL;
	struct kc_pack_unwind *u;
	uint64_t size = 0;

	c->unwind_size = 0;
	for (size_t i = 1; i < c->obj->nsecs; i++)
		if (!strcmp(c->obj->secs[i].name, ".eh_frame") && c->obj->secs[i].data &&
		    c->obj->secs[i].data->d_buf)
			s = &c->obj->secs[i];
	if (!s)
		return 0; /* compiled without tables: the patch simply has none */
	u = calloc(1, sizeof(*u));
	if (!u || unwind_walk(c, s, u) < 0) {
		kc_pack_unwind_free(u);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	u->data = s->data->d_buf;
	for (size_t k = 0; k < u->ncies; k++)
		size += u->cies[k].used ? u->cies[k].len : 0;
	for (size_t k = 0; k < u->nfdes; k++)
		size += u->fdes[k].len;
	if (!u->nfdes) {
		kc_pack_unwind_free(u);
		return 0;
	}
	c->unwind = u;
	/* header and search table, the entries, the terminator */
	c->unwind_size = KC_PF_EH_HDR_SIZE + 8 * u->nfdes + size + 4;
	return 0;
}

static int unwind_cmp(const void *a, const void *b)
{
	const struct unwind_fde *x = a, *y = b;

	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

int kc_pack_unwind_emit(struct kc_pack_ctx *c, struct kc_err *err)
{
	struct kc_pack_unwind *u = c->unwind;
	struct kc_patch *p = c->patch;
	uint8_t *t;
	uint64_t pos;

	if (!u)
		return 0;
	if (c->unwind_off + c->unwind_size > p->image_size)
		return kc_err_set(err, -EINVAL, "internal error: no room for the unwind table");
	t = p->image + c->unwind_off;
	for (size_t k = 0; k < u->nfdes; k++)
		u->fdes[k].pc = c->sec_off[u->fdes[k].sec] + u->fdes[k].sec_rel;
	qsort(u->fdes, u->nfdes, sizeof(*u->fdes), unwind_cmp);
	/* two FDEs for one address (a section placed twice cannot happen): keep the table sane */
	for (size_t k = 1; k < u->nfdes; k++)
		if (u->fdes[k].pc == u->fdes[k - 1].pc)
			return kc_err_set(err, -ENOEXEC,
					  "two unwind entries for image offset %#llx",
					  (unsigned long long)u->fdes[k].pc);
	pos = KC_PF_EH_HDR_SIZE + 8 * u->nfdes;
	t[0] = KC_PF_EH_HDR_VERSION;
	t[1] = KC_PF_EH_PE_PCREL_S4;
	t[2] = KC_PF_EH_PE_UDATA4;
	t[3] = KC_PF_EH_PE_DATAREL_S4;
	kc_pf_put32(t + 4, (uint32_t)(pos - 4));
	kc_pf_put32(t + 8, (uint32_t)u->nfdes);
	for (size_t k = 0; k < u->ncies; k++) {
		if (!u->cies[k].used)
			continue;
		memcpy(t + pos, u->data + u->cies[k].at, u->cies[k].len);
		u->cies[k].out = pos;
		pos += u->cies[k].len;
	}
	for (size_t k = 0; k < u->nfdes; k++) {
		struct unwind_fde *f = &u->fdes[k];
		uint8_t *e = t + KC_PF_EH_HDR_SIZE + 8 * k;

		memcpy(t + pos, u->data + f->at, f->len);
		/* the CIE pointer counts back from its own field; pc_begin is relative to its own
		 */
		kc_pf_put32(t + pos + 4, (uint32_t)(pos + 4 - u->cies[f->cie].out));
		kc_pf_put32(t + pos + 8, (uint32_t)(int32_t)((int64_t)f->pc -
							     (int64_t)(c->unwind_off + pos + 8)));
		kc_pf_put32(e, (uint32_t)(int32_t)((int64_t)f->pc - (int64_t)c->unwind_off));
		kc_pf_put32(e + 4, (uint32_t)pos);
		pos += f->len;
	}
	kc_pf_put32(t + pos, 0);
	p->unwind_off = (uint32_t)c->unwind_off;
	p->unwind_size = (uint32_t)c->unwind_size;
	return 0;
}
