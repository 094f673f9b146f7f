/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Patchsets: the archives a patch server deploys (NAME.tar.bz2 holding
 * patchset.json and the patch files under patches/, docs/patchset-format.md).
 * Three parts share the metadata structs below: the JSON codec
 * (kc_patchset_meta_*), the writer used by `kcare-build patchset`
 * (kc_patchset_writer_*) and the reader a server runs on untrusted uploads
 * (kc_patchset_open*), which validates everything before it returns or
 * stores anything. Signing is not done here: the server signs its feeds.
 */
#ifndef KCARE_PATCHSET_H
#define KCARE_PATCHSET_H

#include <stddef.h>
#include <stdint.h>

#include "kcare/err.h"

#define KC_PATCHSET_FORMAT     1u /* "format" of patchset.json */
#define KC_PATCHSET_JSON       "patchset.json"
#define KC_PATCHSET_DIR	       "patches" /* patch files are "patches/<file name>" */
#define KC_PATCHSET_SHA256_HEX 64	 /* hex digits of a sha256 */
#define KC_PATCHSET_TIME_LEN   20	 /* "2026-01-15T10:30:00Z" */

enum kc_patchset_product {
	KC_PATCHSET_KERNEL = 1, /* K<YYYYMMDD>_<NN>, kernel modules */
	KC_PATCHSET_LIBS = 2,	/* U<YYYYMMDD>_<NN>, user patches */
	KC_PATCHSET_QEMU = 3,	/* U<YYYYMMDD>_<NN>-qemu, user patches */
	KC_PATCHSET_DB = 4,	/* U<YYYYMMDD>_<NN>-db, user patches */
};

enum kc_patchset_kind {
	KC_PATCHSET_USER = 1,	/* a userspace patch file (kcare/patch.h) */
	KC_PATCHSET_MODULE = 2, /* a kernel module (ELF ET_REL with .modinfo) */
};

/* The kpatch-* fields of the product documents, in this order. */
enum kc_patchset_kpatch_field {
	KC_KPATCH_NAME,
	KC_KPATCH_DESCRIPTION,
	KC_KPATCH_CVE,
	KC_KPATCH_CVSS,
	KC_KPATCH_CVE_URL,
	KC_KPATCH_PATCH_URL,
	KC_KPATCH_NFIELDS
};

/* One patch of a patchset. Every pointer is owned by the enclosing meta. */
struct kc_patchset_patch {
	char *file;				 /* "patches/<name>", name [A-Za-z0-9._+-]{1,128} */
	uint64_t length;			 /* bytes of the file */
	char sha256[KC_PATCHSET_SHA256_HEX + 1]; /* lowercase hex of the file */
	enum kc_patchset_kind kind;
	/*
	 * Target identity, lowercase hex. User patches: build_id of the
	 * target object, kernel_id NULL. Kernel modules: build_id (the
	 * kernel's GNU build-id) and, when the module names it, kernel_id
	 * (sha1 of /proc/version): both exactly the module's kcare_build_id
	 * and kcare_kernel_id (docs/kernel-patches.md).
	 */
	char *build_id;
	char *kernel_id;
	char *target_name; /* user: soname or executable name; kernel: "vmlinux" */
	char *id;	   /* patch id, [A-Za-z0-9._-]{1,63} (kernel: series id, kcare_id) */
	uint32_t level;	   /* >= 1 (kernel: kcare_level) */
	char *release;	   /* kernel only, optional: kcare_release (uname -r of the target) */
	char *effective;   /* kernel only, optional: kcare_effective ("effective_version") */
	/*
	 * User only, optional, both or neither: the distribution package that
	 * installs the target and its version (epoch:version-release as the
	 * package manager prints it); what OVAL scanners match (docs/eportal.md).
	 */
	char *package, *package_version;
	char **cves; /* CVE ids; array of ncves strings */
	size_t ncves;
	char *description;		 /* never NULL, may be "" */
	char *kpatch[KC_KPATCH_NFIELDS]; /* NULL when not given */
};

/* patchset.json in memory; everything owned, free with kc_patchset_meta_free(). */
struct kc_patchset_meta {
	uint32_t format; /* KC_PATCHSET_FORMAT */
	char *name;	 /* K20260115_01, U20210818_01-qemu... (checked against product) */
	enum kc_patchset_product product;
	int64_t released;  /* unix time, UTC, whole seconds */
	char *description; /* never NULL, may be "" */
	struct kc_patchset_patch *patches;
	size_t npatches; /* >= 1 */
};

/* ---- names, products, times ---------------------------------------- */

/* "kernel", "libs", "qemu", "db"; NULL for a value outside the enum. */
const char *kc_patchset_product_name(enum kc_patchset_product p);

/* Inverse of kc_patchset_product_name(); -EINVAL for anything else. */
int kc_patchset_product_parse(const char *s, enum kc_patchset_product *p);

