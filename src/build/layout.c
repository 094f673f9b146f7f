// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The image layout of a patch: which sections of the fix object are
 * kept and where each lands. Text sections, then PLT stubs, at offset 0;
 * on the next page read-only data, then GOT slots; on the next page
 * writable data (including .data.rel.ro, which is SHF_WRITE); bss right
 * after data. Unwind tables, notes, comments and debug sections are
 * dropped, thread-local sections refused.
 */
#include <stdlib.h>
#include <string.h>

#include "build/packctx.h"

#define LAYOUT_PAGE(x) (((x) + KC_PF_PAGE - 1) & ~(uint64_t)(KC_PF_PAGE - 1))

static int layout_is_dropped(const struct kc_objfile_sec *s)
{
	static const char *const prefixes[] = {".eh_frame", ".note",	".comment",	".debug",
					       ".zdebug",   ".gnu.lto", ".llvm_addrsig"};

	if (!(s->sh.sh_flags & SHF_ALLOC) || s->sh.sh_type == SHT_NOTE ||
	    s->sh.sh_type == SHT_GROUP || s->sh.sh_type == SHT_X86_64_UNWIND)
		return 1;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(s->name, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

int kc_layout_classify(struct kc_pack_ctx *c, struct kc_err *err)
{
	struct kc_objfile *o = c->obj;

	c->kind = calloc(o->nsecs, sizeof(*c->kind));
	c->sec_off = calloc(o->nsecs, sizeof(*c->sec_off));
	if (!c->kind || !c->sec_off)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 1; i < o->nsecs; i++) {
		const struct kc_objfile_sec *s = &o->secs[i];
		uint64_t f = s->sh.sh_flags;

		c->kind[i] = KC_SEC_SKIP;
		if (layout_is_dropped(s))
			continue;
		if (f & SHF_TLS)
			return kc_err_set(err, -ENOTSUP,
					  "new thread-local variables are not supported "
					  "(section '%s')",
					  s->name);
		if (s->sh.sh_addralign > KC_PF_PAGE)
			return kc_err_set(err, -ENOTSUP,
					  "section '%s' is aligned to more than a page", s->name);
		if (s->sh.sh_type == SHT_PROGBITS && (f & SHF_EXECINSTR))
			c->kind[i] = KC_SEC_TEXT;
		else if (s->sh.sh_type == SHT_PROGBITS && (f & SHF_WRITE))
			c->kind[i] = KC_SEC_DATA;
		else if (s->sh.sh_type == SHT_PROGBITS)
			c->kind[i] = KC_SEC_RODATA;
		else if (s->sh.sh_type == SHT_NOBITS)
			c->kind[i] = KC_SEC_BSS;
		else
			return kc_err_set(err, -ENOTSUP,
					  "section '%s' of type %#x is not supported in a patch",
					  s->name, (unsigned)s->sh.sh_type);
	}
	return 0;
}

static uint64_t layout_align(uint64_t off, uint64_t align)
{
	return align > 1 ? (off + align - 1) & ~(align - 1) : off;
}

/* Places every kept section of @kind from @off on; returns the end offset. */
static uint64_t layout_place(struct kc_pack_ctx *c, enum kc_sec_kind kind, uint64_t off)
{
	for (size_t i = 1; i < c->obj->nsecs; i++) {
		if (c->kind[i] != kind)
			continue;
		off = layout_align(off, c->obj->secs[i].sh.sh_addralign);
		c->sec_off[i] = off;
		off += c->obj->secs[i].sh.sh_size;
	}
	return off;
}

static uint64_t layout_bss_align(const struct kc_pack_ctx *c)
{
	uint64_t a = 1;

	for (size_t i = 1; i < c->obj->nsecs; i++)
		if (c->kind[i] == KC_SEC_BSS && c->obj->secs[i].sh.sh_addralign > a)
			a = c->obj->secs[i].sh.sh_addralign;
	return a;
}

int kc_layout_assign(struct kc_pack_ctx *c, struct kc_err *err)
{
	struct kc_patch *p = c->patch;
	uint64_t off, rodata, data, bss, end;
	size_t nstubs = 0, nslots = 0, npairs = 0;

	for (size_t i = 0; i < c->obj->nsyms; i++) {
		nstubs += c->bind[i].need_stub;
		nslots += c->bind[i].need_got + c->bind[i].need_tp;
		npairs += c->bind[i].need_gd;
	}
	/* text, then one 8-byte stub per extern function */
	off = layout_place(c, KC_SEC_TEXT, 0);
	c->plt_off = off = layout_align(off, 16);
	off += 8 * nstubs;
	p->text_size = (uint32_t)off;
	/* read-only data, then the GOT: TLS pairs first since they need 16 */
	rodata = LAYOUT_PAGE(off);
	off = layout_place(c, KC_SEC_RODATA, rodata);
	c->got_off = off = layout_align(off, 16);
	off += 16 * npairs + 8 * nslots;
	/* the unwind table (pack-unwind.c) ends rodata */
	if (c->unwind_size) {
		c->unwind_off = off = layout_align(off, 8);
		off += c->unwind_size;
	}
	p->rodata_off = (uint32_t)rodata;
	p->rodata_size = (uint32_t)(off - rodata);
	data = LAYOUT_PAGE(off);
	off = layout_place(c, KC_SEC_DATA, data);
	p->data_off = (uint32_t)data;
	p->data_size = (uint32_t)(off - data);
	bss = layout_align(off, layout_bss_align(c));
	end = layout_place(c, KC_SEC_BSS, bss);
	p->bss_off = (uint32_t)bss;
	p->bss_size = (uint32_t)(end - bss);
	if (LAYOUT_PAGE(end) > KC_PF_IMAGE_MAX)
		return kc_err_set(err, -EFBIG, "patch image too large (%llu bytes)",
				  (unsigned long long)end);
	p->image_size = (uint32_t)LAYOUT_PAGE(end);
	if (!p->image_size)
		p->image_size = KC_PF_PAGE;
	p->image = calloc(1, p->image_size);
	if (!p->image)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 1; i < c->obj->nsecs; i++) {
		const struct kc_objfile_sec *s = &c->obj->secs[i];

		if (c->kind[i] != KC_SEC_SKIP && c->kind[i] != KC_SEC_BSS && s->data)
			memcpy(p->image + c->sec_off[i], s->data->d_buf, s->sh.sh_size);
	}
	/* GOT: pairs, then slots, in symbol order; stubs in the same order */
	off = c->got_off;
	for (size_t i = 0; i < c->obj->nsyms; i++)
		if (c->bind[i].need_gd) {
			c->bind[i].gd = off;
			off += 16;
		}
	for (size_t i = 0, stub = c->plt_off; i < c->obj->nsyms; i++) {
		struct kc_symbind *b = &c->bind[i];

		if (b->need_got) {
			b->got = off;
			off += 8;
		}
		if (b->need_tp) {
			b->tp = off;
			off += 8;
		}
		if (b->need_stub) {
			b->stub = stub;
			stub += 8;
		}
	}
	return 0;
}
