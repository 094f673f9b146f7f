// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mapping the x86_64 relocations of the fix object onto the patch image
 * (see docs/patch-format.md for the rules). kc_reloc_scan() binds each
 * referenced symbol (internal, target or extern, see bind.c) and decides
 * which PLT stubs and GOT slots the image needs; kc_reloc_apply() then
 * resolves everything known at pack time and emits a kc_pf_reloc for
 * what depends on load addresses. No instruction is rewritten (no GOT
 * relaxation): the fix runs as the compiler emitted it.
 */
#include <stdlib.h>
#include <string.h>

#include "build/bind.h"
#include "build/packctx.h"

static const char *reloc_name(uint32_t type, char *buf, size_t bufsz)
{
	static const char *const names[] = {
	    [R_X86_64_NONE] = "NONE",
	    [R_X86_64_64] = "64",
	    [R_X86_64_PC32] = "PC32",
	    [R_X86_64_GOT32] = "GOT32",
	    [R_X86_64_PLT32] = "PLT32",
	    [R_X86_64_COPY] = "COPY",
	    [R_X86_64_GLOB_DAT] = "GLOB_DAT",
	    [R_X86_64_JUMP_SLOT] = "JUMP_SLOT",
	    [R_X86_64_RELATIVE] = "RELATIVE",
	    [R_X86_64_GOTPCREL] = "GOTPCREL",
	    [R_X86_64_32] = "32",
	    [R_X86_64_32S] = "32S",
	    [R_X86_64_16] = "16",
	    [R_X86_64_PC16] = "PC16",
	    [R_X86_64_8] = "8",
	    [R_X86_64_PC8] = "PC8",
	    [R_X86_64_DTPMOD64] = "DTPMOD64",
	    [R_X86_64_DTPOFF64] = "DTPOFF64",
	    [R_X86_64_TPOFF64] = "TPOFF64",
	    [R_X86_64_TLSGD] = "TLSGD",
	    [R_X86_64_TLSLD] = "TLSLD",
	    [R_X86_64_DTPOFF32] = "DTPOFF32",
	    [R_X86_64_GOTTPOFF] = "GOTTPOFF",
	    [R_X86_64_TPOFF32] = "TPOFF32",
	    [R_X86_64_PC64] = "PC64",
	    [R_X86_64_GOTOFF64] = "GOTOFF64",
	    [R_X86_64_GOTPC32] = "GOTPC32",
	    [R_X86_64_GOT64] = "GOT64",
	    [R_X86_64_GOTPCREL64] = "GOTPCREL64",
	    [R_X86_64_GOTPC64] = "GOTPC64",
	    [R_X86_64_GOTPLT64] = "GOTPLT64",
	    [R_X86_64_PLTOFF64] = "PLTOFF64",
	    [R_X86_64_SIZE32] = "SIZE32",
	    [R_X86_64_SIZE64] = "SIZE64",
	    [R_X86_64_GOTPC32_TLSDESC] = "GOTPC32_TLSDESC",
	    [R_X86_64_TLSDESC_CALL] = "TLSDESC_CALL",
	    [R_X86_64_TLSDESC] = "TLSDESC",
	    [R_X86_64_IRELATIVE] = "IRELATIVE",
	    [R_X86_64_RELATIVE64] = "RELATIVE64",
	    [R_X86_64_GOTPCRELX] = "GOTPCRELX",
	    [R_X86_64_REX_GOTPCRELX] = "REX_GOTPCRELX",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		snprintf(buf, bufsz, "R_X86_64_%s", names[type]);
	else
		snprintf(buf, bufsz, "relocation type %u", type);
	return buf;
}

/* Width of the field each supported type writes; 0 for unsupported ones. */
static unsigned reloc_width(uint32_t type)
{
	switch (type) {
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
	case R_X86_64_GOTTPOFF:
	case R_X86_64_TPOFF32:
	case R_X86_64_TLSGD:
	case R_X86_64_SIZE32:
		return 4;
	case R_X86_64_64:
	case R_X86_64_PC64:
	case R_X86_64_TPOFF64:
	case R_X86_64_SIZE64:
		return 8;
	}
	return 0;
}

static int reloc_refuse(const struct kc_pack_ctx *c, size_t sec, const GElf_Rela *r,
			const char *why, struct kc_err *err)
{
	char buf[48];
	uint32_t type = GELF_R_TYPE(r->r_info);

	return kc_err_set(err, -ENOTSUP, "%s %s against '%s' in section '%s'%s",
			  why ? why : "unsupported relocation", reloc_name(type, buf, sizeof(buf)),
			  c->obj->syms[GELF_R_SYM(r->r_info)].name, c->obj->secs[sec].name,
			  why ? "" : " (compile the fix with -fPIC)");
}

/* Is the extern (or target) symbol a function, for PC32 calls through a stub? */
static int reloc_is_func(const struct kc_pack_ctx *c, size_t sym)
{
	return kc_bind_is_func(c, sym);
}

static int reloc_scan_one(struct kc_pack_ctx *c, size_t sec, const GElf_Rela *r, struct kc_err *err)
{
	uint32_t type = GELF_R_TYPE(r->r_info);
	size_t sym = GELF_R_SYM(r->r_info);
	const struct kc_objfile_sec *s = &c->obj->secs[sec];
	struct kc_symbind *b = &c->bind[sym];
	unsigned w = reloc_width(type);
	int ret, internal, ext;

	if (type == R_X86_64_NONE)
		return 0;
	if (type == R_X86_64_TLSLD || type == R_X86_64_DTPOFF32 || type == R_X86_64_DTPOFF64)
		return reloc_refuse(c, sec, r,
				    "new thread-local variables are not supported:", err);
	if (!w)
		return reloc_refuse(c, sec, r, NULL, err);
	if (c->kind[sec] == KC_SEC_BSS || r->r_offset > s->sh.sh_size ||
	    s->sh.sh_size - r->r_offset < w)
		return kc_err_set(err, -ENOEXEC, "relocation at %#llx is outside section '%s'",
				  (unsigned long long)r->r_offset, s->name);
	if ((ret = kc_bind_sym(c, sym, err)) < 0)
		return ret;
	internal = b->kind == KC_BIND_INTERNAL;
	if (b->ifunc) {
		/* only calls: through a stub that jumps via the target's own slot */
		if (type != R_X86_64_PC32 && type != R_X86_64_PLT32)
			return reloc_refuse(c, sec, r,
					    "only calls to a target ifunc are supported:", err);
		b->need_stub = 1;
		return 0;
	}
	ext = !internal && c->patch->syms[b->pf].kind == KC_PF_SYM_EXTERN;
	switch (type) {
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		if (ext && (type == R_X86_64_PLT32 || reloc_is_func(c, sym))) {
			b->need_stub = b->need_got = 1;
			c->patch->syms[b->pf].flags |= KC_PF_SYMF_FUNC;
		}
		break;
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		b->need_got = 1;
		break;
	case R_X86_64_PC64:
		if (!internal)
			return reloc_refuse(c, sec, r,
					    "unsupported relocation to an external symbol:", err);
		break;
	case R_X86_64_GOTTPOFF:
	case R_X86_64_TLSGD:
	case R_X86_64_TPOFF32:
	case R_X86_64_TPOFF64:
		if (internal || !(c->patch->syms[b->pf].flags & KC_PF_SYMF_TLS))
			return reloc_refuse(
			    c, sec, r, "thread-local relocation against a non-TLS symbol:", err);
		b->need_tp |= type == R_X86_64_GOTTPOFF;
		b->need_gd |= type == R_X86_64_TLSGD;
		break;
	}
	return 0;
}

int kc_reloc_scan(struct kc_pack_ctx *c, struct kc_err *err)
{
	int ret;

	c->bind = calloc(c->obj->nsyms ? c->obj->nsyms : 1, sizeof(*c->bind));
	if (!c->bind)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 1; i < c->obj->nsecs; i++) {
		if (c->kind[i] == KC_SEC_SKIP)
			continue;
		for (size_t k = 0; k < c->obj->secs[i].nrelas; k++)
			if ((ret = reloc_scan_one(c, i, &c->obj->secs[i].relas[k], err)) < 0)
				return ret;
	}
	return 0;
}

