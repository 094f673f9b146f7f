// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Runtime addresses in a running process, as its dynamic linker bound them:
 * symbol lookup in global-scope order, IFUNCs read back from the GOT slots
 * ld.so filled, and the TLS identity (module id, static block offset) of an
 * object. The ELF side comes from objs.c; target memory is read through the
 * engine's callback. Nothing here writes to the target or stops it.
 */
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/resolve.h"

/* x86_64 dtv_t is a 16-byte union; its first word is the block pointer (or TLS_DTV_UNALLOCATED). */
#define RESOLVE_DTV_ENTRY	16
#define RESOLVE_DTV_UNALLOCATED ((uint64_t)-1)
/* A static TLS block lies just below the thread pointer; farther than this it is a heap block. */
#define RESOLVE_STATIC_TLS_MAX (16ULL << 20)

static int resolve_read64(struct kc_resolver *r, uint64_t addr, uint64_t *val)
{
	return r->read(r->read_ctx, addr, val, sizeof(*val));
}

/* Exported from the object's point of view: what ld.so would bind a reference to. */
static bool resolve_exported(const GElf_Sym *s)
{
	unsigned bind = GELF_ST_BIND(s->st_info), vis = GELF_ST_VISIBILITY(s->st_other);

	if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
		return false;
	/* Protected symbols are exported too; only their own object cannot be interposed. */
	return vis == STV_DEFAULT || vis == STV_PROTECTED;
}

/* Is @addr inside @obj's mappings but not the IFUNC resolver itself (the value an unrelocated slot
 * holds)? */
static bool resolve_points_into(const struct kc_obj *obj, uint64_t addr, uint64_t resolver_rt)
{
	return addr >= obj->lo && addr < obj->hi && addr != resolver_rt;
}

static int resolve_ifunc(struct kc_resolver *r, struct kc_obj *def, const char *name,
			 const GElf_Sym *sym, uint64_t *addr, struct kc_err *err)
{
	uint64_t slot, val, resolver_rt = def->bias + sym->st_value;

	if (kc_obj_irelative_slot(def, sym->st_value, &slot, NULL) == 0 &&
	    resolve_read64(r, def->bias + slot, &val) == 0 &&
	    resolve_points_into(def, val, resolver_rt)) {
		*addr = val;
		return 0;
	}
	/* No IRELATIVE of its own: some object importing it has the chosen implementation in its
	 * GOT. */
	for (size_t i = 0; i < r->objs->n; i++) {
		struct kc_obj *o = &r->objs->v[i];

		if (kc_obj_import_slot(o, name, &slot, NULL) != 0 ||
		    resolve_read64(r, o->bias + slot, &val) != 0)
			continue;
		if (resolve_points_into(def, val, resolver_rt)) {
			*addr = val;
			return 0;
		}
	}
	return kc_err_set(err, -ENOENT, "cannot resolve ifunc '%s'", name);
}

int kc_resolve_symbol(struct kc_resolver *r, const char *name, const char *version, uint64_t *addr,
		      struct kc_obj **def, struct kc_err *err)
{
	struct kc_objs *objs = r->objs;
	struct kc_obj *found = NULL;
	GElf_Sym sym;

	if (def)
		*def = NULL;
	/* objs lists the program first and [vdso] wherever it sits: visit the vdso last. */
	for (int pass = 0; pass < 2 && !found; pass++) {
		for (size_t i = 0; i < objs->n; i++) {
			struct kc_obj *o = &objs->v[i];

			if (o->is_vdso != (pass == 1))
				continue;
			if (kc_obj_dynsym(o, name, version, &sym, NULL) == 0 &&
			    resolve_exported(&sym)) {
				found = o;
				break;
			}
		}
	}
	if (!found)
		return kc_err_set(err, -ENOENT, "undefined symbol '%s%s%s'", name,
				  version && *version ? "@" : "", version ? version : "");
	if (def)
		*def = found;
	switch (GELF_ST_TYPE(sym.st_info)) {
	case STT_TLS:
		*addr = sym.st_value;
		return 0;
	case STT_GNU_IFUNC:
		return resolve_ifunc(r, found, name, &sym, addr, err);
	default:
		*addr = sym.st_shndx == SHN_ABS ? sym.st_value : found->bias + sym.st_value;
		return 0;
	}
}

