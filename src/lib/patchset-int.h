/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private helpers shared by the patchset files (src/lib/patchset-*.c):
 * hashing, quoting untrusted names into messages, and inspecting a patch
 * file of either kind. The public contract is include/kcare/patchset.h.
 */
#ifndef KC_LIB_PATCHSET_INT_H
#define KC_LIB_PATCHSET_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kcare/patchset.h"

#define PS_NAME_MAX	 128   /* bytes of a file name under patches/ */
#define PS_TEXT_MAX	 65536 /* bytes of a description */
#define PS_LINE_MAX	 4096  /* bytes of a one-line field (kpatch-*, target name) */
#define PS_CVES_MAX	 1024  /* CVE ids of one patch */
#define PS_PATCHES_MAX	 4096  /* patches of one patchset (keeps the pairwise checks cheap) */
#define PS_LENGTH_MAX	 (1ull << 40)
#define PS_HEXID_MAX	 128 /* hex digits of a build-id */
#define PS_KERNEL_ID_HEX 40  /* sha1 of /proc/version */
#define PS_QUOTE_MAX	 96  /* bytes of an untrusted name shown in a message */

/* Lowercase hex sha256 of @buf into @hex (65 bytes). -ENOMEM if libsodium cannot start. */
int ps_sha256_hex(const void *buf, size_t len, char *hex, struct kc_err *err);

/*
 * Copies @s into @buf for a message: printable ASCII as is, other bytes
 * as \xNN, cut with "..." past PS_QUOTE_MAX. Returns @buf.
 */
const char *ps_quote(const char *s, char *buf, size_t bufsz);

/* [A-Za-z0-9._+-]{1,128}, not starting with '.': a file name under patches/. */
int ps_file_name_ok(const char *s);

/* Lowercase hex, even length, 2..@max digits. */
int ps_hex_ok(const char *s, size_t max);

/* A kernel release (uname -r): [A-Za-z0-9._+~-]{1,64}. */
int ps_release_ok(const char *s);

/*
 * Valid UTF-8 of at most @max bytes without control characters (tab and
 * newline allowed when @multiline).
 */
int ps_text_ok(const char *s, size_t max, int multiline);

/* What a patch file says about itself; strings borrowed from the parsed file. */
struct ps_inspect {
	enum kc_patchset_kind kind;
	char build_id[2 * 64 + 1]; /* user: the target's; module: kcare_build_id */
	const char *kernel_id;	   /* module: kcare_kernel_id, or NULL */
	const char *target_name;   /* user patches; "vmlinux" for modules */
	const char *id;		   /* user: patch id; module: kcare_id (the series) */
	uint32_t level;		   /* user: the patch's; module: kcare_level */
	const char *module;	   /* module: its name= (kcare_<id>_<level>) */
	const char *release;	   /* module: kcare_release, or NULL */
	const char *effective;	   /* module: kcare_effective, or NULL when absent or empty */
	char *const *cves;	   /* user patches */
	size_t ncves;
	const char *description; /* user patches */
	void *owner;		 /* the parsed patch or module tags; ps_inspect_release() */
};

/*
 * Parses @buf as a patch of @kind: a user patch through kc_patch_parse(),
 * a kernel module as ELF ET_REL whose .modinfo holds the kcare tags of
 * docs/kernel-patches.md (kcare_id, kcare_level, kcare_build_id, optional
 * kcare_kernel_id, kcare_release, kcare_effective) and name= the module
 * name they imply. -EBADMSG with a message saying what it is instead (a
 * module offered as a user patch and the reverse are named as such, and
 * so is a module without kcare tags). @buf is not modified.
 */
int ps_inspect(enum kc_patchset_kind kind, const void *buf, size_t len, struct ps_inspect *out,
	       struct kc_err *err);

void ps_inspect_release(struct ps_inspect *in);

/* What the sidecar of a module (kcare_<id>_<level>.json) says; strings borrowed from doc. */
struct ps_sidecar {
	int found; /* 0: there is no sidecar, nothing else is set */
	void *doc; /* the parsed JSON (json_object) */
	const char *id, *build_id, *kernel_id, *description;
	uint32_t level;
	const char **cves; /* sorted, no duplicates */
	size_t ncves;
	char *kpatch[KC_KPATCH_NFIELDS]; /* from the fixes; owned */
};

/*
 * Reads the sidecar of the module at @ko_path (".ko" replaced by ".json").
 * No sidecar is not an error (sc->found 0). -EINVAL for one that is not
 * what kcare-build kmod writes, -errno, -ENOMEM.
 */
int ps_sidecar_load(const char *ko_path, struct ps_sidecar *sc, struct kc_err *err);

/* The same from NUL-terminated @text; @what names it in messages. */
int ps_sidecar_parse_text(const char *text, const char *what, struct ps_sidecar *sc,
			  struct kc_err *err);

void ps_sidecar_release(struct ps_sidecar *sc);

/* The kind of patch a product carries. */
enum kc_patchset_kind ps_product_kind(enum kc_patchset_product p);

/*
 * kc_patchset_meta_validate() for m->patches[i] alone (its fields and
 * its clashes with the entries before it). -EBADMSG.
 */
int ps_patch_validate(const struct kc_patchset_meta *m, size_t i, struct kc_err *err);

/* Frees the members of @p (not @p itself). */
void ps_patch_release(struct kc_patchset_patch *p);

#endif
