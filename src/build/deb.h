/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kc_deb_build(): live patches for a Debian package installed on this
 * host (the library behind `kcare-build deb`). It finds the package's
 * source and exact installed version, fetches that source with apt,
 * rebuilds it the way Debian does, checks that every rebuilt shared
 * object is the installed one, caches that rebuild by version, then has
 * the object differ (differ.h) make one patch per object the fix changes,
 * keyed by the installed file's build-id. The stages live in deb-pkg.c,
 * deb-src.c, deb-rebuild.c, deb-ident.c, deb-cache.c and deb.c.
 */
#ifndef KC_BUILD_DEB_H
#define KC_BUILD_DEB_H

#include <stddef.h>

#include "build/pack.h"
#include "kcare/err.h"

#define KC_DEB_CACHE_DIR "/var/cache/kcare-build"

enum kc_deb_mode {
	KC_DEB_LIBS_ONLY, /* the package's recipe when there is one (OpenSSL: build_libs) */
	KC_DEB_FULL,	  /* dpkg-buildpackage -b: everything the package builds */
};

struct kc_deb_opts {
	const char *package;   /* installed binary package (zlib1g, libssl3) */
	const char *diff;      /* unified diff against the package's source tree (-p1) */
	const char *cache_dir; /* NULL: KC_DEB_CACHE_DIR */
	const char *out_dir;   /* one patch per changed shared object is written here */
	enum kc_deb_mode mode;
	int fresh;    /* 1: ignore and replace a cached rebuild */
	int no_patch; /* 1: stop after the checked rebuild (cache warm-up, --rebuild-only) */
	/* metadata for every patch; target/object/output unused */
	struct kc_pack_opts pack;
	/* one line per stage for the front end (may be NULL); never an error */
	void (*progress)(void *ctx, const char *line);
	void *progress_ctx;
};

/* One patch written, for the front end's report. */
struct kc_deb_patch {
	char target[1024];  /* installed path */
	char output[1024];  /* patch file */
	char build_id[129]; /* hex, of the installed file */
	size_t nreplaced, nnew;
};

struct kc_deb_summary {
	char source[128], version[128]; /* source package and its installed version */
	int cached;			/* the checked rebuild came from the cache */
	double rebuild_seconds;		/* 0 when cached */
	size_t nobjects;		/* shared objects checked identical */
	struct kc_deb_patch *patches;	/* owned; release with kc_deb_summary_release() */
	size_t npatches;
};

/*
 * Runs the whole pipeline. Returns 0, or a negative errno with one line:
 * -ENOENT package not installed, -ENOPKG no source for the installed
 * version in the archive, -ENETUNREACH apt cannot reach the archive,
 * -ESRCH a rebuilt object differs from the installed one (never patched),
 * -ECHILD a command failed (the message names its log), -ENODATA the diff
 * changes no installed shared object, and the differ's own codes.
 */
int kc_deb_build(const struct kc_deb_opts *o, struct kc_deb_summary *sum, struct kc_err *err);

void kc_deb_summary_release(struct kc_deb_summary *sum);

#endif
