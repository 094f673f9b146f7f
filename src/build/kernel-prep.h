/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kcare-build kernel, stages 1 and 2: a kernel source tree prepared
 * exactly like the target kernel's build (Debian's linux-source of the
 * target's version, its config, its compiler; checked by rebuilding a few
 * objects and comparing their code with the target's vmlinux), cached
 * per ABI and version; and the objects a source diff touches rebuilt
 * from it, original and patched, for the object differ.
 *   kernel-prep.c   finding, fetching, preparing and caching the tree
 *   kernel-repro.c  comparing a rebuilt object's functions with vmlinux
 *   kernel-tree.c   copy-on-write working trees of the cached tree
 *   kernel-objs.c   which objects a diff changes, and rebuilding them
 */
#ifndef KC_BUILD_KERNEL_PREP_H
#define KC_BUILD_KERNEL_PREP_H

#include <stddef.h>
#include <time.h>

#include "kcare/err.h"

/* A stage starting ("fetch linux-source-6.1 6.1.192-3"), for a front end to show. */
typedef void (*kc_kprep_progress_fn)(void *arg, const char *stage);

struct kc_kprep_opts {
	const char *kernel; /* ABI (6.1.0-57-amd64) or a kernel headers directory */
	/*
	 * an unpacked, clean linux-source tree (prepared into the cache), or
	 * one already prepared (has include/config/auto.conf: used in place,
	 * without the reproduction check); NULL: apt-get download
	 */
	const char *source;
	const char *cache; /* NULL: $XDG_CACHE_HOME/kcare-build, else ~/.cache/kcare-build */
	kc_kprep_progress_fn progress; /* may be NULL */
	void *progress_arg;
};

/* A prepared tree, ready for single-object builds. */
struct kc_kprep {
	char abi[65];
	char version[128];	  /* Debian version of the kernel packages */
	char cc[64];		  /* the compiler to build with (CC=) */
	char *headers;		  /* owned: kbuild headers directory of the target */
	char *dir;		  /* owned: this preparation's cache directory */
	char *tree;		  /* owned: DIR/tree, never written after preparation */
	int reused;		  /* 1 when the cache already held it */
	int as_is;		  /* --source was a prepared tree, used without the checks */
	struct timespec unpacked; /* files of the tree newer than this are kbuild's output */
	struct timespec ready;	  /* the tree must not change after this */
	size_t nchecked;	  /* functions found identical in the reproduction check */
	int lock_fd;		  /* shared lock held while the tree is in use */
};

/*
 * Finds or makes the prepared tree of @o->kernel. Slow the first time
 * (download, make olddefconfig, make prepare, reproduction check: a few
 * minutes), seconds when cached. A tree that would not reproduce the
 * target (other source version, config or compiler) is refused with the
 * reason (-EINVAL/-ENOEXEC); a killed preparation is redone. Caller owns
 * *out; free with kc_kprep_free().
 */
int kc_kprep_open(const struct kc_kprep_opts *o, struct kc_kprep **out, struct kc_err *err);
void kc_kprep_free(struct kc_kprep *p);

/* One object a diff changes, rebuilt on both sides. */
struct kc_kobj {
	char *obj;     /* owned: tree-relative object, "fs/open.o" */
	char *target;  /* owned: "vmlinux" or the module's name ("ext4") */
	char *orig;    /* owned: the original object (under the output directory) */
	char *patched; /* owned: the patched object */
	char **srcs;   /* owned: the changed files that made it a candidate */
	size_t nsrcs;
};

struct kc_kobjs {
	struct kc_kobj *v; /* owned */
	size_t n;
};

struct kc_kobjs_opts {
	const struct kc_kprep *prep;
	const char **diffs; /* borrowed: unified diffs, -p1, applied in order */
	size_t ndiffs;
	const char *output;    /* existing directory: orig/OBJ, patched/OBJ, objects.tsv */
	const char *keep_work; /* NULL: working trees removed at the end */
	kc_kprep_progress_fn progress;
	void *progress_arg;
};

/*
 * Stage 2: applies the diffs to copy-on-write trees of the prepared tree
 * (never to the tree itself), finds the objects built from the changed
 * files (a header: every object whose kbuild dependencies list it) and
 * rebuilds them original and patched with kbuild, adding
 * -ffunction-sections -fdata-sections. A diff that does not apply or
 * touches a file no object is built from fails with one line and
 * nothing written to @o->output. Caller releases @out.
 */
int kc_kobjs_build(const struct kc_kobjs_opts *o, struct kc_kobjs *out, struct kc_err *err);
void kc_kobjs_release(struct kc_kobjs *objs);

/* The files a unified diff changes (its "+++ b/PATH" names, PATH without the b/). */
int kc_kdiff_files(const char *text, size_t len, char ***files, size_t *n, struct kc_err *err);

#endif
