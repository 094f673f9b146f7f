/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The object a patch is for (an executable or a shared object): its
 * identity (build-id, soname, type), its defined symbols (from .symtab,
 * else .dynsym plus the debug file found by build-id), the versions of
 * the symbols it imports, and its file bytes at a link-time address.
 */
#ifndef KC_BUILD_TARGET_H
#define KC_BUILD_TARGET_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "kcare/buildid.h"
#include "kcare/err.h"

struct kc_target_sym {
	const char *name; /* borrowed from the ELF data */
	uint64_t value, size;
	unsigned char type, bind;
};

struct kc_target_import {
	const char *name, *version; /* borrowed */
	unsigned char type;
};

struct kc_target {
	char *path; /* owned */
	int fd, dbg_fd;
	Elf *elf, *dbg; /* dbg: the separate debug file, NULL if not used */
	char *dbg_path; /* owned, NULL if no debug file was used */
	GElf_Ehdr eh;
	struct kc_buildid build_id;
	const char *soname;	    /* borrowed; NULL if none */
	struct kc_target_sym *syms; /* owned; sorted by name then value */
	size_t nsyms;
	struct kc_target_import *imports; /* owned; sorted by name */
	size_t nimports;
	uint64_t (*irel)[2]; /* owned; IRELATIVE relocations: {resolver, GOT slot} */
	size_t nirel;
};

/*
 * Opens @path (ELF64 x86_64, ET_EXEC or ET_DYN, with a GNU build-id).
 * @debug_dir (NULL: /usr/lib/debug) is searched for
 * .build-id/xx/yyyy.debug when the target has no .symtab. Returns
 * -ENOEXEC for an unusable target, -errno on I/O. Caller owns *out.
 */
int kc_target_open(const char *path, const char *debug_dir, struct kc_target **out,
		   struct kc_err *err);

void kc_target_close(struct kc_target *t);

/*
 * The definition of @name: a global one if any, else the only local one.
 * Returns 0, -ENOENT (not defined; err untouched) or -ENOTUNIQ when
 * several local definitions exist (message names the symbol).
 */
int kc_target_lookup(const struct kc_target *t, const char *name, const struct kc_target_sym **out,
		     struct kc_err *err);

/* The target's own import of @name (with its version), or NULL. */
const struct kc_target_import *kc_target_import(const struct kc_target *t, const char *name);

/* Copies @len file bytes at link-time address @vaddr (from a PT_LOAD). */
int kc_target_read(const struct kc_target *t, uint64_t vaddr, void *buf, size_t len,
		   struct kc_err *err);

/*
 * The GOT slot that the target's IRELATIVE relocation for the ifunc
 * resolver at @resolver fills with the implementation. -ENOENT if none.
 */
int kc_target_ifunc_slot(const struct kc_target *t, uint64_t resolver, uint64_t *slot);

/* DT_SONAME, else the basename of the path. Borrowed. */
const char *kc_target_name(const struct kc_target *t);

#endif
