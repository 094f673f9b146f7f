// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fix object's .eh_frame: the call frame entries (FDEs) that the
 * patched objects have for the code the fix copies, with the CIEs they
 * refer to. kc_pack_build() turns it into the patch's unwind table
 * (pack-unwind.c), which the engine needs to drive a thread out of patch
 * code on unpatch and upgrade.
 *
 * Only entries pack would keep are carried, so the fix holds no
 * relocation against code or data it does not have: CIEs without
 * personality or LSDA (kc_pf_cie_supported(), no relocation inside) and
 * FDEs whose one relocation is their initial location, R_X86_64_PC32
 * against a copied section, covering code inside it. Everything else is
 * dropped with its relocations; the code it described then has no table,
 * as before. Identical CIEs of several units are written once.
 */
#include <stdlib.h>
#include <string.h>

#include "build/differ-int.h"
#include "lib/patchfile.h"

struct eh_cie {
	size_t at, len; /* in the unit's .eh_frame, length word included */
	int usable;
	size_t out; /* offset in the fix's .eh_frame, (size_t)-1 until written */
};

struct eh_out {
	struct kc_diff_eh *eh;
	size_t cap, caprelas;
};

/* Appends @len bytes; returns their offset, or (size_t)-1 when out of memory. */
static size_t eh_append(struct eh_out *o, const uint8_t *b, size_t len)
{
	size_t at = o->eh->size;

	if (kc_diff_grow((void **)&o->eh->data, &o->cap, at + len, 1) < 0)
		return (size_t)-1;
	memcpy(o->eh->data + at, b, len);
	o->eh->size += len;
	return at;
}

/* How many relocations of @s fall in [at, at + len); *pc: the one at @at + 8, if any. */
static size_t eh_relas_in(const struct kc_objfile_sec *s, size_t at, size_t len,
			  const GElf_Rela **pc)
{
	size_t n = 0;

	*pc = NULL;
	for (size_t k = 0; k < s->nrelas; k++) {
		if (s->relas[k].r_offset < at || s->relas[k].r_offset - at >= len)
			continue;
		n++;
		if (s->relas[k].r_offset == at + 8)
			*pc = &s->relas[k];
	}
	return n;
}

/*
 * The copied section (its fix index in *out_sec) and offset of the code
 * the FDE at @at describes; false when it is not one the fix carries.
 */
static bool eh_fde_code(const struct kc_dcu *cu, const struct kc_objfile_sec *s, const uint8_t *d,
			size_t at, size_t len, size_t *out_sec, int64_t *off)
{
	const struct kc_objfile_sec *code;
	const GElf_Rela *r;
	struct kc_dref ref;

	if (len < 4 + 12 || eh_relas_in(s, at, len, &r) != 1 || !r ||
	    GELF_R_TYPE(r->r_info) != R_X86_64_PC32)
		return false;
	kc_diff_ref(cu->p, r, &ref);
	if (ref.undef || ref.sec == 0 || ref.sec >= cu->p->nsecs || !cu->ps[ref.sec].include ||
	    !cu->ps[ref.sec].out_sec)
		return false;
	code = &cu->p->secs[ref.sec];
	if (!(code->sh.sh_flags & SHF_EXECINSTR))
		return false;
	/* pc_range follows the initial location: the code must lie inside the section */
	if (ref.off < 0 || (uint64_t)ref.off > code->sh.sh_size ||
	    kc_pf_get32(d + at + 12) > code->sh.sh_size - (uint64_t)ref.off)
		return false;
	*out_sec = cu->ps[ref.sec].out_sec;
	*off = ref.off;
	return true;
}

/* The offset of CIE @c in the output, written on first use (or shared with an equal one). */
static size_t eh_cie_out(struct eh_out *o, struct eh_cie *c, const uint8_t *d)
{
	struct kc_diff_eh *eh = o->eh;

	if (c->out != (size_t)-1)
		return c->out;
	for (size_t at = 0; at + c->len <= eh->size;) {
		uint32_t len = kc_pf_get32(eh->data + at);

		if (kc_pf_get32(eh->data + at + 4) == 0 && 4 + (size_t)len == c->len &&
		    !memcmp(eh->data + at, d + c->at, c->len))
			return c->out = at;
		at += 4 + (size_t)len;
	}
	return c->out = eh_append(o, d + c->at, c->len);
}

