/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The target kernel of a livepatch build, for kcare-build kmod and the
 * diff-based builder alike: its kbuild headers, its image tree, vmlinux
 * with its identity and kallsyms, Module.symvers, the modules' symbol
 * tables and an index of their functions, and the bytes at a function's
 * entry. See kmod-target.c for where each comes from and what is cached.
 */
#ifndef KC_BUILD_KMOD_TARGET_H
#define KC_BUILD_KMOD_TARGET_H

#include "build/ksyms-image.h"
#include "build/ksyms.h"
#include "kcare/err.h"

/* One module of the target whose symbol table was read. */
struct kc_kmodule {
	char *name; /* owned: module name (dashes as underscores) */
	char *path; /* owned: its .ko */
	struct kc_ksyms syms;
};

struct kc_ktarget {
	char abi[65];
	char *headers; /* owned: kbuild directory */
	char *tree;    /* owned: root holding boot/ and lib/modules/ */
	char *cache;   /* owned: this ABI's cache directory */
	struct kc_kimage *image;
	struct kc_ksyms exports;    /* exported by vmlinux */
	struct kc_ksyms modexports; /* exported by modules */
	struct kc_ksyms index;	    /* functions of modules: sec = index into idxmods */
	char **idxmods;		    /* owned: .ko paths relative to lib/modules/ABI */
	size_t nidxmods;
	struct kc_kmodule *mods; /* owned: modules read so far */
	size_t nmods;
};

/*
 * Opens the target: @kernel is an ABI (headers in /usr/src/linux-headers-ABI)
 * or a headers directory; @tree a root with boot/vmlinuz-ABI and
 * lib/modules/ABI (NULL: / when it has them, else linux-image-ABI fetched
 * into the cache). -ENOENT/-EINVAL with one line for missing headers, a
 * tree of another kernel or another build. Caller owns *out; close with
 * kc_ktarget_close().
 */
int kc_ktarget_open(const char *kernel, const char *tree, struct kc_ktarget **out,
		    struct kc_err *err);
void kc_ktarget_close(struct kc_ktarget *t);
/* The module named @name (read on first use); -ENOENT when the tree has none. */
int kc_ktarget_module(struct kc_ktarget *t, const char *name, struct kc_kmodule **out,
		      struct kc_err *err);
/* .ko paths (relative to lib/modules/ABI, borrowed) of the modules defining function @name. */
size_t kc_ktarget_func_modules(struct kc_ktarget *t, const char *name, const char **paths,
			       size_t max);
/* The ftrace call-site length at @sym's entry in @obj; -ENOEXEC with a message when none. */
int kc_ktarget_ftrace_skip(struct kc_ktarget *t, const char *obj, const struct kc_ksym *sym,
			   const char *name, struct kc_err *err);
/* A module name from a .ko path: base name without .ko, '-' as '_'. Caller frees. */
char *kc_ktarget_modname(const char *path);

#endif
