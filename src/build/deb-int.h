/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stages of kcare-build deb (private to src/build), in pipeline order:
 *   deb-pkg.c      the installed package: source, versions, shared objects
 *   deb-src.c      deb-src entries, is the exact source in the archive, fetch
 *   deb-rebuild.c  build dependencies, per-package recipes, the rebuild in a
 *                  private mount namespace at Debian's build path
 *   deb-ident.c    is a rebuilt object the installed one
 *   deb-scope.c    which objects a diff cannot change (no differ run for them)
 *   deb-cache.c    the cache directory of one source version, its manifest
 *   deb-exec.c     running a command (these stages run apt and dpkg)
 */
#ifndef KC_BUILD_DEB_INT_H
#define KC_BUILD_DEB_INT_H

#include <stddef.h>

#include "build/logtail.h"
#include "kcare/buildid.h"
#include "kcare/err.h"

/* ---- deb-exec.c ---- */

struct kc_deb_cmd {
	const char *const *argv; /* argv[0] looked up in PATH; or NULL and @script */
	const char *script;	 /* run by /bin/sh -c */
	const char *cwd;	 /* NULL: unchanged */
	const char *log;	 /* output appended here; NULL: /dev/null */
	const char *const *env;	 /* "NAME=VALUE" set in the child; NULL-terminated, may be NULL */
	char **out;		 /* if set: stdout captured here (malloc'd, caller frees) */
	/*
	 * If set: the child runs in a private mount namespace with a tmpfs
	 * on /build and @bind_from bind-mounted at @bind_to (which must be
	 * under /build); @cwd is taken inside that namespace.
	 */
	const char *bind_from, *bind_to;
};

/*
 * Runs @c and waits. Returns the exit status (0..255; 128+N for signal N),
 * or a negative errno if the command could not be started.
 */
int kc_deb_exec(const struct kc_deb_cmd *c, struct kc_err *err);

/* Whether an apt log says the archive could not be reached. */
int kc_deb_log_offline(const char *log);

/* ---- deb-pkg.c ---- */

struct kc_deb_pkg {
	char name[128];	       /* binary package as asked for */
	char version[128];     /* its installed version */
	char source[128];      /* source package */
	char src_version[128]; /* source version (differs after binNMUs) */
	char upstream[128];    /* source version without epoch and Debian revision */
	char **objects;	       /* owned: installed ELF shared objects (regular files) */
	size_t nobjects;
};

/* Fills @p from dpkg. -ENOENT: not installed; -ENOEXEC: installs no shared object. */
int kc_deb_pkg_query(const char *package, struct kc_deb_pkg *p, struct kc_err *err);

void kc_deb_pkg_release(struct kc_deb_pkg *p);

/* "1:1.2.13.dfsg-1" -> "1.2.13.dfsg"; "3.0.20-1~deb12u2" -> "3.0.20"; "5" -> "5". */
void kc_deb_upstream_version(const char *version, char *buf, size_t bufsz);

/* ---- deb-src.c ---- */

struct kc_deb_aptfile {
	const char *path; /* for the comment in the output */
	const char *text;
	int deb822; /* .sources (deb822) or .list (one-line) */
};

/*
 * The deb-src entries missing from @files, for the deb entries of the
 * suites @codename, @codename-updates and @codename-security: each made
 * from its deb entry (same URIs, components, options, Signed-By), in
 * deb822. *out is "" when nothing is missing. Caller frees *out.
 */
int kc_deb_src_derive(const struct kc_deb_aptfile *files, size_t nfiles, const char *codename,
		      char **out, struct kc_err *err);

/*
 * Makes sure apt knows the deb-src entries: writes KC_DEB_SRC_LIST if
 * needed and runs apt-get update. -ENETUNREACH if the archive cannot be
 * reached. @log receives apt's output. *@added is set to 1 when this call
 * created the file (the caller removes it with kc_deb_src_remove() once
 * apt no longer needs it), else left alone.
 */
#define KC_DEB_SRC_LIST "/etc/apt/sources.list.d/kcare-build-src.sources"
int kc_deb_src_ensure(const char *log, int *added, struct kc_err *err);

/*
 * Removes KC_DEB_SRC_LIST and lets apt forget its source indexes (apt-get
 * update into @log, best effort): the host's apt as it was before the build.
 */
int kc_deb_src_remove(const char *log, struct kc_err *err);

/*
 * Whether the archive has @p's source at exactly its installed version.
 * -ENOPKG (message lists what the archive has) if not.
 */
int kc_deb_src_check(const struct kc_deb_pkg *p, const char *log, struct kc_err *err);

/* apt-get source SRC=VERSION inside @dir (extracts SRC-UPSTREAM there). */
int kc_deb_src_fetch(const struct kc_deb_pkg *p, const char *dir, const char *log,
		     struct kc_err *err);

/* ---- deb-rebuild.c ---- */