/* The program's r_debug.r_map: the head of the link_map list, in load order. */
static int resolve_link_map_head(struct kc_resolver *r, uint64_t *lm, struct kc_err *err)
{
	struct kc_obj *main_obj = NULL;
	uint64_t slot, rdebug;

	for (size_t i = 0; i < r->objs->n; i++)
		if (r->objs->v[i].is_main)
			main_obj = &r->objs->v[i];
	if (!main_obj || kc_obj_dt_debug_slot(main_obj, &slot, NULL) != 0)
		return kc_err_set(err, -ENOTSUP, "no DT_DEBUG in the program to find link_map");
	if (resolve_read64(r, main_obj->bias + slot, &rdebug) != 0 || rdebug == 0 ||
	    resolve_read64(r, rdebug + offsetof(struct r_debug, r_map), lm) != 0)
		return kc_err_set(err, -ENOTSUP, "cannot read r_debug of the program");
	return 0;
}

/* A definition that takes the place of @target's own: exported, and data rather than code. */
static bool resolve_interposes(struct kc_obj *o, const char *name, const char *version,
			       GElf_Sym *sym)
{
	unsigned type;

	if (kc_obj_dynsym(o, name, version, sym, NULL) != 0 || !resolve_exported(sym))
		return false;
	type = GELF_ST_TYPE(sym->st_info);
	return type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_TLS &&
	       sym->st_shndx != SHN_ABS;
}

/*
 * The objects ahead of @target in the global scope, as ld.so searched them: link_map order (the
 * program first); without a readable link_map, only the program, the usual interposer.
 */
static struct kc_obj *resolve_scope_before(struct kc_resolver *r, struct kc_obj *target,
					   const char *name, const char *version, GElf_Sym *sym)
{
	uint64_t lm = 0;

	if (resolve_link_map_head(r, &lm, NULL) != 0) {
		for (size_t i = 0; i < r->objs->n; i++) {
			struct kc_obj *o = &r->objs->v[i];

			if (o->is_main && o != target && resolve_interposes(o, name, version, sym))
				return o;
		}
		return NULL;
	}
	for (unsigned guard = 0; lm && guard < 65536; guard++) {
		uint64_t l_ld, next;
		struct kc_obj *o;

		if (resolve_read64(r, lm + offsetof(struct link_map, l_ld), &l_ld) != 0 ||
		    resolve_read64(r, lm + offsetof(struct link_map, l_next), &next) != 0)
			return NULL;
		o = kc_objs_find_addr(r->objs, l_ld);
		if (o == target)
			return NULL;
		if (o && !o->is_vdso && resolve_interposes(o, name, version, sym))
			return o;
		lm = next;
	}
	return NULL;
}

void kc_resolve_interposed(struct kc_resolver *r, struct kc_obj *target, const char *name,
			   const char *version, uint64_t value, uint64_t *addr, struct kc_obj **def)
{
	struct kc_obj *o;
	uint64_t slot, val;
	GElf_Sym sym;

	*addr = target->bias + value;
	*def = target;
	/* the program comes first in every scope: its own definition is the one */
	if (target->is_main)
		return;
	/* the slot through which the target's own code reaches it holds ld.so's choice */
	if (kc_obj_import_slot(target, name, &slot, NULL) == 0 &&
	    resolve_read64(r, target->bias + slot, &val) == 0 && val != 0) {
		*addr = val;
		*def = kc_objs_find_addr(r->objs, val);
		return;
	}
	/* no such slot (the target's code never used it): the lookup ld.so would do */
	o = resolve_scope_before(r, target, name, version, &sym);
	if (o) {
		*addr = o->bias + sym.st_value;
		*def = o;
	}
}

/*
 * glibc's placement of the first static TLS block for TLS_TCB_AT_TP (x86_64), which
 * is the executable's: the block ends at the thread pointer, its start rounded down to
 * the alignment while keeping p_vaddr's offset within that alignment (what ld assumes
 * when it resolves local-exec accesses at link time).
 */
static int64_t resolve_main_tpoff(const struct kc_obj *obj)
{
	uint64_t align = obj->tls_align ? obj->tls_align : 1;
	uint64_t firstbyte = (0 - (obj->tls_vaddr & (align - 1))) & (align - 1);
	uint64_t off = ((obj->tls_memsz - firstbyte + align - 1) / align) * align + firstbyte;

	return -(int64_t)off;
}

