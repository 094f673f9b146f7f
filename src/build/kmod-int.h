/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to kmod*.c: the target kernel, kbuild runs and the generated files. */
#ifndef KC_BUILD_KMOD_INT_H
#define KC_BUILD_KMOD_INT_H

#include "build/klp.h"
#include "build/kmod.h"
#include "build/ksyms-image.h"
#include "build/ksyms.h"

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

/* kmod-target.c */
int kc_ktarget_open(const char *kernel, const char *tree, struct kc_ktarget **out,
		    struct kc_err *err);
void kc_ktarget_close(struct kc_ktarget *t);
/* The module named @name (read on first use); -ENOENT when the tree has none. */
int kc_ktarget_module(struct kc_ktarget *t, const char *name, struct kc_kmodule **out,
		      struct kc_err *err);
/* Names of the modules that define function @name, in index order (borrowed paths). */
size_t kc_ktarget_func_modules(struct kc_ktarget *t, const char *name, const char **paths,
			       size_t max);
/* The ftrace call-site length at @sym's entry in @obj; -ENOEXEC with a message when none. */
int kc_ktarget_ftrace_skip(struct kc_ktarget *t, const char *obj, const struct kc_ksym *sym,
			   const char *name, struct kc_err *err);
/* A module name from a .ko path: base name without .ko, '-' as '_'. Caller frees. */
char *kc_ktarget_modname(const char *path);

/* kmod-make.c */
/* Runs @argv in @dir, output to @log; 0 when it exits 0, else -ECHILD (err names @what). */
int kc_kmod_run(const char *dir, char *const argv[], const char *log, const char *what,
		struct kc_err *err);
/* The first "error:" line of a compiler log, with @workdir/FILE replaced by @from[i]. */
void kc_kmod_first_error(const char *log, const char *workdir, const char **work_names,
			 const char **from, size_t n, char *buf, size_t bufsz);

/* kmod-gen.c */
struct kc_kmod_gen {
	const char *module, *id;
	uint32_t level;
	const char *build_id, *kernel_id, *release, *effective;
	struct kc_kmod_fix *fixes;
	size_t nfixes;
};
/* Writes kcare-gen.h, kcare-sw.S (when a fix has a switch) into @dir. */
int kc_kmod_gen_write(const char *dir, const struct kc_kmod_gen *g, struct kc_err *err);
/* The placeholder symbol the switch code of fix @f, function @k jumps through. */
void kc_kmod_gen_orig_name(size_t f, size_t k, char *buf, size_t bufsz);

#endif
