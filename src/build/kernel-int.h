/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to kernel-*.c: the pieces the preparation and the object rebuild share. */
#ifndef KC_BUILD_KERNEL_INT_H
#define KC_BUILD_KERNEL_INT_H

#include <time.h>

#include "build/kernel-prep.h"
#include "build/kmod-target.h"

/* kernel-repro.c */
/*
 * Compares the code of every function of the object @obj with the same
 * function in the target's vmlinux, relocation fields aside. *@nsame:
 * how many were found in vmlinux and equal. -ENOEXEC naming the first
 * function that differs.
 */
int kc_krepro_check(const struct kc_ktarget *t, const char *obj, size_t *nsame, struct kc_err *err);

/* kernel-tree.c */
/*
 * Makes @to a working copy of the prepared tree @from: its files as hard
 * links, except those written after @generated (kbuild's output, which a
 * build may rewrite in place) which are copied. @to must not exist.
 */
int kc_ktree_farm(const char *from, const char *to, const struct timespec *generated,
		  struct kc_err *err);
/* Replaces the hard link @path by a copy of its own (same mode and times). */
int kc_ktree_unshare(const char *path, struct kc_err *err);
/* -EUCLEAN naming the first file of @tree modified after @since. */
int kc_ktree_unchanged(const char *tree, const struct timespec *since, struct kc_err *err);

/* kernel-incl.c */
/*
 * The .c files of @tree that may include one of @headers (tree-relative),
 * directly or through other headers; a superset. Caller frees each and
 * the array.
 */
int kc_kincl_users(const char *tree, const char *const *headers, size_t nheaders, char ***cfiles,
		   size_t *ncfiles, struct kc_err *err);

/* "a/b/../c" as "a/c", "./" dropped, in place (paths as a compiler wrote them). */
void kc_kpath_normalize(char *path);

/* kernel-prep.c */
/* What stage 2 adds to kbuild's flags: one section per function and per data object. */
#define KC_KPREP_KCFLAGS "-ffunction-sections -fdata-sections"
/* Where make sees every tree (a private mount namespace with a tmpfs on /build). */
#define KC_KPREP_BUILD_PATH "/build/kcare-kernel"
/* Formats a stage line and hands it to @fn (nothing when @fn is NULL). */
void kc_kprep_say(kc_kprep_progress_fn fn, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * make -jN CC=... [KCFLAGS=@kcflags] @targets in @dir, output to @log.
 * -ECHILD with the compiler's first error or the log's last line.
 */
int kc_kprep_make(const struct kc_kprep *p, const char *dir, const char *const *targets, size_t n,
		  const char *kcflags, const char *log, const char *what, struct kc_err *err);

#endif