static int reloc_emit(struct kc_pack_ctx *c, uint64_t off, enum kc_pf_rel_type type, uint32_t sym,
		      int64_t addend, struct kc_err *err)
{
	struct kc_patch *p = c->patch;

	if (p->nrelocs == c->cap_relocs) {
		size_t cap = c->cap_relocs ? 2 * c->cap_relocs : 64;
		struct kc_patch_reloc *n = realloc(p->relocs, cap * sizeof(*n));

		if (!n)
			return kc_err_set(err, -ENOMEM, "out of memory");
		p->relocs = n;
		c->cap_relocs = cap;
	}
	p->relocs[p->nrelocs++] = (struct kc_patch_reloc){off, type, sym, addend};
	return 0;
}

static void reloc_put32(struct kc_pack_ctx *c, uint64_t off, uint32_t v)
{
	memcpy(c->patch->image + off, &v, 4); /* little-endian host, checked in patchfile.c */
}

static void reloc_put64(struct kc_pack_ctx *c, uint64_t off, uint64_t v)
{
	memcpy(c->patch->image + off, &v, 8);
}

static int reloc_put_pc32(struct kc_pack_ctx *c, size_t sec, const GElf_Rela *r, int64_t v,
			  struct kc_err *err)
{
	if (v < INT32_MIN || v > INT32_MAX)
		return reloc_refuse(c, sec, r, "relocation out of range:", err);
	reloc_put32(c, c->sec_off[sec] + r->r_offset, (uint32_t)(int32_t)v);
	return 0;
}

