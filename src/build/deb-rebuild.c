// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Rebuilding a Debian source package the way Debian does, so that the
 * result is the installed binary: build dependencies (only when some are
 * missing), the build at /build/reproducible-path/<source>-<upstream> in
 * a private mount namespace (OpenSSL's libcrypto embeds its CFLAGS, which
 * name that path), SOURCE_DATE_EPOCH from debian/changelog, and per
 * package recipes that build only the libraries where the package allows
 * it. Which file of the result is which installed object is deb-ident.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/deb-int.h"

#define REBUILD_ROOT "/build/reproducible-path"

/*
 * OpenSSL: debian/rules configures under dh, which exports the
 * dpkg-buildflags values (with the DEB_BUILD_MAINT_OPTIONS the rules file
 * exports) before running override_dh_auto_configure; we do the same and
 * then build only the shared libcrypto and libssl (minutes instead of 40):
 * not even build_libs, whose static libraries compile every unit a second
 * time into objects the differ would take for more of the same code.
 */
#define REBUILD_DH_FLAGS                                                                           \
	"eval \"$(printf 'kc-flags:\\n\\t@dpkg-buildflags --export=sh\\n' | "                      \
	"make --no-print-directory -s -f debian/rules -f - kc-flags)\"\n"

/*
 * Every script may run again in a tree it already built (the object
 * differ builds the patched tree as a copy of the built original): it
 * drops the stamps that would make the second run a no-op and lets make
 * rebuild what the diff touched.
 */
static const struct kc_deb_recipe rebuild_recipes[] = {
    {"zlib", "nobiarch",
     "rm -f build-stamp\n"
     "dpkg-buildpackage -T build-arch --no-check-builddeps -Pnobiarch\n",
     "debian/rules build-arch without the 32-bit library (profile nobiarch)"},
    {"openssl", NULL,
     REBUILD_DH_FLAGS "[ -f build_shared/Makefile ] || debian/rules override_dh_auto_configure\n"
		      "make -C build_shared -j\"$KC_JOBS\" build_generated\n"
		      "make -C build_shared depend\n"
		      "make -C build_shared -j\"$KC_JOBS\" libcrypto.so.3 libssl.so.3\n",
     "Configure as debian/rules does, then only libcrypto.so.3 and libssl.so.3 in build_shared"},
};

static const struct kc_deb_recipe rebuild_default = {
    NULL, NULL,
    "rm -f debian/debhelper-build-stamp\n"
    "dpkg-buildpackage -T build-arch --no-check-builddeps\n",
    "debian/rules build-arch (compiled, not packaged)"};

static const struct kc_deb_recipe rebuild_full = {
    NULL, NULL,
    "rm -f debian/debhelper-build-stamp\n"
    "dpkg-buildpackage -b -uc -us --no-check-builddeps\n",
    "dpkg-buildpackage -b (the whole package)"};

const struct kc_deb_recipe *kc_deb_recipe_find(const char *source, int full)
{
	if (full)
		return &rebuild_full;
	for (size_t i = 0; i < sizeof(rebuild_recipes) / sizeof(rebuild_recipes[0]); i++)
		if (!strcmp(rebuild_recipes[i].source, source))
			return &rebuild_recipes[i];
	return &rebuild_default;
}

static long rebuild_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

/*
 * What every recipe runs under, inside the tree at Debian's path: the
 * changelog's date, our own DEB_BUILD_OPTIONS (a caller's noopt would
 * make other code) and the recipe's profiles. Caller frees.
 */
static char *rebuild_body(const struct kc_deb_recipe *r)
{
	char *s;

	if (asprintf(&s,
		     "set -e\n"
		     "export SOURCE_DATE_EPOCH=\"$(dpkg-parsechangelog -STimestamp)\"\n"
		     "export KC_JOBS=%ld DEB_BUILD_OPTIONS='nocheck parallel=%ld'\n"
		     "%s%s%s"
		     "%s",
		     rebuild_jobs(), rebuild_jobs(),
		     r->profiles ? "export DEB_BUILD_PROFILES='" : "",
		     r->profiles ? r->profiles : "", r->profiles ? "'\n" : "", r->script) < 0)
		return NULL;
	return s;
}

