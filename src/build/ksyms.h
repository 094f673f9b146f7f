/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The symbols of a target kernel object, in the order the kernel's
 * livepatch counts them (kallsyms order for vmlinux, symbol table order
 * for a module), so that a name and a position (sympos) say exactly
 * which symbol klp_find_object_symbol() will find at load time. Also the
 * exports of Module.symvers. Reading vmlinux itself is ksyms-image.c.
 */
#ifndef KC_BUILD_KSYMS_H
#define KC_BUILD_KSYMS_H

#include <stddef.h>
#include <stdint.h>

#include "kcare/err.h"

struct kc_ksym {
	uint64_t addr;	  /* vmlinux: run-time address; module: offset in its section */
	const char *name; /* borrowed from the table's pool */
	char type;	  /* nm(1) letter: t/T function, d/D/b/B/r/R data... */
	uint32_t sec;	  /* module: ELF section index of the definition; vmlinux: 0 */
};

struct kc_ksyms {
	struct kc_ksym *syms; /* owned, in the kernel's counting order */
	size_t n, cap;
	size_t *by_name; /* owned: indices sorted by (name, index); built by _sort() */
	char **pools;	 /* owned name storage */
	size_t npools;
};

/* The outcome of a lookup: how many symbols carry the name, and the one picked. */
struct kc_ksym_match {
	size_t count;		   /* symbols of that name (any type) */
	const struct kc_ksym *sym; /* the one at @sympos (or the only one); NULL if none */
	unsigned long sympos;	   /* 0 when the name is unique, else 1-based position */
	size_t nfuncs;		   /* how many of them are functions */
};

void kc_ksyms_init(struct kc_ksyms *t);
void kc_ksyms_release(struct kc_ksyms *t);

/* Appends a symbol (the name is copied); -ENOMEM. Call kc_ksyms_sort() after the last. */
int kc_ksyms_add(struct kc_ksyms *t, const char *name, char type, uint64_t addr, uint32_t sec);

/* Builds the name index; -ENOMEM. */
int kc_ksyms_sort(struct kc_ksyms *t);

/* True for the nm letters of code (t, T, w/W when defined). */
int kc_ksym_is_func(char type);

/*
 * Finds @name. @sympos 0 asks for the only symbol of that name, or the
 * only function among several when @want_func (then m->sympos says its
 * position); n > 0 picks the n-th. Returns 0 with m filled, -ENOENT when
 * the name is absent, -ENOTUNIQ when it is ambiguous and @sympos is 0,
 * -ERANGE when @sympos is past the last one. No message: callers say
 * which object they searched.
 */
int kc_ksyms_find(const struct kc_ksyms *t, const char *name, unsigned long sympos, int want_func,
		  struct kc_ksym_match *m);

/*
 * A module's symbols from its .ko symbol table, in table order, keeping
 * only those the kernel's module kallsyms keeps (defined, named, in an
 * allocated section outside .init*). -ENOENT/-ENOEXEC with a message.
 */
int kc_ksyms_read_module(const char *ko_path, struct kc_ksyms *t, struct kc_err *err);

/*
 * Exported symbols of Module.symvers ("0xCRC\tNAME\tMODULE\tEXPORT\tNS"):
 * the names exported by vmlinux (module column "vmlinux") into @vmlinux
 * and those of modules into @modules (either may be NULL). The sets are
 * kc_ksyms tables with type 'X'.
 */
int kc_ksyms_parse_symvers(const char *text, size_t len, struct kc_ksyms *vmlinux,
			   struct kc_ksyms *modules, struct kc_err *err);

/* kallsyms-style "ADDR TYPE NAME" lines (System.map, /proc/kallsyms) into @t. */
int kc_ksyms_parse_map(const char *text, size_t len, struct kc_ksyms *t, struct kc_err *err);

#endif