/* "kpatch-name", "kpatch-description", ... for a field index. */
const char *kc_patchset_kpatch_key(enum kc_patchset_kpatch_field f);

/*
 * Checks a patchset name against the rules of @product: K<YYYYMMDD>_<NN>
 * for kernel, U<YYYYMMDD>_<NN> for libs, the same with "-qemu" or "-db" for
 * qemu and db (a real calendar date, NN 01..99). -EINVAL with a message
 * saying what is wrong (including a suffix naming another product).
 */
int kc_patchset_check_name(const char *name, enum kc_patchset_product product, struct kc_err *err);

/* [A-Za-z0-9._-]{1,63}: a patch id (the rule of patchfmt.h). */
int kc_patchset_id_ok(const char *s);

/* CVE-YYYY-NNNN with 4 to 12 digits in the sequence number. */
int kc_patchset_cve_ok(const char *s);

/*
 * Parses an ISO-8601 time: YYYY-MM-DD (midnight UTC), or
 * YYYY-MM-DDTHH:MM[:SS] followed by Z or +HH:MM/-HH:MM. -EINVAL otherwise.
 */
int kc_patchset_time_parse(const char *s, int64_t *t, struct kc_err *err);

/* Writes the canonical form "YYYY-MM-DDTHH:MM:SSZ" (@buf of at least 21 bytes). */
char *kc_patchset_time_format(int64_t t, char *buf, size_t bufsz);

/* ---- patchset.json ------------------------------------------------- */

/*
 * Checks every rule of docs/patchset-format.md that concerns the metadata
 * alone (name vs product, identifiers, hex fields, lengths, no control
 * characters, no duplicate file names nor target+id pairs). -EBADMSG.
 */
int kc_patchset_meta_validate(const struct kc_patchset_meta *m, struct kc_err *err);

/*
 * Parses patchset.json from @buf (not NUL-terminated, at most @len bytes)
 * and validates it with kc_patchset_meta_validate(). Caller owns *out.
 * -EBADMSG for malformed JSON, a missing or ill-typed field, an unknown
 * key (keys starting with "x-" are ignored) or a failed rule;
 * -EPROTONOSUPPORT for another format version; -ENOMEM.
 */
int kc_patchset_meta_parse(const void *buf, size_t len, struct kc_patchset_meta **out,
			   struct kc_err *err);

/*
 * Encodes a valid @m as pretty-printed JSON ending in a newline. Caller
 * owns *out (NUL-terminated, *len excludes the NUL); free with free().
 */
int kc_patchset_meta_encode(const struct kc_patchset_meta *m, char **out, size_t *len,
			    struct kc_err *err);

void kc_patchset_meta_free(struct kc_patchset_meta *m);

/* ---- reading archives (untrusted input) ---------------------------- */

/*
 * Bounds on what an archive may expand to, enforced while decompressing:
 * a member or the whole archive going over is refused as soon as the
 * limit is crossed. Zero fields take the default.
 */
struct kc_patchset_limits {
	size_t max_members;	  /* entries of the tar, default 1024 */
	uint64_t max_member_size; /* bytes of one patch file, default 64 MiB */
	uint64_t max_total_size;  /* bytes of all members together, default 256 MiB */
	uint64_t max_json_size;	  /* bytes of patchset.json, default 1 MiB */
};

struct kc_patchset; /* an archive that passed every check; opaque */

/*
 * Reads the archive at @path (tar, optionally compressed with bzip2, gzip
 * or xz, detected from the content) and checks: only regular files and
 * directories, safe relative paths (no "..", no absolute path), only
 * patchset.json and patches/<name>, no duplicates, the limits, the
 * compression stream to its end, patchset.json valid, each listed file
 * present with its length and sha256 and no other file, each file of the
 * product's kind (user patches parse with kc_patch_parse() and match the
 * metadata's build-id, target name, id and level; kernel modules are ELF
 * relocatable objects whose .modinfo kcare_id, kcare_level, kcare_build_id,
 * kcare_kernel_id (and kcare_release, kcare_effective when listed) are the
 * metadata's, named kcare_<id>_<level>).
 *
 * @limits: NULL for the defaults. @extract_dir: NULL to keep the files in
 * memory only; otherwise an existing directory into which, after every
 * check passed, patchset.json and patches/<name> are written (new files,
 * fsync'd; -EEXIST if one exists already).
 *
 * On success *out is owned by the caller (kc_patchset_free()). Errors:
 * -EBADMSG malformed or refused content (message names the member:
 * "patchset: member '../x': path escapes the archive"), -EFBIG a size
 * limit, -E2BIG too many members, -EPROTONOSUPPORT unknown format version,
 * -ENOMEM, -EINVAL if @path is not a regular file, -errno for I/O on
 * @path or @extract_dir.
 */
int kc_patchset_open(const char *path, const struct kc_patchset_limits *limits,
		     const char *extract_dir, struct kc_patchset **out, struct kc_err *err);

