// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The OVAL documents a patch server publishes: which distributions get
 * one, what each is called, and writing them under DIR/oval/ where the
 * HTTP front serves them as static files (no database at request time).
 * The definitions themselves come from oval-model.c and oval-xml.c.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eportal/model.h"
#include "eportal/oval-int.h"
#include "eportal/oval.h"
#include "kcare/conf.h"
#include "kcare/osrelease.h"

#define OVAL_PREFIX   "com.kernelcare."
#define OVAL_MAX_DOCS 64 /* distributions published at once */

/* os-release IDs whose package manager the definitions test, and their names. */
static const struct {
	const char *id, *name;
	enum kc_oval_pkg pkg;
} distros[] = {
    {"debian", "Debian", KC_OVAL_DPKG},
    {"ubuntu", "Ubuntu", KC_OVAL_DPKG},
    {"rhel", "Red Hat Enterprise Linux", KC_OVAL_RPM},
    {"centos", "CentOS", KC_OVAL_RPM},
    {"almalinux", "AlmaLinux", KC_OVAL_RPM},
    {"rocky", "Rocky Linux", KC_OVAL_RPM},
    {"ol", "Oracle Linux", KC_OVAL_RPM},
};
#define NDISTROS (sizeof(distros) / sizeof(distros[0]))

static int distro_index(const char *id)
{
	for (size_t i = 0; i < NDISTROS; i++)
		if (!strcmp(distros[i].id, id))
			return (int)i;
	return -1;
}

static int release_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	return n >= 1 && n <= 32 && !s[n] && s[0] != '.' && s[0] != '-';
}

int kc_ep_oval_distro_check(const char *distro, const char *release, struct kc_err *err)
{
	char known[256] = "";

	if (!distro || distro_index(distro) < 0) {
		for (size_t i = 0; i < NDISTROS; i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				 i ? ", " : "", distros[i].id);
		return kc_err_set(err, -EINVAL, "unknown distribution '%.64s' (known: %s)",
				  distro ? distro : "", known);
	}
	if (!release || !release_ok(release))
		return kc_err_set(
		    err, -EINVAL,
		    "bad release '%.64s' (want an os-release VERSION_ID such as 12 or "
		    "22.04)",
		    release ? release : "");
	return 0;
}

