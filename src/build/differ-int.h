/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State shared by the passes of the object differ (private to
 * src/build). One kc_dcu per compilation unit the diff changed: its
 * original and patched objects (built with one function or object per
 * section) and what each section is. The passes run in this order:
 *   kc_diff_cu_open()   reads both objects, classifies every section
 *   kc_diff_pair()      pairs functions and named data across the two
 *   kc_diff_compare()   decides which functions changed; refuses changed
 *                       data, constructors and multi-function sections
 *   kc_diff_include()   picks the replaced functions and everything they
 *                       need, resolving the rest against the target
 *   kc_emit_fix()       writes the fix object and the binds for packing
 */
#ifndef KC_BUILD_DIFFER_INT_H
#define KC_BUILD_DIFFER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "build/differ-symtab.h"
#include "build/objfile.h"
#include "build/pack.h"
#include "build/target.h"

enum kc_dsec_kind {
	KC_DSEC_IGNORE, /* not loaded, empty, unwind tables, notes: never compared */
	KC_DSEC_FUNC,	/* one function (its entry symbol at 0): paired by name */
	KC_DSEC_FRAG,	/* code with no entry of its own (foo.cold): compared, copied */
	KC_DSEC_MULTI,	/* several functions in one section: built without -ffunction-sections */
	KC_DSEC_DATA,	/* storage with an identity (writable, or global read-only): paired */
	KC_DSEC_CONST,	/* read-only data (jump tables, local constants): compared, copied */
	KC_DSEC_MSTR,	/* mergeable strings: compared string by string, copied */
	KC_DSEC_MCONST, /* mergeable constants (.rodata.cst*): compared entry by entry, copied */
	KC_DSEC_OTHER,	/* constructors and other loaded sections: must not change */
};

/* What one section of one object is; fields below "patched side" are unused for the original. */
struct kc_dsec {
	enum kc_dsec_kind kind;
	size_t entry; /* FUNC, DATA: the symbol naming the section (0: anonymous data) */
	size_t pair;  /* FUNC, DATA, MULTI: the section of the other object, 0 if none */
	int changed;  /* FUNC, DATA (patched side, paired): differs from its pair */
	/* patched side: */
	int include; /* copied into the fix */
	int replace; /* FUNC: replaces the target's definition (t*) */
	int bound;   /* not included: references go to the target's definition (t*) */
	uint64_t tvalue, tsize;
	unsigned char ttype, tbind;
	size_t out_sec; /* emitter: section index in the fix, 0 if none */
	size_t out_sym; /* emitter: the undefined symbol of a bound section */
};

struct kc_dcmp_memo {
	size_t o, p;
	int state; /* 1 busy (counts as equal: a cycle), 2 equal, 3 different */
};

struct kc_dcu {
	char *rel;		   /* owned: the object's path relative to the tree */
	const char *file;	   /* STT_FILE of the patched object (borrowed), NULL if none */
	struct kc_objfile *o, *p;  /* owned; o NULL for a unit the diff adds */
	struct kc_dsec *os, *ps;   /* owned; one per section of o and p */
	struct kc_dcmp_memo *memo; /* owned */
	size_t nmemo, capmemo;
};

/* A relocation's target in a form that can be compared across objects. */
struct kc_dref {
	int undef;	  /* 1: undefined symbol (name), 2: absolute symbol (name, off = value) */
	const char *name; /* borrowed */
	size_t sec;	  /* defined: section index */
	int64_t off;	  /* defined: offset in the section (symbol value + addend); else addend */
};

struct kc_diff {
	struct kc_dcu *cus; /* owned */
	size_t ncus;
	const struct kc_dsymtab *st; /* borrowed: the target's symbols */
	const struct kc_target *tgt; /* borrowed: its bytes (NULL: not checked) */
};

/*
 * Opens the units of the patched build's objects @pobjs (relative to the
 * tree of @b; the original's are under b's "orig" snapshot) whose bytes
 * changed and that are linked into the target (d->st and d->tgt set).
 * -ENODATA naming @target when none is.
 */
struct kc_dbuild;
int kc_diff_units(struct kc_diff *d, const struct kc_dbuild *b, char *const *pobjs, size_t npobjs,
		  const char *target, struct kc_err *err);

int kc_diff_cu_open(struct kc_dcu *cu, const char *orig, const char *patched, struct kc_err *err);
void kc_diff_cu_release(struct kc_dcu *cu);

int kc_diff_pair(struct kc_dcu *cu, struct kc_err *err);
int kc_diff_compare(struct kc_dcu *cu, struct kc_err *err);
int kc_diff_include(struct kc_diff *d, struct kc_err *err);

/*
 * Writes the fix object to @path and fills the binds for kc_pack_build()
 * (*binds owned by the caller). Only after kc_diff_include().
 */
int kc_emit_fix(struct kc_diff *d, const char *path, struct kc_pack_bind **binds, size_t *nbinds,
		struct kc_err *err);

/*
 * The fix object's .eh_frame (differ-eh.c): the FDEs of copied code from
 * the patched units, with their CIEs and a zero terminator. Relocations
 * name the fix's section symbols, whose index is the section's out_sec.
 */
struct kc_diff_eh {
	uint8_t *data; /* owned; NULL when no copied code has an entry */
	size_t size;
	GElf_Rela *relas; /* owned */
	size_t nrelas, nfdes;
};

/*
 * Makes room for @need elements of @elem bytes in *@p (capacity *@cap,
 * doubled from 16). 0 or -ENOMEM (*@p unchanged).
 */
int kc_diff_grow(void **p, size_t *cap, size_t need, size_t elem);

/* Builds @eh (release with kc_diff_eh_release()); only once out_sec is set. */
int kc_diff_eh_build(const struct kc_diff *d, struct kc_diff_eh *eh, struct kc_err *err);
void kc_diff_eh_release(struct kc_diff_eh *eh);

void kc_diff_ref(const struct kc_objfile *f, const GElf_Rela *r, struct kc_dref *out);

/* Whether @o's section @oi and @p's section @pi hold equal code or data (memoised). */
int kc_diff_sec_equal(struct kc_dcu *cu, size_t oi, size_t pi);

/*
 * The patched unit and symbol defining global @name among the changed
 * units, for references across them. 0 or -ENOENT.
 */
int kc_diff_find_global(const struct kc_diff *d, const char *name, size_t *cu, size_t *sym);

/*
 * Whether the @tlen bytes at link-time address @vaddr of the target are
 * the code of the @len bytes at @off in the object's section @os: the same
 * instructions, where linking may have written fields and the assembler
 * may have encoded a branch to another function shorter (see
 * differ-code.c). 1 the same, 0 not (*at: offset in the object of the
 * first difference), < 0 on error.
 */
int kc_diff_code_same(const struct kc_target *t, uint64_t vaddr, uint64_t tlen,
		      const struct kc_objfile_sec *os, uint64_t off, uint64_t len, uint64_t *at,
		      struct kc_err *err);

/* The name of a section's entry symbol, or its section name for anonymous ones. */
const char *kc_diff_sec_name(const struct kc_objfile *f, const struct kc_dsec *s, size_t i);

#endif
