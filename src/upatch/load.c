// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Region placement, relocation and region construction (see load.h).
 * Runs before any thread is stopped; nothing here touches the target
 * except through the resolver's memory reads.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "upatch/arch.h"
#include "upatch/load.h"

#define PAGE	   4096ull
#define REACH	   ((uint64_t)1 << 31)
#define HEAP_ROOM  (1ull << 30)	  /* keep free above [heap] for brk */
#define STACK_ROOM (256ull << 20) /* keep free below [stack] */
#define MIN_ADDR   (1ull << 16)

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static size_t strings_size(const struct kc_patch *p)
{
	size_t n = 1 + strlen(p->description) + 1 + strlen(p->target_path) + 1 + PATH_MAX;

	for (size_t i = 0; i < p->ncves; i++)
		n += strlen(p->cves[i]) + 1;
	for (size_t i = 0; i < p->nfuncs; i++)
		n += strlen(p->funcs[i].name) + 1;
	return n;
}

uint64_t kc_load_region_size(const struct kc_patch *patch, uint64_t *hdr_size)
{
	uint64_t h = sizeof(struct kc_region_hdr) + patch->nfuncs * sizeof(struct kc_region_func) +
		     strings_size(patch);

	*hdr_size = round_up(h, PAGE);
	return *hdr_size + patch->image_size;
}

/* Tries to fit [lo, hi) ∩ reach window, highest address first when @top. */
static bool fit(uint64_t lo, uint64_t hi, uint64_t wlo, uint64_t whi, uint64_t size, bool top,
		uint64_t *out)
{
	if (lo < wlo)
		lo = wlo;
	if (hi > whi)
		hi = whi;
	lo = round_up(lo, PAGE);
	hi &= ~(PAGE - 1);
	if (hi <= lo || hi - lo < size)
		return false;
	*out = top ? hi - size : lo;
	return true;
}

int kc_load_place(const struct kc_proc_maps *maps, const struct kc_obj *obj, uint64_t size,
		  uint64_t *start, struct kc_err *err)
{
	/* the region [s, s+size) must keep every target byte within 32-bit reach */
	uint64_t wlo = obj->hi > REACH - PAGE ? obj->hi - REACH + PAGE : MIN_ADDR;
	uint64_t whi = obj->lo + REACH - PAGE;
	uint64_t best = 0, best_dist = UINT64_MAX;

	if (wlo < MIN_ADDR)
		wlo = MIN_ADDR;
	for (size_t i = 0; i <= maps->n; i++) {
		uint64_t glo = i ? maps->v[i - 1].end : MIN_ADDR;
		uint64_t ghi = i < maps->n ? maps->v[i].start : 0x7ffffffff000ull;
		uint64_t cand, dist;
		bool below;

		if (ghi <= glo)
			continue;
		if (i && strcmp(maps->v[i - 1].path, "[heap]") == 0)
			glo = glo + HEAP_ROOM < glo ? ghi : glo + HEAP_ROOM;
		if (i && maps->v[i - 1].start < obj->hi && maps->v[i - 1].end >= obj->hi &&
		    obj->is_main && obj->e_type == ET_EXEC)
			glo += HEAP_ROOM; /* brk of a non-PIE program starts right after it */
		if (i < maps->n && strcmp(maps->v[i].path, "[stack]") == 0)
			ghi = ghi > STACK_ROOM ? ghi - STACK_ROOM : 0;
		below = ghi <= obj->lo;
		/*
		 * A free page on each side: adjacent anonymous mappings with equal
		 * protections are merged by the kernel, and a region's header must
		 * stay at the start of its own mapping to be found again.
		 */
		if (!fit(glo, ghi, wlo, whi, size + 2 * PAGE, below, &cand))
			continue;
		cand += PAGE;
		dist = below ? obj->lo - (cand + size) : cand - obj->hi;
		if (dist < best_dist) {
			best_dist = dist;
			best = cand;
		}
	}
	if (!best)
		return kc_err_set(err, -ENOSPC,
				  "no free address range within 2 GiB of '%s' for %llu bytes",
				  obj->path, (unsigned long long)size);
	*start = best;
	return 0;
}

struct strbuf {
	char *base;
	size_t len, cap;
};

