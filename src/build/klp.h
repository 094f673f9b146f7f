/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * klp relocations: how a livepatch module refers to kernel symbols that
 * are not exported. The kernel resolves them itself when the patch (for
 * vmlinux) or the patched module loads, from sections named
 * .klp.rela.<obj>.<section> (flags SHF_RELA_LIVEPATCH) whose symbols are
 * SHN_LIVEPATCH and named .klp.sym.<obj>.<name>,<sympos>
 * (Documentation/livepatch/module-elf-format.rst). kc_klp_convert()
 * turns a finished module's ordinary relocations into those; which
 * symbols, and where they live, is the caller's decision (kmod.c, the
 * differ's kernel back end).
 */
#ifndef KC_BUILD_KLP_H
#define KC_BUILD_KLP_H

#include <stddef.h>

#include "kcare/err.h"

#define KC_SHF_RELA_LIVEPATCH 0x00100000
#define KC_SHN_LIVEPATCH      0xff20
/* The kernel reads these fields with %55[^.] and %511[^,] (klp_resolve_symbols) */
#define KC_KLP_OBJ_MAX	55
#define KC_KLP_NAME_MAX 511

/* One undefined symbol of the module and the kernel symbol it stands for. */
struct kc_klp_ref {
	const char *sym;      /* borrowed: the undefined symbol's name in the module */
	const char *obj;      /* borrowed: "vmlinux" or the name of the module defining it */
	const char *name;     /* borrowed: its name there */
	unsigned long sympos; /* 0: unique in obj; else 1-based in kallsyms/symtab order */
};

struct kc_klp_stats {
	size_t nsyms;  /* symbols turned into .klp.sym */
	size_t nrelas; /* relocations moved */
	size_t nsecs;  /* .klp.rela sections written */
};

/*
 * Rewrites the relocatable ELF (a .ko after modpost, or an object) at
 * @path in place: each undefined symbol named by a @refs entry becomes
 * SHN_LIVEPATCH with its .klp.sym name, and every relocation against it
 * moves from its .rela section to .klp.rela.<obj>.<section>. A vmlinux
 * relocation may sit in any section; refs to a module may only be
 * referenced from code and data, since the kernel applies them after
 * the module's special sections were set up. Relocations against other
 * symbols are kept. Refs naming no symbol of the file are ignored.
 * Returns 0 with *st (may be NULL) filled; -EINVAL for a bad ref,
 * -EEXIST when the file already has the section to write, -ENOEXEC for
 * a file that is not a relocatable ELF; the file is unchanged on error.
 */
int kc_klp_convert(const char *path, const struct kc_klp_ref *refs, size_t nrefs,
		   struct kc_klp_stats *st, struct kc_err *err);

/*
 * The names of the undefined symbols of the relocatable ELF at @path,
 * each once. Caller owns *names (and each name); free with
 * kc_klp_names_free().
 */
int kc_klp_undefined(const char *path, char ***names, size_t *n, struct kc_err *err);

void kc_klp_names_free(char **names, size_t n);

/* Checks an object or symbol name against what the kernel parses; -EINVAL with a message. */
int kc_klp_check_ref(const struct kc_klp_ref *r, struct kc_err *err);

#endif
