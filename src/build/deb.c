// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kcare-build deb pipeline: the installed package, its cached checked
 * rebuild (or a new one: source, build dependencies, rebuild, identity of
 * every shared object), then one object-differ run per checked object.
 * Ordering rule: the manifest is committed only after every object was
 * checked, so an interrupted or refused rebuild is never reused.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build/deb-int.h"
#include "build/deb.h"
#include "build/differ.h"

struct deb_run {
	const struct kc_deb_opts *o;
	struct kc_deb_summary *sum;
	struct kc_deb_pkg pkg;
	const struct kc_deb_recipe *recipe;
	const char *mode;
	char name[300]; /* SOURCE-UPSTREAM: apt-get source's directory and the build path's */
	struct kc_deb_cache cache;
};

static void deb_say(struct deb_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void deb_say(struct deb_run *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!r->o->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->o->progress(r->o->progress_ctx, line);
}

static double deb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The cached rebuild is usable: same or wider recipe, same installed files and build-ids. */
static int deb_cache_usable(struct deb_run *r)
{
	struct kc_deb_cache *c = &r->cache;
	struct kc_buildid id;
	struct stat st;

	if (!c->mode || (strcmp(c->mode, r->mode) && strcmp(c->mode, "full")))
		return 0;
	for (size_t i = 0; i < c->nobjs; i++)
		if (kc_buildid_from_file(c->objs[i].installed, &id, NULL) < 0 ||
		    !kc_buildid_equal(&id, &c->objs[i].id) || stat(c->objs[i].rebuilt, &st) < 0)
			return 0;
	return 1;
}

static char *deb_path(struct deb_run *r, const char *fmt, const char *arg)
{
	char rel[512];

	snprintf(rel, sizeof(rel), fmt, arg);
	return kc_deb_cache_path(&r->cache, rel);
}

/* Source, build dependencies and the rebuild itself, into the cache's build/. */
static int deb_rebuild(struct deb_run *r, struct kc_err *err)
{
	char *logs = deb_path(r, "%s", "logs"), *srcdir = deb_path(r, "%s", "src");
	char *pristine = deb_path(r, "src/%s", r->name), *tree = deb_path(r, "build/%s", r->name);
	char *builddir = deb_path(r, "%s", "build"), log[1024];
	struct stat st;
	double t0;
	int ret, added = 0;

	if (!logs || !srcdir || !pristine || !tree || !builddir) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = kc_deb_cache_reset(&r->cache, err)) < 0)
		goto out;
	if (mkdir(logs, 0755) < 0 || mkdir(srcdir, 0755) < 0 || mkdir(builddir, 0755) < 0) {
		ret = kc_err_set(err, -errno, "cannot create the cache in '%s': %s", r->cache.dir,
				 strerror(errno));
		goto out;
	}
	deb_say(r, "checking deb-src entries");
	snprintf(log, sizeof(log), "%s/apt-update.log", logs);
	if ((ret = kc_deb_src_ensure(log, &added, err)) < 0)
		goto out;
	snprintf(log, sizeof(log), "%s/apt-cache.log", logs);
	if ((ret = kc_deb_src_check(&r->pkg, log, err)) < 0)
		goto out;
	deb_say(r, "fetching source %s %s", r->pkg.source, r->pkg.src_version);
	snprintf(log, sizeof(log), "%s/source.log", logs);
	if ((ret = kc_deb_src_fetch(&r->pkg, srcdir, log, err)) < 0)
		goto out;
	if (stat(pristine, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = kc_err_set(err, -ENOENT, "apt-get source made no '%s' (see '%s')", pristine,
				 log);
		goto out;
	}
	deb_say(r, "checking build dependencies");
	snprintf(log, sizeof(log), "%s/build-deps.log", logs);
	if ((ret = kc_deb_builddeps(pristine, r->recipe, log, err)) < 0)
		goto out;
	{
		const char *const cp[] = {"cp", "-a", pristine, builddir, NULL};
		struct kc_deb_cmd c = {.argv = cp, .log = log};

		if ((ret = kc_deb_exec(&c, err)) != 0) {
			ret = ret < 0 ? ret
				      : kc_err_set(err, -ECHILD, "cannot copy '%s' to '%s'",
						   pristine, builddir);
			goto out;
		}
	}
	deb_say(r, "rebuilding %s at /build/reproducible-path/%s: %s", r->name, r->name,
		r->recipe->what);
	snprintf(log, sizeof(log), "%s/rebuild.log", logs);
	t0 = deb_now();
	if ((ret = kc_deb_rebuild(tree, r->name, r->recipe, log, err)) < 0)
		goto out;
	r->sum->rebuild_seconds = deb_now() - t0;
	deb_say(r, "rebuilt in %.0f s", r->sum->rebuild_seconds);
out:
	/* the host's apt as found: the deb-src entries were for this build only */
	if (added) {
		struct kc_err rerr = KC_ERR_INIT;

		snprintf(log, sizeof(log), "%s/apt-update-after.log", logs);
		if (kc_deb_src_remove(log, &rerr) < 0)
			deb_say(r, "%s (added for this build: remove it by hand)", rerr.msg);
		else
			deb_say(r, "removed %s (added for this build)", KC_DEB_SRC_LIST);
	}
	free(logs);
	free(srcdir);
	free(pristine);
	free(tree);
	free(builddir);
	return ret;
}

