/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runtime addresses inside a running process: external symbols as the
 * dynamic linker bound them (including IFUNCs, read back from the GOT),
 * and the TLS identity (module id, static TLS offset) of loaded objects.
 * Memory is read through a callback supplied by the engine, so this file
 * needs no ptrace of its own.
 */
#ifndef KCARE_RESOLVE_H
#define KCARE_RESOLVE_H

#include <stdint.h>
#include <stddef.h>

#include "kcare/err.h"
#include "kcare/objs.h"

/*
 * Reads target memory; returns 0 or negative errno.
 * Supplied by the engine (process_vm_readv / /proc/PID/mem).
 */
typedef int (*kc_mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

struct kc_resolver {
	struct kc_objs *objs; /* borrowed */
	kc_mem_read_fn read;
	void *read_ctx;
	/* thread pointer of any thread of the process (from its regs), for TLS via the DTV */
	uint64_t fs_base;
};

/*
 * Runtime address of an external symbol, searched in global-scope order: the main program, then the
 * other objects in order, [vdso] last. Only definitions with STB_GLOBAL/STB_WEAK (or
 * STB_GNU_UNIQUE) and default visibility count. For STT_GNU_IFUNC the result is the implementation
 * chosen by the dynamic linker: read it from the GOT slot of an IRELATIVE reloc of the defining
 * object, else from an import slot (GLOB_DAT/JUMP_SLOT) in any object whose value already points
 * into the defining object's executable mapping; else -ENOENT "cannot resolve ifunc 'x'". *def
 * receives the defining object (may be NULL). -ENOENT "undefined symbol 'x@VER'" when not found.
 * For STT_TLS symbols *addr is the st_value (offset in the module's TLS block) and *def the object.
 * @def may be NULL if the caller does not need it.
 */
int kc_resolve_symbol(struct kc_resolver *r, const char *name, const char *version, uint64_t *addr,
		      struct kc_obj **def, struct kc_err *err);

/*
 * Runtime address of exported data @name (@version: its definition's, "" if none) that @target
 * defines at link-time @value, as the dynamic linker bound it for this process: a program's copy
 * (R_X86_64_COPY), or a definition loaded ahead of @target, takes the place of @target's own.
 * In order: @target is the program: its own; else the value of @target's own GLOB_DAT slot for
 * the name (what its code reads); else the first definition ahead of @target in link_map order
 * (data only, versions as kc_obj_dynsym()); else @target's own. *def receives the defining object
 * (NULL if a slot's value lies outside every object's file mappings, a program's .bss past its
 * file say).
 */
void kc_resolve_interposed(struct kc_resolver *r, struct kc_obj *target, const char *name,
			   const char *version, uint64_t value, uint64_t *addr,
			   struct kc_obj **def);

/*
 * TLS identity of an object in the process: its module id and the offset of its static TLS block
 * from the thread pointer (negative on x86_64: block = tp + tpoff). Works for the main program
 * (modid 1; tpoff = -round_up(memsz, align) adjusted for the segment's alignment offset exactly as
 * glibc and ld compute for x86_64 variant II), and for libraries loaded at startup: from
 * kc_obj_dtpmod_slot/kc_obj_tpoff_slot values read from memory when available, else by the DTV of
 * fs_base (tcbhead_t: dtv pointer at fs:8, dtv[modid].pointer) with modid = position among link_map
 * objects having PT_TLS (link_map order from r_debug: DT_DEBUG of the main program, struct
 * r_debug/link_map public layout from <link.h>). -ENOTSUP for a module with dynamic (non-static)
 * TLS or when nothing works. -EINVAL if @obj has no PT_TLS.
 */
int kc_resolve_tls(struct kc_resolver *r, struct kc_obj *obj, uint64_t *modid, int64_t *tpoff,
		   struct kc_err *err);

#endif