static uint32_t str_add(struct strbuf *s, const char *str)
{
	size_t n = strlen(str) + 1;
	uint32_t off = (uint32_t)s->len;

	if (s->len + n > s->cap)
		n = s->cap - s->len; /* cannot happen: sized by strings_size() */
	memcpy(s->base + s->len, str, n);
	s->base[s->len + n - 1] = '\0';
	s->len += n;
	return off;
}

static const char *sym_label(const struct kc_patch *p, uint32_t sym)
{
	return sym < p->nsyms ? p->syms[sym].name : "(none)";
}

static int reloc_value(struct kc_prepared *prep, struct kc_resolver *res,
		       const struct kc_patch_reloc *rel, uint64_t image, uint64_t *val,
		       struct kc_err *err)
{
	const struct kc_patch *p = prep->patch;
	const struct kc_patch_sym *sym = rel->sym < p->nsyms ? &p->syms[rel->sym] : NULL;
	uint64_t S = 0, P = image + rel->offset;
	struct kc_obj *def = prep->obj;
	int ret;

	if (rel->type == KC_PF_R_IMAGE64) {
		*val = image + (uint64_t)rel->addend;
		return 0;
	}
	if (!sym)
		return kc_err_set(err, -ENOEXEC, "relocation without a symbol");
	if (sym->kind == KC_PF_SYM_TARGET && (sym->flags & KC_PF_SYMF_INTERPOSE)) {
		kc_resolve_interposed(res, prep->obj, sym->name, sym->version, sym->value, &S,
				      &def);
	} else if (sym->kind == KC_PF_SYM_TARGET) {
		S = (sym->flags & KC_PF_SYMF_TLS) ? sym->value : prep->obj->bias + sym->value;
	} else {
		ret = kc_resolve_symbol(res, sym->name, sym->version, &S, &def, err);
		if (ret == -ENOENT && (sym->flags & KC_PF_SYMF_WEAK)) {
			S = 0;
			def = NULL;
		} else if (ret < 0) {
			return ret;
		}
	}
	switch (rel->type) {
	case KC_PF_R_ABS64:
		*val = S + (uint64_t)rel->addend;
		return 0;
	case KC_PF_R_PC32: {
		int64_t v = (int64_t)(S + (uint64_t)rel->addend - P);

		if ((v < INT32_MIN || v > INT32_MAX) && def && def != prep->obj)
			return kc_err_set(
			    err, -ERANGE,
			    "'%s' is the one in '%s', out of 32-bit range of the "
			    "patch (a fix built with -fPIC reaches it through a slot)",
			    sym->name, def->path);
		if (v < INT32_MIN || v > INT32_MAX)
			return kc_err_set(err, -ERANGE,
					  "relocation against '%s' out of 32-bit range", sym->name);
		*val = (uint64_t)v;
		return 0;
	}
	case KC_PF_R_TPOFF64:
	case KC_PF_R_TPOFF32:
	case KC_PF_R_DTPMOD64: {
		uint64_t modid;
		int64_t tpoff;

		if (!def)
			return kc_err_set(err, -ENOENT, "undefined thread-local symbol '%s'",
					  sym->name);
		ret = kc_resolve_tls(res, def, &modid, &tpoff, err);
		if (ret < 0)
			return kc_err_prefix(err, "thread-local '%s'", sym->name);
		if (rel->type == KC_PF_R_DTPMOD64) {
			*val = modid;
			return 0;
		}
		int64_t v = tpoff + (int64_t)S + rel->addend;

		if (rel->type == KC_PF_R_TPOFF32 && (v < INT32_MIN || v > INT32_MAX))
			return kc_err_set(err, -ERANGE, "TLS offset of '%s' out of range",
					  sym->name);
		*val = (uint64_t)v;
		return 0;
	}
	case KC_PF_R_DTPOFF64:
		*val = S + (uint64_t)rel->addend;
		return 0;
	default:
		return kc_err_set(err, -ENOEXEC, "unknown relocation type %d against '%s'",
				  rel->type, sym_label(p, rel->sym));
	}
}