struct kc_deb_recipe {
	const char *source;   /* source package, NULL: the default */
	const char *profiles; /* DEB_BUILD_PROFILES for build-dep and build, NULL: none */
	const char *script;   /* /bin/sh script run in the tree at Debian's path */
	const char *what;     /* for messages and docs */
};

/* The recipe for @source (the generic one if the package has none, or for KC_DEB_FULL). */
const struct kc_deb_recipe *kc_deb_recipe_find(const char *source, int full);

/* Installs the build dependencies of @tree only when dpkg-checkbuilddeps says some are missing. */
int kc_deb_builddeps(const char *tree, const struct kc_deb_recipe *r, const char *log,
		     struct kc_err *err);

/*
 * Runs @r in @tree, bind-mounted at /build/reproducible-path/@name in a
 * private mount namespace, with SOURCE_DATE_EPOCH from debian/changelog.
 * -ECHILD if the build fails (message names the log).
 */
int kc_deb_rebuild(const char *tree, const char *name, const struct kc_deb_recipe *r,
		   const char *log, struct kc_err *err);

/*
 * The shell command that runs @r for the object differ: in a private
 * mount namespace at /build/reproducible-path/@name, like
 * kc_deb_rebuild(), but in whatever directory it is started. Caller frees.
 */
char *kc_deb_recipe_cmd(const struct kc_deb_recipe *r, const char *name);

/* ---- deb-ident.c ---- */

enum kc_deb_match {
	KC_DEB_SAME_BUILDID = 1,  /* equal GNU build-ids */
	KC_DEB_SAME_SECTIONS = 2, /* other build-id, every loaded section byte-identical */
};

/*
 * Whether @rebuilt is @installed: equal build-ids, or else the same
 * loaded sections (name, type, flags, address, size, bytes; the build-id
 * note excepted) and the same loadable segments. Returns 0 and *how, or
 * -ESRCH with the first difference named, -ENOEXEC if not ELF.
 */
int kc_deb_ident_check(const char *installed, const char *rebuilt, enum kc_deb_match *how,
		       struct kc_err *err);

/*
 * Looks in @tree for the rebuild of @installed: ELF files with the same
 * file name or DT_SONAME, the first identical one wins. *rebuilt is
 * malloc'd. -ENOENT: none was built; -ESRCH: some were, none identical
 * (message says why for the first).
 */
int kc_deb_ident_find(const char *installed, const char *tree, char **rebuilt,
		      enum kc_deb_match *how, struct kc_err *err);

/*
 * Writes @path: a copy of the checked @rebuilt whose build-id note says
 * @id (the installed object's), so that the patch packer finds the
 * symbols of a stripped target as its debug file by build-id. Only for a
 * rebuild kc_deb_ident_check() accepted. -ENOTSUP if the note's size differs.
 */
int kc_deb_ident_debug_file(const char *rebuilt, const struct kc_buildid *id, const char *path,
			    struct kc_err *err);

/* ---- deb-scope.c ---- */

/*
 * 1 when the diff @diff surely cannot change @object (an unstripped build
 * from @tree): it touches only C files, none a unit of @object or
 * #included anywhere in @tree. 0 when it may (then the differ decides).
 */
int kc_deb_scope_unaffected(const char *diff, const char *tree, const char *object);

/* ---- deb-cache.c ---- */

struct kc_deb_obj {
	char *installed; /* owned */
	char *rebuilt;	 /* owned, absolute */
	struct kc_buildid id;
	enum kc_deb_match how;
};

struct kc_deb_cache {
	char *dir;   /* owned: ROOT/SOURCE/VERSION (':' of an epoch as '_') */
	int lock_fd; /* flock'd for the whole run */
	char *mode;  /* owned: recipe of the cached rebuild ("libs-only", "full"), NULL if none */
	struct kc_deb_obj *objs; /* owned: the manifest, when valid */
	size_t nobjs;
};

/*
 * Opens (creates) the cache directory of @source @version under @root
 * and takes its lock (waits for a concurrent run). Reads the manifest
 * if there is one. Release with kc_deb_cache_close().
 */
int kc_deb_cache_open(const char *root, const char *source, const char *version,
		      struct kc_deb_cache *c, struct kc_err *err);

void kc_deb_cache_close(struct kc_deb_cache *c);

/* DIR/@rel, malloc'd (NULL on ENOMEM). */
char *kc_deb_cache_path(const struct kc_deb_cache *c, const char *rel);

/* Forgets the rebuild (manifest first, then the trees) so that a new one starts clean. */
int kc_deb_cache_reset(struct kc_deb_cache *c, struct kc_err *err);

/*
 * Writes the manifest atomically (from now on the rebuild is reused) and
 * reloads @c from it. Takes no ownership of @objs, which must not be c->objs.
 */
int kc_deb_cache_commit(struct kc_deb_cache *c, const char *mode, const struct kc_deb_obj *objs,
			size_t n, struct kc_err *err);

/* rm -rf @path (no error if absent). */
int kc_deb_rmtree(const char *path, struct kc_err *err);

#endif
