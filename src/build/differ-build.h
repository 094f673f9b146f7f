/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The build driver of the object differ (private to src/build): a work
 * directory, copies of the source tree, the diff applied with patch -p1,
 * the build command run with or without compiler wrappers that add
 * -ffunction-sections -fdata-sections, and the objects a build left.
 */
#ifndef KC_BUILD_DIFFER_BUILD_H
#define KC_BUILD_DIFFER_BUILD_H

#include <stddef.h>

#include "kcare/err.h"

/*
 * Every build runs in one directory, the tree, so that paths compiled into
 * objects (__FILE__, recorded flags) are the same in all of them.
 */
struct kc_dbuild {
	char *work; /* owned; absolute */
	int keep;   /* the caller named the directory: never removed */
	char *bin;  /* owned; directory of the compiler wrappers */
	char *tree; /* owned; absolute: WORK/tree, or the caller's build path */
};

/*
 * Creates the work directory (@dir, which must be absent or empty, or a
 * new temporary one), the wrappers and the tree (@tree, absent or empty,
 * or NULL for WORK/tree). Release with kc_dbuild_release() even on
 * failure.
 */
int kc_dbuild_init(struct kc_dbuild *b, const char *dir, const char *tree, struct kc_err *err);

/* Empties the tree and removes a temporary work directory; frees @b. */
void kc_dbuild_release(struct kc_dbuild *b);

/* Empties the tree, then copies @from into it (modes and times kept, objects left out). */
int kc_dbuild_fill(struct kc_dbuild *b, const char *from, struct kc_err *err);

/* WORK/@name: a copy of the tree as it is now. */
int kc_dbuild_snapshot(struct kc_dbuild *b, const char *name, struct kc_err *err);

/* Copies the file @path into WORK as LABEL-BASENAME; *out: its new path (malloc'd). */
int kc_dbuild_save(struct kc_dbuild *b, const char *path, const char *label, char **out,
		   struct kc_err *err);

/* Applies the unified diff @diff to the tree (patch -p1). -ECHILD if it does not apply. */
int kc_dbuild_patch(struct kc_dbuild *b, const char *diff, struct kc_err *err);

/*
 * Runs @cmd with /bin/sh -c in the tree, output to WORK/@label.log.
 * @sections: through the wrappers (gcc, cc... first in PATH). -ECHILD
 * with the last line of the log if it fails, -EINTR if interrupted.
 */
int kc_dbuild_make(struct kc_dbuild *b, const char *label, const char *cmd, int sections,
		   struct kc_err *err);

/* Whether every file the diff touches is a C/C++/assembly source (no headers). */
int kc_dbuild_diff_sources_only(const char *diff);

/* TREE/@rel (@rel NULL: the tree), malloc'd (NULL on ENOMEM). */
char *kc_dbuild_tree_path(const struct kc_dbuild *b, const char *rel);

/* WORK/@name/@rel, malloc'd (NULL on ENOMEM). */
char *kc_dbuild_path(const struct kc_dbuild *b, const char *name, const char *rel);

/*
 * Relative paths of the regular files under @dir for which @want(path)
 * is true, sorted. Caller owns *out (each string and the array).
 */
int kc_dbuild_list(const char *dir, int (*want)(const char *path), char ***out, size_t *n,
		   struct kc_err *err);

void kc_dbuild_list_free(char **list, size_t n);

#endif
