/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ELF objects mapped in a process (program, ld.so, libraries, [vdso]):
 * where each one is loaded (load bias), its identity (build-id, soname),
 * its TLS segment, and lookups in its dynamic symbol table and relocations.
 * All addresses returned by the kc_obj_* lookups are link-time vaddrs; add
 * obj->bias for the runtime address. Reading the target's memory (GOT
 * contents, r_debug) is not done here: see kcare/resolve.h.
 */
#ifndef KCARE_OBJS_H
#define KCARE_OBJS_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kcare/buildid.h"
#include "kcare/err.h"
#include "kcare/proc.h"

struct kc_obj {
	/* owned: path as shown in maps */
	char *path;
	/*
	 * owned: path to open the very file mapped, from this process even across mount
	 * namespaces and for deleted files: "/proc/PID/map_files/START-END" of its first mapping
	 * (falls back to "/proc/PID/root" + path if map_files is not readable); "[vdso]" for the
	 * vdso
	 */
	char *file;
	/* lowest start / highest end of all its mappings (same dev+inode, contiguous group) */
	uint64_t lo, hi;
	/* load bias: runtime address = bias + link-time vaddr (0 for ET_EXEC) */
	uint64_t bias;
	uint16_t e_type; /* ET_EXEC or ET_DYN */
	/* the program (AT_PHDR/AT_ENTRY of /proc/PID/auxv falls inside it), not ld.so/libs */
	bool is_main;
	/* the [vdso] image (read from process memory, not a file) */
	bool is_vdso;
	struct kc_buildid build_id; /* len 0 if none */
	char *soname;		    /* owned, NULL if none */
	/* PT_TLS of the object, if any */
	bool has_tls;
	uint64_t tls_vaddr, tls_memsz, tls_filesz, tls_align;
	void *priv; /* owned: lazily opened Elf*, symbol tables, caches */
};

struct kc_objs {
	struct kc_obj *v; /* owned */
	size_t n;
	pid_t pid;
};

/*
 * One entry per ELF object mapped in PID (file-backed mappings grouped by dev+inode; [vdso]
 * included; non-ELF files skipped), in address order, except that the main program comes first.
 * Bias: the mapping with file offset 0 (or the first PT_LOAD's page) gives bias = map.start -
 * (first PT_LOAD p_vaddr & ~(pagesize-1)) for ET_DYN.
 * @maps is borrowed (read it with kc_proc_maps_read()). Release @out with kc_objs_release().
 * -ESRCH if the process is gone.
 */
int kc_objs_read(pid_t pid, const struct kc_proc_maps *maps, struct kc_objs *out,
		 struct kc_err *err);
void kc_objs_release(struct kc_objs *objs);

/* The object containing runtime address @addr, or NULL. */
struct kc_obj *kc_objs_find_addr(struct kc_objs *objs, uint64_t addr);

/*
 * Dynamic symbol lookup in one object's .dynsym with GNU versioning: @version NULL or "" selects
 * the default version (the one without the hidden bit; an unversioned definition also matches);
 * otherwise the exact version name (hidden or not), where a definition's index may name a needed
 * version too (a program's R_X86_64_COPY of a library's variable), and an index naming no version
 * (an unversioned copy) matches unless hidden, as in ld.so. Only defined symbols (st_shndx !=
 * SHN_UNDEF).
 * Returns 0 and fills *sym (st_value link-time), -ENOENT if absent.
 */
int kc_obj_dynsym(struct kc_obj *obj, const char *name, const char *version, GElf_Sym *sym,
		  struct kc_err *err);

/*
 * Same lookup in the static .symtab when the file still has one (not stripped), for local
 * functions; falls back to .dynsym. @version is ignored. -ENOENT if absent.
 */
int kc_obj_symtab(struct kc_obj *obj, const char *name, GElf_Sym *sym, struct kc_err *err);

/*
 * Link-time vaddrs of GOT slots that the dynamic linker fills, for resolving IFUNCs from outside:
 * - kc_obj_irelative_slot: an R_X86_64_IRELATIVE relocation whose addend == @resolver
 *   (the IFUNC's st_value);
 * - kc_obj_import_slot: an R_X86_64_GLOB_DAT or R_X86_64_JUMP_SLOT relocation against the
 *   named symbol.
 * Return 0 with *slot set, or -ENOENT. (On aarch64 the equivalent relocation types.)
 */
int kc_obj_irelative_slot(struct kc_obj *obj, uint64_t resolver, uint64_t *slot,
			  struct kc_err *err);
int kc_obj_import_slot(struct kc_obj *obj, const char *name, uint64_t *slot, struct kc_err *err);

/*
 * TLS relocations of the object itself: the link-time vaddr of a GOT slot filled with this object's
 * module id (an R_X86_64_DTPMOD64, any symbol or none), and of a slot filled with a TP offset
 * (R_X86_64_TPOFF64) together with the symbol value + addend it refers to (so block tpoff = slot
 * value - that). -ENOENT if absent. Only relocations whose symbol is defined in the object itself
 * (or none) count.
 */
int kc_obj_dtpmod_slot(struct kc_obj *obj, uint64_t *slot, struct kc_err *err);
int kc_obj_tpoff_slot(struct kc_obj *obj, uint64_t *slot, uint64_t *sym_off, struct kc_err *err);

/*
 * The object's libelf handle (opened lazily; borrowed, valid until kc_objs_release()).
 * NULL with @err set if the file cannot be read.
 */
Elf *kc_obj_elf(struct kc_obj *obj, struct kc_err *err);

/* Link-time vaddr of DT_DEBUG's d_val slot in the dynamic section (for r_debug); -ENOENT if none.
 */
int kc_obj_dt_debug_slot(struct kc_obj *obj, uint64_t *slot, struct kc_err *err);

#endif