/* Every installed shared object against the rebuild; commits the manifest. */
static int deb_identify(struct deb_run *r, struct kc_err *err)
{
	char *tree = deb_path(r, "build/%s", r->name);
	struct kc_deb_obj *objs = calloc(r->pkg.nobjects, sizeof(*objs));
	size_t n = 0;
	int ret = 0;

	if (!tree || !objs) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->pkg.nobjects; i++) {
		const char *inst = r->pkg.objects[i];
		struct kc_deb_obj *ob = &objs[n];
		struct kc_err e = KC_ERR_INIT;

		ret = kc_deb_ident_find(inst, tree, &ob->rebuilt, &ob->how, &e);
		if (ret == -ENOENT) {
			deb_say(r, "not rebuilt by this recipe: %s", inst);
			ret = 0;
			continue;
		}
		if (ret < 0) {
			ret = kc_err_set(err, ret, "%s; refusing to make patches from this rebuild",
					 e.msg);
			goto out;
		}
		if ((ret = kc_buildid_from_file(inst, &ob->id, err)) < 0)
			goto out;
		if (!(ob->installed = strdup(inst))) {
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		deb_say(r, "identical: %s (%s)", inst,
			ob->how == KC_DEB_SAME_BUILDID ? "same build-id"
						       : "same loaded sections, other build-id");
		n++;
	}
	if (!n) {
		ret =
		    kc_err_set(err, -ENOENT, "the rebuild made none of the shared objects of '%s'",
			       r->pkg.name);
		goto out;
	}
	ret = kc_deb_cache_commit(&r->cache, r->mode, objs, n, err);
	if (ret == 0)
		r->sum->nobjects = n;
out:
	for (size_t i = 0; objs && i < r->pkg.nobjects; i++) {
		free(objs[i].installed);
		free(objs[i].rebuilt);
	}
	free(objs);
	free(tree);
	return ret;
}