int kc_deb_builddeps(const char *tree, const struct kc_deb_recipe *r, const char *log,
		     struct kc_err *err)
{
	char prof[160] = "", tail[256];
	const char *check[] = {"dpkg-checkbuilddeps", NULL, NULL};
	const char *install[] = {"apt-get",   "-y",
				 "-q",	      "--no-install-recommends",
				 "-o",	      "DPkg::Lock::Timeout=600",
				 "build-dep", "./",
				 NULL,	      NULL};
	const char *const env[] = {"DEBIAN_FRONTEND=noninteractive", NULL};
	struct kc_deb_cmd c = {.argv = check, .cwd = tree, .log = log, .env = env};
	int ret;

	if (r->profiles) {
		snprintf(prof, sizeof(prof), "-P%s", r->profiles);
		check[1] = prof;
		install[8] = prof;
	}
	ret = kc_deb_exec(&c, err);
	if (ret <= 0)
		return ret;
	c.argv = install;
	ret = kc_deb_exec(&c, err);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return 0;
	if (kc_deb_log_offline(log))
		return kc_err_set(err, -ENETUNREACH, "apt cannot reach the archive (see '%s')",
				  log);
	return kc_err_set(err, -ECHILD, "cannot install the build dependencies: %s (see '%s')",
			  kc_log_last_line(log, tail, sizeof(tail)), log);
}

int kc_deb_rebuild(const char *tree, const char *name, const struct kc_deb_recipe *r,
		   const char *log, struct kc_err *err)
{
	char to[512], tail[256];
	char *body = rebuild_body(r);
	struct kc_deb_cmd c = {.cwd = to, .log = log, .bind_from = tree, .bind_to = to};
	int ret;

	if (!body)
		return kc_err_set(err, -ENOMEM, "out of memory");
	snprintf(to, sizeof(to), REBUILD_ROOT "/%s", name);
	/* the mount point of the namespace's tmpfs; stays empty on the host */
	if (mkdir("/build", 0755) < 0 && errno != EEXIST) {
		free(body);
		return kc_err_set(err, -errno, "cannot create '/build': %s", strerror(errno));
	}
	c.script = body;
	ret = kc_deb_exec(&c, err);
	free(body);
	if (ret < 0)
		return ret;
	if (ret)
		return kc_err_set(err, -ECHILD, "the rebuild failed (exit %d): %s (see '%s')", ret,
				  kc_log_last_line(log, tail, sizeof(tail)), log);
	return 0;
}

/* @s in single quotes for sh, appended to @o. */
static void rebuild_quote(FILE *o, const char *s)
{
	fputc('\'', o);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", o);
		else
			fputc(*s, o);
	fputc('\'', o);
}

char *kc_deb_recipe_cmd(const struct kc_deb_recipe *r, const char *name)
{
	char *body = rebuild_body(r), *inner = NULL, *out = NULL;
	size_t ilen = 0, olen = 0;
	FILE *o;

	if (!body)
		return NULL;
	o = open_memstream(&inner, &ilen);
	if (!o) {
		free(body);
		return NULL;
	}
	/* $0 is the directory the differ started us in: its copy of the tree */
	fprintf(o,
		"set -e\nmount -t tmpfs kcare-build /build\nmkdir -p " REBUILD_ROOT "/%s\n"
		"mount --bind \"$0\" " REBUILD_ROOT "/%s\ncd " REBUILD_ROOT "/%s\n%s",
		name, name, name, body);
	free(body);
	if (fclose(o) != 0)
		goto out;
	o = open_memstream(&out, &olen);
	if (!o)
		goto out;
	fputs("mkdir -p /build && exec unshare -m --propagation private sh -c ", o);
	rebuild_quote(o, inner);
	fputs(" \"$(pwd)\"", o);
	if (fclose(o) != 0) {
		free(out);
		out = NULL;
	}
out:
	free(inner);
	return out;
}