/* Same from an archive held in memory (@buf is only borrowed during the call). */
int kc_patchset_open_mem(const void *buf, size_t len, const struct kc_patchset_limits *limits,
			 const char *extract_dir, struct kc_patchset **out, struct kc_err *err);

/* The validated metadata; borrowed, valid until kc_patchset_free(). */
const struct kc_patchset_meta *kc_patchset_meta(const struct kc_patchset *ps);

/* The bytes of patch @i (meta->patches[i].length of them); borrowed. NULL if @i is out of range. */
const void *kc_patchset_patch_data(const struct kc_patchset *ps, size_t i, size_t *len);

/* Path of patch @i in the extraction directory; NULL if none was given. Borrowed. */
const char *kc_patchset_patch_path(const struct kc_patchset *ps, size_t i);

/* The archive's patchset.json exactly as read; borrowed. */
const void *kc_patchset_json(const struct kc_patchset *ps, size_t *len);

void kc_patchset_free(struct kc_patchset *ps);

/* ---- writing archives ---------------------------------------------- */

/*
 * What the command line (or a module's sidecar) says about one patch; the
 * patch file says the rest. A kernel module names its own identity, id and
 * level in .modinfo: kernel_id, kernel_build_id and level, when given, must
 * agree with it.
 */
struct kc_patchset_patch_opts {
	const char *kernel_id;	     /* kernel modules: hex kernel id, or NULL */
	const char *kernel_build_id; /* kernel modules: hex build-id, or NULL */
	uint32_t level;		     /* kernel modules: patch level or 0; user: must be 0 */
	const char *kpatch[KC_KPATCH_NFIELDS]; /* NULL: not given */
	/* kernel modules only (a user patch carries its own): NULL / 0 when not given */
	const char *id; /* the series id (kcare_id) the module must carry */
	const char *description;
	const char *const *cves;
	size_t ncves;
	/* user patches: the target's package and its version, both or neither */
	const char *package, *package_version;
};

enum kc_patchset_compression {
	KC_PATCHSET_BZIP2 = 0, /* the product's format */
	KC_PATCHSET_GZIP,
	KC_PATCHSET_XZ,
	KC_PATCHSET_PLAIN, /* uncompressed tar */
};

struct kc_patchset_writer;

/*
 * Starts a patchset. @name is checked against @product; @description may
 * be NULL (""). Caller owns *out (kc_patchset_writer_free()). -EINVAL.
 */
int kc_patchset_writer_new(const char *name, enum kc_patchset_product product, int64_t released,
			   const char *description, struct kc_patchset_writer **out,
			   struct kc_err *err);

/*
 * Adds a patch held in @buf (copied) under the archive name
 * patches/@file_name. Refuses (-EINVAL) a file that is not a valid patch
 * of the product's kind, a file name already used, a second patch with the
 * same target and id, and options that do not fit the kind.
 */
int kc_patchset_writer_add(struct kc_patchset_writer *w, const char *file_name, const void *buf,
			   size_t len, const struct kc_patchset_patch_opts *o, struct kc_err *err);

/*
 * Reads @path and adds it under its base name; a kernel module goes in as
 * patches/kcare_<id>_<level>-<build-id>.ko (its name= and at most 40 hex
 * digits of its kcare_build_id), so that one patchset carries the same level
 * for several kernels. For a kernel patchset it also reads the module's sidecar,
 * kcare_<id>_<level>.json next to it
 * (@path with ".ko" replaced by ".json", docs/kernel-patches.md), when
 * there is one: its CVEs, description and fixes fill what @o leaves
 * unset, and its id, level and identity must be the module's. Errors as
 * above, plus -errno.
 */
int kc_patchset_writer_add_file(struct kc_patchset_writer *w, const char *path,
				const struct kc_patchset_patch_opts *o, struct kc_err *err);

/*
 * The module name of kernel patch level @level of series @id:
 * kcare_<id with every byte outside [A-Za-z0-9_] as '_'>_<level>, into
 * @buf. -ENAMETOOLONG past 55 characters (the kernel's limit), -EINVAL for
 * an id that kc_patchset_id_ok() refuses.
 */
int kc_patchset_module_name(const char *id, uint32_t level, char *buf, size_t bufsz);

/* The metadata so far; borrowed, valid until the next call on @w. */
const struct kc_patchset_meta *kc_patchset_writer_meta(const struct kc_patchset_writer *w);

/*
 * Writes the archive to @path atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory); *size (may be NULL)
 * is the archive's size. -EINVAL with no patch added, -errno on I/O.
 */
int kc_patchset_writer_write(struct kc_patchset_writer *w, const char *path,
			     enum kc_patchset_compression c, uint64_t *size, struct kc_err *err);

/* Same into memory; caller owns *buf (free()). */
int kc_patchset_writer_write_mem(struct kc_patchset_writer *w, enum kc_patchset_compression c,
				 void **buf, size_t *len, struct kc_err *err);

void kc_patchset_writer_free(struct kc_patchset_writer *w);

#endif