/* The GOT slots and PLT stubs of one symbol. */
static int reloc_apply_slots(struct kc_pack_ctx *c, size_t sym, struct kc_err *err)
{
	struct kc_symbind *b = &c->bind[sym];
	int ret = 0;

	if (b->need_got) {
		if (b->kind == KC_BIND_INTERNAL)
			ret = reloc_emit(c, b->got, KC_PF_R_IMAGE64, KC_PF_NOSYM,
					 (int64_t)kc_pack_sym_off(c, sym), err);
		else
			ret = reloc_emit(c, b->got, KC_PF_R_ABS64, b->pf, 0, err);
	}
	if (ret == 0 && b->need_tp)
		ret = reloc_emit(c, b->tp, KC_PF_R_TPOFF64, b->pf, 0, err);
	if (ret == 0 && b->need_gd) {
		ret = reloc_emit(c, b->gd, KC_PF_R_DTPMOD64, b->pf, 0, err);
		if (ret == 0 && c->patch->syms[b->pf].kind == KC_PF_SYM_TARGET)
			reloc_put64(c, b->gd + 8, c->patch->syms[b->pf].value);
		else if (ret == 0)
			ret = reloc_emit(c, b->gd + 8, KC_PF_R_DTPOFF64, b->pf, 0, err);
	}
	if (b->need_stub && b->ifunc) {
		/* jmp *target_slot(%rip): the displacement is relocated at apply time */
		static const uint8_t istub[8] = {0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc};

		memcpy(c->patch->image + b->stub, istub, sizeof(istub));
		if (ret == 0)
			ret = reloc_emit(c, b->stub + 2, KC_PF_R_PC32, b->pf, -4, err);
	} else if (b->need_stub) {
		/* jmp *slot(%rip); int3; int3 */
		uint8_t stub[8] = {0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc};
		int32_t rel = (int32_t)((int64_t)b->got - (int64_t)(b->stub + 6));

		memcpy(stub + 2, &rel, 4);
		memcpy(c->patch->image + b->stub, stub, sizeof(stub));
	}
	return ret;
}

