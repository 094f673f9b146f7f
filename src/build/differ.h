/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kc_differ_run(): a live patch from a source tree and a unified diff (the
 * library behind `kcare-build user`, reused by `kcare-build deb`). It
 * rebuilds the sources as they are and with the diff applied, compares
 * the objects function by function, and packs the changed and new
 * functions into a patch for the target through kc_pack_build(). The
 * stages live in differ-build.c (builds), differ-symtab.c (the target's
 * symbols by compilation unit, identity of a rebuild), differ-cmp.c
 * (pairing and comparison) and differ-emit.c (the fix object).
 */
#ifndef KC_BUILD_DIFFER_H
#define KC_BUILD_DIFFER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "build/pack.h"
#include "kcare/err.h"

struct kc_differ_opts {
	const char *target;    /* the executable or shared object to patch */
	const char *src;       /* a clean source tree (not modified) */
	const char *diff;      /* unified diff, applied with patch -p1 inside a copy of @src */
	const char *build_cmd; /* run by /bin/sh -c in the tree's top; NULL: "make" */
	/*
	 * NULL: the unmodified sources are built once more with their own
	 * flags, and a file of that build must be the target (same build-id,
	 * or every loaded section byte-identical). Else a file already known
	 * to be identical to the target (kcare-build deb's checked rebuild);
	 * it is checked again, and its .symtab is used for a stripped target.
	 */
	const char *reference;
	const char *work_dir; /* NULL: a temporary directory, removed; else kept (must be empty) */
	/*
	 * Where every build runs (absent or empty; emptied and removed at the
	 * end), for packages that only reproduce at their own build path.
	 * NULL: WORK/tree. All builds share it, so paths compiled into the
	 * objects are the same in the original and patched builds.
	 */
	const char *build_path;
	const char *output; /* the patch file */
	/* metadata and debug_dir as for kcare-build pack (target/object/output unused) */
	struct kc_pack_opts pack;
};

/* One function of the patch, for the verbose report. */
struct kc_differ_func {
	char name[128];
	char unit[128]; /* STT_FILE name of its compilation unit */
	int replaced;	/* 1: replaces the target's function; 0: new code */
};

struct kc_differ_summary {
	struct kc_pack_summary pack;
	struct kc_differ_func *funcs; /* owned; release with kc_differ_summary_release() */
	size_t nfuncs;
};

/*
 * Builds and writes the patch. Returns 0, or a negative errno with a
 * one-line message: -ENOEXEC/-ENOTSUP for a change it refuses (naming the
 * symbol: changed global data, changed initialiser, function too short),
 * -ESRCH when the sources do not rebuild the target, -ENODATA when the
 * diff changes no code of the target, -ECHILD when a build or the diff
 * fails (the message names the log in the work directory). No output
 * file is left behind on failure. @sum may be NULL.
 */
int kc_differ_run(const struct kc_differ_opts *o, struct kc_differ_summary *sum,
		  struct kc_err *err);

void kc_differ_summary_release(struct kc_differ_summary *sum);

/* One file to patch in kc_differ_run_many(), and what came of it. */
struct kc_differ_target {
	const char *target;    /* as kc_differ_opts.target */
	const char *reference; /* as kc_differ_opts.reference */
	const char *output;    /* as kc_differ_opts.output */
	/* results: */
	int ret;		      /* 0: patch written; else as kc_differ_run() (-ENODATA...) */
	struct kc_err err;	      /* why, when ret < 0 */
	struct kc_differ_summary sum; /* when ret == 0; release with kc_differ_summary_release() */
};

/*
 * kc_differ_run() for several files of one tree (libcrypto and libssl, say)
 * with one original and one patched build for all; @o's target, reference
 * and output are unused. A failure of one target (no identical rebuild, a
 * refused change, nothing changed) is its own, in t[i]. Returns < 0 only
 * when the run as a whole fails (a build, the diff, interrupted), and then
 * no patch of it is left behind.
 */
int kc_differ_run_many(const struct kc_differ_opts *o, struct kc_differ_target *t, size_t n,
		       struct kc_err *err);

/*
 * The verdict on a kc_differ_run_many() as a whole, for front ends that
 * make all of a fix's patches or none: 0 when no target was refused and at
 * least one patch was written; else the first refusal (its message
 * naming the target) or -ENODATA when the diff changes none of
 * them, and then the patches that were written are removed.
 */
int kc_differ_verdict(struct kc_differ_target *t, size_t n, struct kc_err *err);

/*
 * Set (to 1) by a front end's SIGINT/SIGTERM handler: the running build
 * is stopped and kc_differ_run() fails with -EINTR, removing its
 * temporary work directory like any other failure.
 */
extern volatile sig_atomic_t kc_differ_interrupted;

#endif