int kc_ep_oval_file_name(const char *distro, const char *release, char *buf, size_t size)
{
	int n = snprintf(buf, size, OVAL_PREFIX "%s.%s.xml", distro, release);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int kc_ep_oval_generate(struct kc_ep *ep, const struct kc_ep_oval_opts *o, char **xml, size_t *len,
			struct kc_err *err)
{
	struct kc_oval_data d;
	struct kc_oval_doc doc = {0};
	char ns[128], platform[128];
	int r, di;

	r = kc_ep_oval_distro_check(o->distro, o->release, err);
	if (r < 0)
		return r;
	di = distro_index(o->distro);
	snprintf(ns, sizeof(ns), OVAL_PREFIX "%s.%s", o->distro, o->release);
	snprintf(platform, sizeof(platform), "%s %s", distros[di].name, o->release);
	doc.ns = ns;
	doc.platform = platform;
	doc.pkg = distros[di].pkg;
	doc.kernel_cvelist = o->kernel_cvelist ? o->kernel_cvelist : KC_EP_OVAL_KERNEL_CVELIST;
	doc.user_cvelist = o->user_cvelist ? o->user_cvelist : KC_EP_OVAL_USER_CVELIST;
	if (doc.kernel_cvelist[0] != '/' || doc.user_cvelist[0] != '/')
		return kc_err_set(err, -EINVAL, "a CVE list path must be absolute");
	r = kc_oval_data_read(ep, o->feed ? o->feed : "main", &d, err);
	if (r < 0)
		return r;
	r = kc_oval_xml(&doc, &d, xml, len, err);
	kc_oval_data_free(&d);
	return r;
}

/* ---- publishing ------------------------------------------------------ */

struct docs {
	char name[OVAL_MAX_DOCS][160];
	size_t n;
};

/* Adds "ID VERSION_ID" (what agents report) when it names a known distribution. */
static void docs_add(struct docs *ds, const char *report)
{
	char id[64], ver[64], name[160];

	if (!report || sscanf(report, "%63s %63s", id, ver) != 2 ||
	    kc_ep_oval_distro_check(id, ver, NULL) < 0 ||
	    kc_ep_oval_file_name(id, ver, name, sizeof(name)) < 0)
		return;
	for (size_t i = 0; i < ds->n; i++)
		if (!strcmp(ds->name[i], name))
			return;
	if (ds->n < OVAL_MAX_DOCS)
		snprintf(ds->name[ds->n++], sizeof(ds->name[0]), "%s", name);
}

/* The server's own distribution, as an agent on it would report it. */
static void docs_add_self(struct docs *ds)
{
	char id[KC_OS_RELEASE_FIELD], ver[KC_OS_RELEASE_FIELD], report[160];

	if (kc_os_release("/etc/os-release", id, ver) < 0)
		return;
	snprintf(report, sizeof(report), "%s %s", id, ver);
	docs_add(ds, report);
}

static int docs_read(struct kc_ep *ep, struct docs *ds, struct kc_err *err)
{
	struct kc_db_stmt *st;
	int r = kc_db_begin(ep->db, 0, err);

	if (r < 0)
		return r;
	r = kc_db_prepare(ep->db, "SELECT DISTINCT distro FROM servers ORDER BY distro", &st, err);
	if (r == 0) {
		while ((r = kc_db_step(st, err)) > 0)
			docs_add(ds, kc_db_col_text(st, 0));
		kc_db_finalize(st);
	}
	return kc_ep_txn_end(ep->db, r < 0 ? r : 0, err);
}

/* Removes documents of distributions that are no longer published. */
static void docs_prune(const char *dir, const struct docs *ds)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name), i;

		if (strncmp(e->d_name, OVAL_PREFIX, strlen(OVAL_PREFIX)) || n < 5 ||
		    strcmp(e->d_name + n - 4, ".xml"))
			continue;
		for (i = 0; i < ds->n && strcmp(ds->name[i], e->d_name); i++)
			;
		if (i == ds->n)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int kc_ep_oval_publish(struct kc_ep *ep, struct kc_err *err)
{
	struct docs *ds = calloc(1, sizeof(*ds));
	char dir[4096], path[4400];
	int r;

	if (!ds)
		return kc_err_set(err, -ENOMEM, "out of memory");
	docs_add_self(ds);
	r = docs_read(ep, ds, err);
	snprintf(dir, sizeof(dir), "%s/%s", ep->dir, KC_EP_OVAL_DIR);
	for (size_t i = 0; r == 0 && i < ds->n; i++) {
		/* com.kernelcare.ID.VERSION_ID.xml: the ID has no dot, so it ends at the first */
		char id[64], *ver, *xml = NULL;
		size_t len = 0;
		const char *rest = ds->name[i] + strlen(OVAL_PREFIX);
		struct kc_ep_oval_opts o = {0};

		snprintf(id, sizeof(id), "%.*s", (int)strcspn(rest, "."), rest);
		ver = strdup(rest + strlen(id) + 1);
		if (!ver) {
			r = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		ver[strlen(ver) - 4] = '\0';
		o.distro = id;
		o.release = ver;
		r = kc_ep_oval_generate(ep, &o, &xml, &len, err);
		snprintf(path, sizeof(path), "%s/%s", dir, ds->name[i]);
		if (r == 0)
			r = kc_file_write_atomic(path, xml, len, 0644, err);
		free(xml);
		free(ver);
	}
	if (r == 0)
		docs_prune(dir, ds);
	free(ds);
	return r < 0 ? kc_err_prefix(err, "cannot write the OVAL data") : 0;
}