static int reloc_apply_one(struct kc_pack_ctx *c, size_t sec, const GElf_Rela *r,
			   struct kc_err *err)
{
	uint32_t type = GELF_R_TYPE(r->r_info);
	size_t sym = GELF_R_SYM(r->r_info);
	struct kc_symbind *b = &c->bind[sym];
	uint64_t P = c->sec_off[sec] + r->r_offset;
	int64_t A = r->r_addend;
	int internal = b->kind == KC_BIND_INTERNAL;
	int64_t X = internal ? (int64_t)kc_pack_sym_off(c, sym) : 0;
	uint64_t size;

	switch (type) {
	case R_X86_64_NONE:
		return 0;
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		if (internal)
			return reloc_put_pc32(c, sec, r, X + A - (int64_t)P, err);
		if (b->stub)
			return reloc_put_pc32(c, sec, r, (int64_t)b->stub + A - (int64_t)P, err);
		return reloc_emit(c, P, KC_PF_R_PC32, b->pf, A, err);
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		return reloc_put_pc32(c, sec, r, (int64_t)b->got + A - (int64_t)P, err);
	case R_X86_64_GOTTPOFF:
		return reloc_put_pc32(c, sec, r, (int64_t)b->tp + A - (int64_t)P, err);
	case R_X86_64_TLSGD:
		return reloc_put_pc32(c, sec, r, (int64_t)b->gd + A - (int64_t)P, err);
	case R_X86_64_64:
		if (internal)
			return reloc_emit(c, P, KC_PF_R_IMAGE64, KC_PF_NOSYM, X + A, err);
		return reloc_emit(c, P, KC_PF_R_ABS64, b->pf, A, err);
	case R_X86_64_PC64:
		reloc_put64(c, P, (uint64_t)(X + A - (int64_t)P));
		return 0;
	case R_X86_64_TPOFF32:
		return reloc_emit(c, P, KC_PF_R_TPOFF32, b->pf, A, err);
	case R_X86_64_TPOFF64:
		return reloc_emit(c, P, KC_PF_R_TPOFF64, b->pf, A, err);
	case R_X86_64_SIZE32:
	case R_X86_64_SIZE64:
		if (internal)
			size = c->obj->syms[sym].sym.st_size;
		else if (c->patch->syms[b->pf].kind == KC_PF_SYM_TARGET)
			size = c->patch->syms[b->pf].size;
		else
			return reloc_refuse(c, sec, r, "size of an extern symbol is unknown:", err);
		if (type == R_X86_64_SIZE64) {
			reloc_put64(c, P, size + (uint64_t)A);
			return 0;
		}
		if ((int64_t)size + A < 0 || (int64_t)size + A > UINT32_MAX)
			return reloc_refuse(c, sec, r, "relocation out of range:", err);
		reloc_put32(c, P, (uint32_t)(size + (uint64_t)A));
		return 0;
	}
	return reloc_refuse(c, sec, r, NULL, err);
}

int kc_reloc_apply(struct kc_pack_ctx *c, struct kc_err *err)
{
	int ret;

	for (size_t i = 0; i < c->obj->nsyms; i++)
		if ((ret = reloc_apply_slots(c, i, err)) < 0)
			return ret;
	for (size_t i = 1; i < c->obj->nsecs; i++) {
		if (c->kind[i] == KC_SEC_SKIP)
			continue;
		for (size_t k = 0; k < c->obj->secs[i].nrelas; k++)
			if ((ret = reloc_apply_one(c, i, &c->obj->secs[i].relas[k], err)) < 0)
				return ret;
	}
	return 0;
}