/* Module id as ld.so assigned it at startup: rank among link_map objects that have PT_TLS. */
static int resolve_modid_from_link_map(struct kc_resolver *r, struct kc_obj *obj, uint64_t *modid,
				       struct kc_err *err)
{
	uint64_t lm, id = 0;
	unsigned guard = 0;
	int ret = resolve_link_map_head(r, &lm, err);

	if (ret)
		return ret;
	for (; lm && guard < 65536; guard++) {
		uint64_t l_ld, next;
		struct kc_obj *o;

		if (resolve_read64(r, lm + offsetof(struct link_map, l_ld), &l_ld) != 0 ||
		    resolve_read64(r, lm + offsetof(struct link_map, l_next), &next) != 0)
			return kc_err_set(err, -ENOTSUP, "cannot read link_map at %#llx",
					  (unsigned long long)lm);
		o = kc_objs_find_addr(r->objs, l_ld);
		if (o && o->has_tls) {
			id++;
			if (o == obj) {
				*modid = id;
				return 0;
			}
		}
		lm = next;
	}
	return kc_err_set(err, -ENOTSUP, "'%s' is not in the link_map list", obj->path);
}

/* tpoff through the thread's DTV; only a block right below the thread pointer is static TLS. */
static int resolve_tpoff_from_dtv(struct kc_resolver *r, uint64_t modid, int64_t *tpoff,
				  struct kc_err *err)
{
	uint64_t dtv, len, block;

	if (!r->fs_base)
		return kc_err_set(err, -ENOTSUP, "no thread pointer to read the dtv");
	/* tcbhead_t: tcb, dtv, self...; dtv[-1] holds the number of entries. */
	if (resolve_read64(r, r->fs_base + 8, &dtv) != 0 || !dtv ||
	    resolve_read64(r, dtv - RESOLVE_DTV_ENTRY, &len) != 0 || modid > len ||
	    resolve_read64(r, dtv + modid * RESOLVE_DTV_ENTRY, &block) != 0)
		return kc_err_set(err, -ENOTSUP, "cannot read dtv entry %llu",
				  (unsigned long long)modid);
	if (block == RESOLVE_DTV_UNALLOCATED || block >= r->fs_base ||
	    r->fs_base - block > RESOLVE_STATIC_TLS_MAX)
		return kc_err_set(err, -ENOTSUP, "module %llu has dynamic tls",
				  (unsigned long long)modid);
	*tpoff = (int64_t)(block - r->fs_base);
	return 0;
}

int kc_resolve_tls(struct kc_resolver *r, struct kc_obj *obj, uint64_t *modid, int64_t *tpoff,
		   struct kc_err *err)
{
	uint64_t slot, val, sym_off, id = 0;
	bool have_id = false, have_off = false;
	int64_t off = 0;
	int ret;

	if (!obj->has_tls)
		return kc_err_set(err, -EINVAL, "'%s' has no tls segment", obj->path);
	if (obj->is_main) {
		*modid = 1;
		*tpoff = resolve_main_tpoff(obj);
		return 0;
	}
	/* What ld.so wrote into the object's own GOT is authoritative. */
	if (kc_obj_dtpmod_slot(obj, &slot, NULL) == 0 &&
	    resolve_read64(r, obj->bias + slot, &val) == 0 && val != 0) {
		id = val;
		have_id = true;
	}
	if (kc_obj_tpoff_slot(obj, &slot, &sym_off, NULL) == 0 &&
	    resolve_read64(r, obj->bias + slot, &val) == 0) {
		off = (int64_t)(val - sym_off);
		have_off = true;
	}
	if (!have_id) {
		ret = resolve_modid_from_link_map(r, obj, &id, err);
		if (ret)
			return kc_err_prefix(err, "tls of '%s'", obj->path);
	}
	if (!have_off) {
		ret = resolve_tpoff_from_dtv(r, id, &off, err);
		if (ret)
			return kc_err_prefix(err, "tls of '%s'", obj->path);
	}
	if (off >= 0)
		return kc_err_set(err, -ENOTSUP, "tls of '%s': not in static tls", obj->path);
	*modid = id;
	*tpoff = off;
	return 0;
}
