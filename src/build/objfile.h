/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A relocatable x86_64 object (the author's fix, OBJ.o) opened for
 * packing: its sections, its symbol table and the RELA entries that apply
 * to each section, read once and checked for internal consistency (symbol
 * and section indices in range). Names and data are borrowed from libelf
 * and live until kc_objfile_close().
 */
#ifndef KC_BUILD_OBJFILE_H
#define KC_BUILD_OBJFILE_H

#include <gelf.h>
#include <stddef.h>

#include "kcare/err.h"

struct kc_objfile_sec {
	const char *name; /* borrowed */
	GElf_Shdr sh;
	Elf_Data *data;	  /* borrowed; NULL for SHT_NOBITS */
	GElf_Rela *relas; /* owned; the entries of the SHT_RELA section for this one */
	size_t nrelas;
	size_t rela_sec; /* index of that SHT_RELA section, 0 if none */
};

struct kc_objfile_sym {
	const char *name; /* borrowed; section symbols carry their section's name */
	GElf_Sym sym;
	unsigned char type, bind;
};

struct kc_objfile {
	char *path; /* owned */
	int fd;
	Elf *elf;
	size_t nsecs;
	struct kc_objfile_sec *secs; /* owned, indexed like the ELF sections */
	size_t nsyms;
	struct kc_objfile_sym *syms; /* owned, indexed like .symtab */
};

/*
 * Opens @path; refuses anything but an ELF64 x86_64 ET_REL with one
 * .symtab and RELA relocations (-ENOEXEC with a message). Caller owns
 * *out; release with kc_objfile_close().
 */
int kc_objfile_open(const char *path, struct kc_objfile **out, struct kc_err *err);

void kc_objfile_close(struct kc_objfile *o);

#endif
