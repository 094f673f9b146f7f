/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kc_pack(): turns a target object and the author's fix object into a
 * patch file (the library behind `kcare-build pack`). The pipeline lives
 * in pack.c; kc_pack_build() is the reusable part that stops short of
 * writing, for front ends that make objects themselves (object differ).
 */
#ifndef KC_BUILD_PACK_H
#define KC_BUILD_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "kcare/err.h"
#include "kcare/patch.h"

struct kc_objfile;
struct kc_target;
struct kc_patch_label;

/*
 * A symbol of the fix whose definition in the target the caller already
 * knows (the object differ resolves static symbols through their
 * compilation unit, so a name defined by several units is no obstacle).
 * An undefined symbol with a bind is a TARGET symbol with these values;
 * a function defined in the fix with @replace set replaces the target
 * function at @value.
 */
struct kc_pack_bind {
	size_t sym;		  /* index in the fix object's .symtab */
	uint64_t value, size;	  /* st_value, st_size in the target */
	unsigned char type, bind; /* STT_*, STB_* in the target */
	int replace;
};

struct kc_pack_opts {
	const char *target;	 /* path of the executable or shared object */
	const char *object;	 /* path of the fix (ET_REL) */
	const char *output;	 /* patch file to write */
	const char *id;		 /* NULL: basename of @object without .o, sanitised */
	const char *description; /* NULL: "" */
	const char *debug_dir;	 /* NULL: /usr/lib/debug */
	uint32_t level;		 /* 0: 1 */
	const char **cves;	 /* syntax checked by the caller */
	size_t ncves;
	/*
	 * Optional (kc_pack_build() only): binds by symbol index. With
	 * @binds_only, a function of the fix replaces a target function only
	 * through a bind with replace set; every other one is new code.
	 */
	const struct kc_pack_bind *binds; /* borrowed */
	size_t nbinds;
	int binds_only;
};

/* What kc_pack() made, for the one-line report of the front end. */
struct kc_pack_summary {
	char id[64];
	uint32_t level;
	char target_name[256];
	char build_id[2 * KC_BUILDID_MAX + 1]; /* hex */
	size_t nreplaced, nnew;
};

/* A patch in memory plus the labels for its .symtab. */
struct kc_pack_result {
	struct kc_patch *patch;	       /* owned */
	struct kc_patch_label *labels; /* owned, names owned (freed with the result) */
	size_t nlabels;
	size_t nreplaced, nnew;
};

/*
 * Builds the patch for @obj against @tgt with the metadata of @o (paths
 * in @o are used only for target_path and the default id). Fills @res;
 * release with kc_pack_result_release(). -ENOEXEC/-ENOTSUP with a message
 * naming the symbol, section or relocation for anything it refuses.
 */
int kc_pack_build(struct kc_target *tgt, struct kc_objfile *obj, const struct kc_pack_opts *o,
		  struct kc_pack_result *res, struct kc_err *err);

void kc_pack_result_release(struct kc_pack_result *res);

/* Opens o->target and o->object, builds, writes o->output atomically. @sum may be NULL. */
int kc_pack(const struct kc_pack_opts *o, struct kc_pack_summary *sum, struct kc_err *err);

/* Default patch id from an object path: basename without ".o", [A-Za-z0-9._-], <= 63. */
void kc_pack_default_id(const char *object, char *buf, size_t bufsz);

#endif
