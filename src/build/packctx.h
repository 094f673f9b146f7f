/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State shared by the packing passes (private to src/build): what each
 * section and symbol of the fix object becomes in the patch image. The
 * passes run in this order, each filling its part:
 *   kc_layout_classify()  section kinds, refusals of unsupported sections
 *   kc_reloc_scan()       symbol binding, needed PLT stubs and GOT slots
 *   kc_layout_assign()    image offsets, the image with section bytes
 *   kc_reloc_apply()      stubs, GOT slots, fields, patch relocations
 * and, around the layout, kc_pack_unwind_plan() (after classify: which
 * unwind entries are kept, the table's size) and kc_pack_unwind_emit()
 * (after assign: the table written into rodata).
 */
#ifndef KC_BUILD_PACKCTX_H
#define KC_BUILD_PACKCTX_H

#include <stdint.h>

#include "build/objfile.h"
#include "build/pack.h"
#include "build/target.h"
#include "kcare/patch.h"

enum kc_sec_kind { KC_SEC_SKIP, KC_SEC_TEXT, KC_SEC_RODATA, KC_SEC_DATA, KC_SEC_BSS };

enum kc_bind_kind {
	KC_BIND_NONE,	  /* not referenced by a kept relocation */
	KC_BIND_INTERNAL, /* defined in the fix: an image offset */
	KC_BIND_PF,	  /* a patch symbol (TARGET or EXTERN): ctx->patch->syms[pf] */
};

/* Image offsets below are 0 when not needed (offset 0 is never a stub or slot). */
struct kc_symbind {
	enum kc_bind_kind kind;
	uint32_t pf;
	const struct kc_target_sym *tsym; /* borrowed; TARGET only */
	int ifunc; /* TARGET ifunc: pf names the target's GOT slot of the implementation */
	int need_stub, need_got, need_tp, need_gd;
	uint64_t stub, got, tp, gd;
};

struct kc_pack_ctx {
	struct kc_objfile *obj;		 /* borrowed */
	struct kc_target *tgt;		 /* borrowed */
	const struct kc_pack_opts *opts; /* borrowed; binds of the caller */
	enum kc_sec_kind *kind;		 /* owned; per section of obj */
	uint64_t *sec_off;		 /* owned; image offset per kept section */
	struct kc_symbind *bind;	 /* owned; per symbol of obj */
	struct kc_patch *patch;		 /* owned; syms, relocs and image are built here */
	size_t cap_syms, cap_relocs;
	uint64_t plt_off, got_off;
	struct kc_pack_unwind *unwind;	  /* owned; the fix's unwind entries kept (pack-unwind.c) */
	uint64_t unwind_off, unwind_size; /* the unwind table in rodata; size 0: none */
};

/* The caller's bind for symbol @sym of the fix, or NULL. */
const struct kc_pack_bind *kc_pack_find_bind(const struct kc_pack_ctx *c, size_t sym);

int kc_layout_classify(struct kc_pack_ctx *c, struct kc_err *err);
int kc_layout_assign(struct kc_pack_ctx *c, struct kc_err *err);
int kc_reloc_scan(struct kc_pack_ctx *c, struct kc_err *err);
int kc_reloc_apply(struct kc_pack_ctx *c, struct kc_err *err);
int kc_pack_unwind_plan(struct kc_pack_ctx *c, struct kc_err *err);
int kc_pack_unwind_emit(struct kc_pack_ctx *c, struct kc_err *err);
void kc_pack_unwind_free(struct kc_pack_unwind *u);

/* Image offset of a symbol defined in a kept section of the fix. */
static inline uint64_t kc_pack_sym_off(const struct kc_pack_ctx *c, size_t sym)
{
	const GElf_Sym *s = &c->obj->syms[sym].sym;

	return c->sec_off[s->st_shndx] + s->st_value;
}

#endif
