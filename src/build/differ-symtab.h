/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The target's symbols as the object differ needs them (private to
 * src/build): every defined function and object with the compilation
 * unit (STT_FILE) that defines it, so that a static of one unit resolves
 * even when other units use the same name; and the identity test of a
 * rebuild against the target (same build-id, or every loaded section
 * byte-identical).
 */
#ifndef KC_BUILD_DIFFER_SYMTAB_H
#define KC_BUILD_DIFFER_SYMTAB_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "kcare/err.h"

struct kc_dsym {
	const char *name; /* borrowed from the ELF data */
	const char *file; /* STT_FILE before it (locals only), NULL for globals */
	uint64_t value, size;
	unsigned char type, bind;
};

struct kc_dsymtab {
	int fd;		      /* -1 when the ELF handle is borrowed */
	Elf *elf;	      /* owned when fd >= 0 */
	struct kc_dsym *syms; /* owned; sorted by name, then value */
	size_t nsyms;
	const char **files; /* owned array, borrowed names: every STT_FILE */
	size_t nfiles;
};

/* Reads the .symtab of @elf (borrowed; it must outlive @st). -ENOENT: none. */
int kc_dsymtab_from_elf(struct kc_dsymtab *st, Elf *elf, struct kc_err *err);

/* Same from a file, which @st keeps open. */
int kc_dsymtab_open(struct kc_dsymtab *st, const char *path, struct kc_err *err);

void kc_dsymtab_release(struct kc_dsymtab *st);

/*
 * The definition of @name: with @local, the static of the unit whose
 * STT_FILE is @file; else the global (or weak) one. Returns 0, -ENOENT
 * (err untouched) or -ENOTUNIQ (several units of that name define it).
 */
int kc_dsymtab_lookup(const struct kc_dsymtab *st, const char *file, const char *name, int local,
		      const struct kc_dsym **out, struct kc_err *err);

/* Whether an STT_FILE symbol names @file. */
int kc_dsymtab_has_file(const struct kc_dsymtab *st, const char *file);

/*
 * 1 if @a and @b hold the same code and data: equal build-ids, or the
 * same loaded sections (name, address, size, bytes; notes aside). 0 if
 * not, with the first difference in @why.
 */
int kc_dsym_same_code(Elf *a, Elf *b, char *why, size_t whysz);

/*
 * Looks under @dir for a file identical to the target @target (by
 * kc_dsym_same_code(); candidates: the same build-id, else the same file
 * name). *found: its path, malloc'd. -ESRCH with a message if none.
 */
int kc_dsym_find_identical(const char *dir, const char *target, char **found, struct kc_err *err);

#endif
