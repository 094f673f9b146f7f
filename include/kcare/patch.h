/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A userspace patch in memory, and its file form (see patchfmt.h and
 * docs/patch-format.md). kc_patch_parse() is the only reader of patch
 * files: it validates everything (bounds, counts, offsets, string
 * references, relocation fields inside the image) so that later stages
 * can trust the structure. kc_patch_write_file() is its inverse.
 */
#ifndef KCARE_PATCH_H
#define KCARE_PATCH_H

#include <stddef.h>
#include <stdint.h>

#include "kcare/buildid.h"
#include "kcare/err.h"
#include "kcare/patchfmt.h"

struct kc_patch_func {
	char *name;	       /* owned */
	uint64_t target_value; /* st_value in the target object */
	uint64_t target_size;
	uint64_t image_off;
	uint64_t image_size;
	uint32_t orig_len;
	uint8_t orig[KC_PF_ENTRY_MAX];
};

struct kc_patch_sym {
	char *name;    /* owned */
	char *version; /* owned; "" for the default version */
	enum kc_pf_sym_kind kind;
	uint32_t flags; /* KC_PF_SYMF_* */
	uint64_t value;
	uint64_t size;
};

struct kc_patch_reloc {
	uint64_t offset;
	enum kc_pf_rel_type type;
	uint32_t sym; /* index into syms[], or KC_PF_NOSYM */
	int64_t addend;
};

struct kc_patch {
	char *id; /* owned */
	uint32_t level;
	char *description; /* owned, may be "" */
	char **cves;	   /* owned array of owned strings */
	size_t ncves;
	char *target_name; /* owned */
	char *target_path; /* owned, may be "" */
	struct kc_buildid build_id;
	uint64_t created;
	uint32_t machine; /* EM_* */
	uint32_t flags;	  /* KC_PF_F_* */

	/*
	 * The image, image_size bytes, page multiple: text at 0, rodata at
	 * rodata_off, data at data_off, zeroed bss at bss_off. Owned.
	 */
	uint8_t *image;
	uint32_t image_size;
	uint32_t text_size;
	uint32_t rodata_off, rodata_size;
	uint32_t data_off, data_size;
	uint32_t bss_off, bss_size;
	/* unwind table for the patch code inside rodata (patchfmt.h), 0/0 if none */
	uint32_t unwind_off, unwind_size;

	struct kc_patch_func *funcs; /* owned */
	size_t nfuncs;
	struct kc_patch_sym *syms; /* owned */
	size_t nsyms;
	struct kc_patch_reloc *relocs; /* owned */
	size_t nrelocs;
};

/*
 * Parses a patch file held in @buf. On success *out is a new patch that
 * the caller owns (free with kc_patch_free()). Returns -ENOEXEC for
 * anything that is not a valid patch (wrong magic, truncated, bad
 * offsets, unknown relocation type...), with a message saying what.
 * -EPROTONOSUPPORT for an unknown format version. Never reads outside
 * [buf, buf+len).
 */
int kc_patch_parse(const void *buf, size_t len, struct kc_patch **out, struct kc_err *err);

/* Reads and parses @path. Errors as kc_patch_parse(), plus -errno on I/O. */
int kc_patch_read_file(const char *path, struct kc_patch **out, struct kc_err *err);

/*
 * Serializes @p (which must pass kc_patch_validate()) to @path
 * atomically: a temporary file in the same directory, fsync, rename.
 */
int kc_patch_write_file(const struct kc_patch *p, const char *path, struct kc_err *err);

/* Checks the in-memory invariants that kc_patch_parse() guarantees. */
int kc_patch_validate(const struct kc_patch *p, struct kc_err *err);

void kc_patch_free(struct kc_patch *p);

/* The machine this build applies patches for (EM_X86_64 on x86_64). */
uint32_t kc_patch_host_machine(void);

#endif