static int relocate(struct kc_prepared *prep, struct kc_resolver *res, uint8_t *image_buf,
		    uint64_t image, struct kc_err *err)
{
	const struct kc_patch *p = prep->patch;

	for (size_t i = 0; i < p->nrelocs; i++) {
		const struct kc_patch_reloc *rel = &p->relocs[i];
		uint64_t v = 0;
		int ret = reloc_value(prep, res, rel, image, &v, err);

		if (ret < 0)
			return ret;
		if (rel->type == KC_PF_R_PC32 || rel->type == KC_PF_R_TPOFF32) {
			uint32_t v32 = (uint32_t)v;

			memcpy(image_buf + rel->offset, &v32, 4);
		} else {
			memcpy(image_buf + rel->offset, &v, 8);
		}
	}
	return 0;
}

int kc_load_build(struct kc_prepared *prep, struct kc_resolver *res, struct kc_err *err)
{
	const struct kc_patch *p = prep->patch;
	struct kc_region_hdr *h;
	struct kc_region_func *f;
	struct strbuf s;
	uint64_t image;
	uint32_t cves_off;
	int ret;

	prep->size = kc_load_region_size(p, &prep->hdr_size);
	prep->buf = calloc(1, prep->size);
	if (!prep->buf)
		return kc_err_set(err, -ENOMEM, "out of memory for a %llu-byte region",
				  (unsigned long long)prep->size);
	image = prep->start + prep->hdr_size;
	memcpy(prep->buf + prep->hdr_size, p->image, p->image_size);
	ret = relocate(prep, res, prep->buf + prep->hdr_size, image, err);
	if (ret < 0)
		return kc_err_prefix(err, "patch '%s'", p->id);

	h = (struct kc_region_hdr *)prep->buf;
	memcpy(h->magic, KC_REGION_MAGIC, 8);
	h->version = KC_REGION_VERSION;
	h->state = KC_REGION_LOADED;
	h->region_size = prep->size;
	h->hdr_size = prep->hdr_size;
	h->image_size = p->image_size;
	h->text_size = p->text_size;
	h->unwind_off = p->unwind_off;
	h->unwind_size = p->unwind_size;
	h->target_bias = prep->obj->bias;
	h->level = p->level;
	h->nfuncs = (uint32_t)p->nfuncs;
	h->funcs_off = sizeof(*h);
	h->owner_pid = (uint32_t)res->objs->pid;
	h->build_id_len = (uint32_t)p->build_id.len;
	memcpy(h->build_id, p->build_id.bytes, p->build_id.len);
	snprintf(h->id, sizeof(h->id), "%s", p->id);
	snprintf(h->vma_name, sizeof(h->vma_name), "kcare:%s:%u", p->id, p->level);

	h->strings_off = (uint32_t)(h->funcs_off + p->nfuncs * sizeof(*f));
	s.base = (char *)prep->buf + h->strings_off;
	s.cap = prep->hdr_size - h->strings_off;
	s.len = 0;
	str_add(&s, "");
	h->description = str_add(&s, p->description);
	h->target_path = str_add(&s, prep->obj->path);
	cves_off = (uint32_t)s.len;
	for (size_t i = 0; i < p->ncves; i++) {
		str_add(&s, p->cves[i]);
		if (i + 1 < p->ncves)
			s.base[s.len - 1] = ','; /* join into one comma-separated string */
	}
	if (!p->ncves)
		str_add(&s, "");
	h->cves = cves_off;

	f = (struct kc_region_func *)(prep->buf + h->funcs_off);
	for (size_t i = 0; i < p->nfuncs; i++) {
		const struct kc_patch_func *pf = &p->funcs[i];

		f[i].addr = prep->obj->bias + pf->target_value;
		f[i].size = pf->target_size;
		f[i].new_addr = image + pf->image_off;
		f[i].name = str_add(&s, pf->name);
		f[i].state = KC_RFUNC_ORIGINAL;
		f[i].len = KC_ARCH_JUMP_SIZE;
		memcpy(f[i].orig, pf->orig, pf->orig_len < 16 ? pf->orig_len : 16);
		if (kc_arch_encode_jump(f[i].addr, f[i].new_addr, f[i].jump) < 0)
			return kc_err_set(err, -ERANGE, "function '%s' is out of jump range",
					  pf->name);
	}
	h->strings_size = (uint32_t)s.len;
	return 0;
}

void kc_load_release(struct kc_prepared *prep)
{
	free(prep->buf);
	prep->buf = NULL;
}