static int eh_rela(struct eh_out *o, size_t off, size_t sym, int64_t addend)
{
	struct kc_diff_eh *eh = o->eh;

	if (kc_diff_grow((void **)&eh->relas, &o->caprelas, eh->nrelas + 1, sizeof(*eh->relas)) < 0)
		return -ENOMEM;
	eh->relas[eh->nrelas++] = (GElf_Rela){
	    .r_offset = off, .r_info = GELF_R_INFO(sym, R_X86_64_PC32), .r_addend = addend};
	return 0;
}

/* Copies an FDE of @cu's table that describes copied code, with its CIE. */
static int eh_fde(struct eh_out *o, const struct kc_dcu *cu, const struct kc_objfile_sec *s,
		  struct eh_cie *cies, size_t ncies, size_t at, size_t len)
{
	const uint8_t *d = s->data->d_buf;
	uint32_t id = kc_pf_get32(d + at + 4);
	size_t sec, cie_out, out;
	struct eh_cie *c = NULL;
	int64_t off;

	/* the CIE pointer counts back from its own field to a CIE before it */
	for (size_t k = 0; id <= at + 4 && k < ncies; k++)
		if (cies[k].at == at + 4 - id)
			c = &cies[k];
	if (!c || !c->usable || !eh_fde_code(cu, s, d, at, len, &sec, &off))
		return 0;
	cie_out = eh_cie_out(o, c, d);
	if (cie_out == (size_t)-1 || (out = eh_append(o, d + at, len)) == (size_t)-1)
		return -ENOMEM;
	kc_pf_put32(o->eh->data + out + 4, (uint32_t)(out + 4 - cie_out));
	/* with RELA the field's bytes do not count: the relocation says it all */
	kc_pf_put32(o->eh->data + out + 8, 0);
	o->eh->nfdes++;
	/* section symbol k of the fix is symbol k (differ-emit.c) */
	return eh_rela(o, out + 8, sec, off);
}

/* The entries of one unit's .eh_frame; a malformed rest of the table is ignored. */
static int eh_unit(struct eh_out *o, const struct kc_dcu *cu, const struct kc_objfile_sec *s)
{
	const uint8_t *d = s->data->d_buf;
	size_t size = s->data->d_size, ncies = 0, cap = 0;
	struct eh_cie *cies = NULL;
	int ret = 0;

	for (size_t at = 0; at + 8 <= size && ret == 0;) {
		uint32_t len = kc_pf_get32(d + at);
		const GElf_Rela *r;

		/* a terminator, 64-bit DWARF, or a length past the end: nothing usable after it */
		if (len < 4 || len == 0xffffffffu || len > size - at - 4)
			break;
		if (kc_pf_get32(d + at + 4) == 0) {
			if (kc_diff_grow((void **)&cies, &cap, ncies + 1, sizeof(*cies)) < 0) {
				ret = -ENOMEM;
				break;
			}
			cies[ncies++] = (struct eh_cie){
			    .at = at,
			    .len = 4 + (size_t)len,
			    .usable = kc_pf_cie_supported(d + at, 4 + (size_t)len) &&
				      eh_relas_in(s, at, 4 + (size_t)len, &r) == 0,
			    .out = (size_t)-1};
		} else {
			ret = eh_fde(o, cu, s, cies, ncies, at, 4 + (size_t)len);
		}
		at += 4 + (size_t)len;
	}
	free(cies);
	return ret;
}

int kc_diff_eh_build(const struct kc_diff *d, struct kc_diff_eh *eh, struct kc_err *err)
{
	struct eh_out o = {.eh = eh};
	static const uint8_t zero[4];
	int ret = 0;

	memset(eh, 0, sizeof(*eh));
	for (size_t c = 0; c < d->ncus && ret == 0; c++) {
		const struct kc_dcu *cu = &d->cus[c];

		for (size_t i = 1; i < cu->p->nsecs && ret == 0; i++) {
			const struct kc_objfile_sec *s = &cu->p->secs[i];

			if (!strcmp(s->name, ".eh_frame") && s->sh.sh_type != SHT_NOBITS &&
			    s->data && s->data->d_buf)
				ret = eh_unit(&o, cu, s);
		}
	}
	if (ret == 0 && eh->nfdes && eh_append(&o, zero, sizeof(zero)) == (size_t)-1)
		ret = -ENOMEM;
	if (ret == 0 && !eh->nfdes) {
		kc_diff_eh_release(eh); /* CIEs alone describe nothing */
		return 0;
	}
	if (ret < 0) {
		kc_diff_eh_release(eh);
		return kc_err_set(err, ret, "out of memory");
	}
	return 0;
}

void kc_diff_eh_release(struct kc_diff_eh *eh)
{
	free(eh->data);
	free(eh->relas);
	memset(eh, 0, sizeof(*eh));
}
