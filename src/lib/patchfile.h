/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private extensions of the patch file writer (see include/kcare/patch.h):
 * serialization to memory (tests, fuzz corpora) and writing with extra
 * labels for the informational .symtab, which lets objdump name the new
 * functions of the image. The engine never reads labels.
 */
#ifndef KC_LIB_PATCHFILE_H
#define KC_LIB_PATCHFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kcare/patch.h"

/* A named range of .kcare.text (a function of the image). */
struct kc_patch_label {
	const char *name; /* borrowed */
	uint64_t value;	  /* image offset */
	uint64_t size;
};

/*
 * Serializes @p into a new buffer. @labels (may be NULL: then one label
 * per replacement function) become STT_FUNC symbols of .symtab; each must
 * lie inside the text segment. On success *out is malloc'd and owned by
 * the caller. Returns -EINVAL if @p fails kc_patch_validate().
 */
int kc_patch_serialize(const struct kc_patch *p, const struct kc_patch_label *labels,
		       size_t nlabels, uint8_t **out, size_t *outlen, struct kc_err *err);

/* kc_patch_write_file() with explicit labels (see kc_patch_serialize()). */
int kc_patch_write_file_labels(const struct kc_patch *p, const struct kc_patch_label *labels,
			       size_t nlabels, const char *path, struct kc_err *err);

/*
 * Whether the CIE at @e (its length word first; @avail bytes readable) is
 * one the patch format allows in an unwind table: 32-bit DWARF, version 1
 * or 3, augmentation "z" with 'R' (pcrel|sdata4) and optionally 'S'; no
 * personality, no LSDA (those would need relocations).
 */
bool kc_pf_cie_supported(const uint8_t *e, size_t avail);

/* A 32-bit field of .eh_frame data, which has no alignment (host byte order: x86_64). */
static inline uint32_t kc_pf_get32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

static inline void kc_pf_put32(uint8_t *b, uint32_t v)
{
	memcpy(b, &v, sizeof(v));
}

/* The unwind table rules of patchfmt.h, as kc_patch_validate() applies them (error @code). */
int kc_patch_check_unwind(const struct kc_patch *p, int code, struct kc_err *err);

/* "x86_64", "aarch64"...; "machine N" in @buf for unknown ones. */
const char *kc_patch_machine_name(uint32_t machine, char *buf, size_t bufsz);

#endif
