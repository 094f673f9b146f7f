/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Preparing a patch for one process while it runs: choosing where its
 * region goes (within jump reach of the target object), relocating the
 * image for that place, and building the region bytes (header, journal,
 * strings, image) that apply.c writes into the target.
 */
#ifndef KC_UPATCH_LOAD_H
#define KC_UPATCH_LOAD_H

#include "kcare/objs.h"
#include "kcare/patch.h"
#include "kcare/proc.h"
#include "kcare/resolve.h"
#include "upatch/region.h"

struct kc_prepared {
	const struct kc_patch *patch; /* borrowed */
	struct kc_obj *obj;	      /* borrowed: the target object in the process */
	uint64_t start;		      /* region start in the target */
	uint64_t size;		      /* region size (header + image) */
	uint64_t hdr_size;
	uint8_t *buf; /* owned: the region's bytes, size long */
};

/* Bytes the region of @patch needs (header pages + image). */
uint64_t kc_load_region_size(const struct kc_patch *patch, uint64_t *hdr_size);

/*
 * Picks a free, page-aligned range of @size bytes from which every byte of
 * [obj->lo, obj->hi) is within 32-bit reach, preferring the gap right
 * below the object and avoiding the growth room of [heap] and [stack].
 * -ENOSPC if there is none.
 */
int kc_load_place(const struct kc_proc_maps *maps, const struct kc_obj *obj, uint64_t size,
		  uint64_t *start, struct kc_err *err);

/*
 * Builds prep->buf for a region at prep->start: header (state LOADED),
 * journal, strings, and the image relocated through @res. Fails with a
 * message naming the symbol for undefined symbols or out-of-range
 * relocations.
 */
int kc_load_build(struct kc_prepared *prep, struct kc_resolver *res, struct kc_err *err);

void kc_load_release(struct kc_prepared *prep);

#endif
