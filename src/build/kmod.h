/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kcare-build kmod: a livepatch module (one kcare patch level) from
 * hand-written fix sources, built with kbuild against the target
 * kernel's headers (docs/kernel-patches.md is the contract). The pieces:
 * kmod-src.c (a fix's header), kmod-target.c (the target kernel's
 * files), kmod-gen.c (the generated tables), kmod-make.c (kbuild runs),
 * kmod.c (the pipeline and its output), klp.c (klp relocations).
 */
#ifndef KC_BUILD_KMOD_H
#define KC_BUILD_KMOD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "kcare/err.h"

#define KC_KMOD_NAME_MAX 55 /* MODULE_NAME_LEN - 1 */

/* A function a fix replaces, once resolved in the target. */
struct kc_kmod_func {
	char *name;	      /* owned */
	char *obj;	      /* owned: "vmlinux" or a module name */
	unsigned long sympos; /* klp old_sympos */
	int skip;	      /* bytes of the original's ftrace call site (switches) */
};

/* One --source: its file, the metadata of its header, and what it replaces. */
struct kc_kmod_fix {
	char *path;			   /* owned */
	char *name, *description, *kernel; /* owned; NULL when the header is silent */
	char *cvss, *cve_url, *patch_url;  /* owned; NULL when silent */
	char **cves;			   /* owned */
	size_t ncves;
	char *sw;     /* owned: kcare-switch name, or NULL */
	char **picks; /* owned: kcare-sympos values "[OBJ:]NAME,POS" */
	size_t npicks;
	struct kc_kmod_func *funcs; /* owned; filled by the build */
	size_t nfuncs;
	int prebuilt; /* an object compiled elsewhere, not a source */
};

/*
 * Reads the header comment at the top of a fix source (@text, @len bytes,
 * need not be NUL-terminated): "kpatch-name:", "kpatch-description:",
 * "kpatch-kernel:", "kpatch-cve:" (repeatable, or several separated by
 * spaces or commas), "kpatch-cvss:", "kpatch-cve-url:",
 * "kpatch-patch-url:", "kcare-switch:" and "kcare-sympos:" (repeatable)
 * lines. Other lines of the comment are text. -EINVAL with a message for
 * a bad value or a key said twice. @fix->path is left as it is.
 */
int kc_kmod_fix_parse(const char *text, size_t len, struct kc_kmod_fix *fix, struct kc_err *err);

void kc_kmod_fix_release(struct kc_kmod_fix *fix);

/* Module name for a series id and level; -EINVAL for a bad id, -ENAMETOOLONG past 55. */
int kc_kmod_module_name(const char *id, uint32_t level, char *buf, size_t bufsz,
			struct kc_err *err);

struct kc_kmod_opts {
	const char *kernel;	 /* ABI (6.1.0-57-amd64) or a headers directory */
	const char *kernel_tree; /* root with boot/ and lib/modules/; NULL: / or a download */
	const char **sources;	 /* borrowed */
	size_t nsources;
	/*
	 * borrowed: fix objects already compiled with kbuild against the same
	 * headers (e.g. by the diff-based builder); named like sources.o,
	 * metadata from the options below
	 */
	const char **objects;
	size_t nobjects;
	const char *output; /* directory */
	const char *id;
	uint32_t level;
	const char **cves; /* borrowed; fill in what headers do not say */
	size_t ncves;
	const char *description, *cvss, *patch_url, *cve_url, *effective;
	const char *sign_key, *sign_cert;
	const char *keep_work; /* NULL: a temporary work directory removed at the end */
};

struct kc_kmod_result {
	char module[KC_KMOD_NAME_MAX + 1];
	char ko[4096], json[4096];
	char release[65];
	char build_id[129];
	size_t nfuncs;
	size_t nklp_syms, nklp_relas;
	int signed_;
};

/*
 * Set by a front end's signal handler: the running tool is stopped and
 * the build fails with -EINTR, removing its work directory.
 */
extern volatile sig_atomic_t kc_kmod_interrupted;

/*
 * The whole build. On success -o holds MODULE.ko and MODULE.json; on
 * failure nothing was written there and err says why in one line.
 */
int kc_kmod_build(const struct kc_kmod_opts *o, struct kc_kmod_result *res, struct kc_err *err);

#endif