static int deb_add_patch(struct kc_deb_summary *sum, const char *target, const char *out,
			 const struct kc_differ_summary *ds)
{
	struct kc_deb_patch *nv = realloc(sum->patches, (sum->npatches + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	sum->patches = nv;
	nv = &sum->patches[sum->npatches++];
	memset(nv, 0, sizeof(*nv));
	snprintf(nv->target, sizeof(nv->target), "%s", target);
	snprintf(nv->output, sizeof(nv->output), "%s", out);
	snprintf(nv->build_id, sizeof(nv->build_id), "%s", ds->pack.build_id);
	nv->nreplaced = ds->pack.nreplaced;
	nv->nnew = ds->pack.nnew;
	return 0;
}

/*
 * DBG/.build-id/xx/rest.debug for @ob: the stripped installed object's
 * symbols for the packer (the hidden functions a fix calls are only in
 * the rebuild's .symtab), under the installed build-id.
 */
static int deb_debug_file(struct deb_run *r, const struct kc_deb_obj *ob, const char *dbg,
			  struct kc_err *err)
{
	char hex[2 * KC_BUILDID_MAX + 1], dir[1200], path[1400];
	struct stat st;
	int ret;

	(void)r;
	kc_buildid_to_hex(&ob->id, hex, sizeof(hex));
	snprintf(dir, sizeof(dir), "%s/.build-id/%.2s", dbg, hex);
	snprintf(path, sizeof(path), "%s/%s.debug", dir, hex + 2);
	if (stat(path, &st) == 0)
		return 0;
	if ((mkdir(dbg, 0755) < 0 && errno != EEXIST) ||
	    (snprintf(path, sizeof(path), "%s/.build-id", dbg),
	     mkdir(path, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0755) < 0 && errno != EEXIST))
		return kc_err_set(err, -errno, "cannot create '%s': %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s.debug", dir, hex + 2);
	ret = kc_deb_ident_debug_file(ob->rebuilt, &ob->id, path, err);
	return ret < 0 ? kc_err_prefix(err, "debug file for '%s'", ob->installed) : 0;
}

/*
 * One differ run for every checked object the diff may touch (one build of
 * the original and one of the patched tree for all); objects the diff
 * leaves alone get no patch. A refusal for any object fails the whole
 * package, and then none of its patches is left in the output directory.
 */
static int deb_patches(struct deb_run *r, struct kc_err *err)
{
	char *pristine = deb_path(r, "src/%s", r->name);
	char *cmd = kc_deb_recipe_cmd(r->recipe, r->name);
	char *dbg = kc_deb_cache_path(&r->cache, "debug");
	struct kc_differ_target *t = calloc(r->cache.nobjs ? r->cache.nobjs : 1, sizeof(*t));
	char(*out)[1024] = calloc(r->cache.nobjs ? r->cache.nobjs : 1, sizeof(*out));
	struct kc_differ_opts d = {0};
	size_t n = 0;
	int ret = 0;

	if (!pristine || !cmd || !dbg || !t || !out) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r->cache.nobjs; i++) {
		const struct kc_deb_obj *ob = &r->cache.objs[i];

		if (kc_deb_scope_unaffected(r->o->diff, pristine, ob->rebuilt)) {
			deb_say(r, "not built from the files the diff touches: %s", ob->installed);
			continue;
		}
		if ((ret = deb_debug_file(r, ob, dbg, err)) < 0)
			goto out;
		snprintf(out[n], sizeof(out[n]), "%s/%s.kpatch", r->o->out_dir,
			 strrchr(ob->installed, '/') + 1);
		t[n].target = ob->installed;
		t[n].reference = ob->rebuilt;
		t[n].output = out[n];
		deb_say(r, "building the patch for %s", ob->installed);
		n++;
	}
	d.src = pristine;
	d.diff = r->o->diff;
	d.build_cmd = cmd;
	d.pack = r->o->pack;
	if (!d.pack.debug_dir)
		d.pack.debug_dir = dbg;
	/* a failed run removes what it wrote itself: nothing here to take back */
	if (n && (ret = kc_differ_run_many(&d, t, n, err)) < 0) {
		n = 0;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (t[i].ret == -ENODATA)
			deb_say(r, "unchanged by the diff: %s", t[i].target);
	ret = kc_differ_verdict(t, n, err);
	if (ret == -ENODATA)
		ret =
		    kc_err_set(err, -ENODATA, "the diff changes none of the shared objects of '%s'",
			       r->pkg.name);
	for (size_t i = 0; i < n && ret == 0; i++)
		if (t[i].ret == 0 && deb_add_patch(r->sum, t[i].target, t[i].output, &t[i].sum) < 0)
			ret = kc_err_set(err, -ENOMEM, "out of memory");
out:
	for (size_t i = 0; i < n; i++) {
		if (ret < 0 && t[i].ret == 0)
			unlink(t[i].output);
		kc_differ_summary_release(&t[i].sum);
	}
	free(t);
	free(out);
	free(pristine);
	free(cmd);
	free(dbg);
	return ret;
}

int kc_deb_build(const struct kc_deb_opts *o, struct kc_deb_summary *sum, struct kc_err *err)
{
	struct deb_run r = {.o = o, .sum = sum};
	struct stat st;
	int ret;

	KC_BUG_ON(!o || !o->package || !sum || (!o->no_patch && (!o->diff || !o->out_dir)));
	memset(sum, 0, sizeof(*sum));
	r.cache.lock_fd = -1;
	if (!o->no_patch) {
		if (access(o->diff, R_OK) < 0)
			return kc_err_set(err, -errno, "cannot read diff '%s': %s", o->diff,
					  strerror(errno));
		if (stat(o->out_dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return kc_err_set(err, -ENOTDIR, "output directory '%s' does not exist",
					  o->out_dir);
	}
	if ((ret = kc_deb_pkg_query(o->package, &r.pkg, err)) < 0)
		return ret;
	snprintf(sum->source, sizeof(sum->source), "%s", r.pkg.source);
	snprintf(sum->version, sizeof(sum->version), "%s", r.pkg.src_version);
	snprintf(r.name, sizeof(r.name), "%s-%s", r.pkg.source, r.pkg.upstream);
	r.recipe = kc_deb_recipe_find(r.pkg.source, o->mode == KC_DEB_FULL);
	r.mode = o->mode == KC_DEB_FULL ? "full" : "libs-only";
	deb_say(&r, "package %s %s: source %s %s, %zu shared objects", r.pkg.name, r.pkg.version,
		r.pkg.source, r.pkg.src_version, r.pkg.nobjects);
	if ((ret = kc_deb_cache_open(o->cache_dir ? o->cache_dir : KC_DEB_CACHE_DIR, r.pkg.source,
				     r.pkg.src_version, &r.cache, err)) < 0)
		goto out;
	if (!o->fresh && deb_cache_usable(&r)) {
		sum->cached = 1;
		sum->nobjects = r.cache.nobjs;
		deb_say(&r, "using the checked rebuild cached in %s", r.cache.dir);
	} else {
		if ((ret = deb_rebuild(&r, err)) < 0 || (ret = deb_identify(&r, err)) < 0)
			goto out;
		if (!deb_cache_usable(&r)) {
			ret = kc_err_set(err, -EIO, "the cache in '%s' did not keep the rebuild",
					 r.cache.dir);
			goto out;
		}
	}
	if (!o->no_patch)
		ret = deb_patches(&r, err);
out:
	kc_deb_cache_close(&r.cache);
	kc_deb_pkg_release(&r.pkg);
	if (ret < 0)
		kc_deb_summary_release(sum);
	return ret;
}

void kc_deb_summary_release(struct kc_deb_summary *sum)
{
	free(sum->patches);
	sum->patches = NULL;
	sum->npatches = 0;
}
