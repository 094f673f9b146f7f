// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stage 2 of kcare-build kernel: the objects a source diff changes,
 * rebuilt original and patched. Two working trees of the prepared tree
 * (kernel-tree.c) are made; the diffs are tried (--dry-run) and applied
 * to one of them. Which object a changed file ends in, and whether it
 * is linked into vmlinux or a module, is asked of kbuild itself: its
 * Makefile.lib, run on the directory's Makefile with the target's
 * config, lists the directory's built-in and modular objects and the
 * parts of each composite module. A changed header makes candidates of
 * the C files that may include it, and kbuild's dependency list of each
 * rebuilt candidate keeps those that really do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/deb-int.h"
#include "build/kernel-int.h"
#include "kcare/conf.h"

/* More objects than this behind one header change: the diff should patch the .c files. */
#define KOBJS_MAX_HEADER_OBJS 200

/* kbuild's answer about one directory. */
struct kobjs_dir {
	char *dir;
	char *y;   /* " obj ... " built-in objects (and lib-y), subdirs as DIR/built-in.a */
	char *m;   /* " obj ... " modular objects, subdirs as DIR/modules.order */
	char *c;   /* "C composite.o part.o ...\n" lines */
	int reach; /* -1 unknown, 0 not built, 1 built in, 2 modules only */
};

struct kobjs_ctx {
	const struct kc_kobjs_opts *o;
	const struct kc_kprep *p;
	char *work, *orig, *patched, *log, *query_mk;
	struct kobjs_dir *dirs;
	size_t ndirs;
};

static int kobjs_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void kobjs_free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int kobjs_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

/* A relative path with no "." or ".." component: it stays inside the tree. */
static int kobjs_safe_path(const char *p)
{
	if (!*p || *p == '/')
		return 0;
	for (const char *c = p; *c;) {
		size_t l = strcspn(c, "/");

		if (!l || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c += l;
		if (*c == '/' && !*++c)
			return 0;
	}
	return 1;
}

int kc_kdiff_files(const char *text, size_t len, char ***files, size_t *n, struct kc_err *err)
{
	const char *end = text + len;

	*files = NULL;
	*n = 0;
	for (const char *l = text; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		size_t ll = nl ? (size_t)(nl - l) : (size_t)(end - l);

		if (ll > 4 && !strncmp(l, "+++ ", 4)) {
			char name[4096];
			const char *p = l + 4, *s;
			size_t pl = 0;

			/* the text need not end in a NUL: stay within the line */
			while (pl < ll - 4 && p[pl] != '\t')
				pl++;
			snprintf(name, sizeof(name), "%.*s", (int)pl, p);
			/* -p1: the first component is a/ or b/ or whatever the tool wrote */
			s = strchr(name, '/');
			if (!strcmp(name, "/dev/null"))
				return kc_err_set(err, -EINVAL,
						  "the diff removes a file: not supported");
			if (!s || !kobjs_safe_path(s + 1))
				return kc_err_set(err, -EINVAL, "bad file name '%s' in the diff",
						  name);
			if (!kobjs_has(*files, *n, s + 1) && kobjs_push(files, n, s + 1) < 0)
				return kc_err_set(err, -ENOMEM, "out of memory");
		}
		l = nl ? nl + 1 : end;
	}
	if (!*n)
		return kc_err_set(err, -EINVAL, "no file changes in the diff");
	return 0;
}

static const char kobjs_query_text[] =
    "# written by kcare-build kernel: what kbuild builds in one directory\n"
    "src := $(obj)\n"
    "include include/config/auto.conf\n"
    "include $(srctree)/scripts/Kbuild.include\n"
    "include $(srctree)/scripts/Makefile.compiler\n"
    "kbuild-dir := $(srctree)/$(src)\n"
    "include $(or $(wildcard $(kbuild-dir)/Kbuild),$(kbuild-dir)/Makefile)\n"
    "include $(srctree)/scripts/Makefile.lib\n"
    "kc-query:\n"
    "\t@echo 'Y $(real-obj-y) $(lib-y) '\n"
    "\t@echo 'M $(real-obj-m) '\n"
    "\t@$(foreach m,$(multi-obj-m),echo 'C $(m) $(call "
    "suffix-search,$(patsubst $(obj)/%,%,$(m)),.o,-objs -y -m) ';)\n";

static int kobjs_query(struct kobjs_ctx *x, const char *dir, struct kobjs_dir **out,
		       struct kc_err *err)
{
	char objarg[4200], cc[96], tmpout[4200];
	/* TMPOUT: the compiler probes of Makefile.compiler write there, not in the tree */
	const char *argv[] = {
	    "env", "-u",   "MAKEFLAGS", "-u",	     "MAKELEVEL",      "make",
	    "-s",  "-f",   x->query_mk, objarg,	     "need-builtin=1", "need-modorder=1",
	    cc,	   tmpout, "srctree=.", "objtree=.", "SRCARCH=x86",    "kc-query",
	    NULL};
	char *text = NULL;
	/* only Makefiles are read: the cached tree will do (a diff to a Makefile is refused) */
	struct kc_deb_cmd c = {.argv = argv, .cwd = x->p->tree, .log = x->log, .out = &text};
	struct kobjs_dir *d, *nd;
	int st;

	for (size_t i = 0; i < x->ndirs; i++)
		if (!strcmp(x->dirs[i].dir, dir)) {
			*out = &x->dirs[i];
			return 0;
		}
	snprintf(objarg, sizeof(objarg), "obj=%s", dir);
	snprintf(tmpout, sizeof(tmpout), "TMPOUT=%s/tmpout", x->work);
	snprintf(cc, sizeof(cc), "CC=%s", x->p->cc);
	st = kc_deb_exec(&c, err);
	if (st < 0)
		return st;
	if (!(nd = realloc(x->dirs, (x->ndirs + 1) * sizeof(*nd)))) {
		free(text);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	x->dirs = nd;
	d = &nd[x->ndirs++];
	memset(d, 0, sizeof(*d));
	d->reach = -1;
	d->dir = strdup(dir);
	d->y = strdup("");
	d->m = strdup("");
	d->c = strdup("");
	if (st == 0 && text) {
		/* lines "Y ...", "M ...", "C ..." */
		for (char *l = text, *nl; *l; l = nl + 1) {
			char **slot = NULL, *joined;

			nl = strchr(l, '\n');
			if (!nl)
				nl = l + strlen(l) - 1;
			*nl = 0;
			if (!strncmp(l, "Y ", 2))
				slot = &d->y;
			else if (!strncmp(l, "M ", 2))
				slot = &d->m;
			else if (!strncmp(l, "C ", 2))
				slot = &d->c;
			if (slot && asprintf(&joined, slot == &d->c ? "%s%s \n" : "%s%s ", *slot,
					     slot == &d->c ? l : l + 1) >= 0) {
				free(*slot);
				*slot = joined;
			}
			if (!nl[1])
				break;
		}
	}
	free(text);
	if (!d->dir || !d->y || !d->m || !d->c)
		return kc_err_set(err, -ENOMEM, "out of memory");
	*out = d;
	return 0;
}

static int kobjs_word(const char *list, const char *w)
{
	char pat[4300];

	snprintf(pat, sizeof(pat), " %s ", w);
	return strstr(list, pat) != NULL;
}

/* Directories the top-level Kbuild and arch/x86/Makefile always descend into. */
static int kobjs_root_dir(const char *dir)
{
	static const char *const roots[] = {"init",
					    "usr",
					    "arch/x86",
					    "kernel",
					    "certs",
					    "mm",
					    "fs",
					    "ipc",
					    "security",
					    "crypto",
					    "block",
					    "io_uring",
					    "drivers",
					    "sound",
					    "net",
					    "virt",
					    "lib",
					    "arch/x86/lib",
					    "arch/x86/pci",
					    "arch/x86/power",
					    "arch/x86/video",
					    NULL};

	for (size_t i = 0; roots[i]; i++)
		if (!strcmp(dir, roots[i]))
			return 1;
	return 0;
}

/* 1: objects of @dir can be built in; 2: only modules; 0: kbuild never enters it. */
static int kobjs_reach(struct kobjs_ctx *x, const char *dir, struct kc_err *err)
{
	struct kobjs_dir *pd;
	char parent[4096], mark[4200];
	const char *slash = strrchr(dir, '/');
	int r, ret;

	if (kobjs_root_dir(dir))
		return 1;
	if (!slash)
		return 0;
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - dir), dir);
	if ((r = kobjs_reach(x, parent, err)) <= 0)
		return r;
	if ((ret = kobjs_query(x, parent, &pd, err)) < 0)
		return ret;
	snprintf(mark, sizeof(mark), "%s/built-in.a", dir);
	if (r == 1 && kobjs_word(pd->y, mark))
		return 1;
	snprintf(mark, sizeof(mark), "%s/modules.order", dir);
	return kobjs_word(pd->m, mark) ? 2 : 0;
}

/*
 * Where the object @obj (tree-relative) ends: "vmlinux", a module name,
 * or NULL when this configuration does not build it. *@target is malloc'd.
 */
static int kobjs_target(struct kobjs_ctx *x, const char *obj, char **target, struct kc_err *err)
{
	char dir[4096];
	const char *slash = strrchr(obj, '/');
	struct kobjs_dir *d;
	int r, ret;

	*target = NULL;
	if (!slash)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - obj), obj);
	if ((r = kobjs_reach(x, dir, err)) < 0)
		return r;
	if (!r)
		return 0;
	if ((ret = kobjs_query(x, dir, &d, err)) < 0)
		return ret;
	if (r == 1 && kobjs_word(d->y, obj)) {
		*target = strdup("vmlinux");
	} else if (kobjs_word(d->m, obj)) {
		/* a part of a composite module ("C dir/mod.o part.o ..."), or a module itself */
		const char *mod = obj;
		static char compo[4096];
		char part[300];
		size_t ml;

		snprintf(part, sizeof(part), " %s ", slash + 1);
		for (const char *l = d->c; *l; l = strchr(l, '\n') + 1) {
			const char *nl = strchr(l, '\n'), *hit = strstr(l, part);

			if (!strncmp(l, "C ", 2) && hit && hit < nl) {
				snprintf(compo, sizeof(compo), "%.*s", (int)strcspn(l + 2, " "),
					 l + 2);
				mod = compo;
				break;
			}
		}
		mod = strrchr(mod, '/') ? strrchr(mod, '/') + 1 : mod;
		ml = strlen(mod);
		if ((*target = strndup(mod, ml > 2 ? ml - 2 : ml)))
			for (char *s = *target; *s; s++)
				if (*s == '-')
					*s = '_';
	} else {
		return 0;
	}
	return *target ? 1 : kc_err_set(err, -ENOMEM, "out of memory");
}

static int kobjs_add(struct kc_kobjs *out, const char *obj, const char *target, const char *src)
{
	struct kc_kobj *nv, *k = NULL;

	for (size_t i = 0; i < out->n && !k; i++)
		if (!strcmp(out->v[i].obj, obj))
			k = &out->v[i];
	if (!k) {
		if (!(nv = realloc(out->v, (out->n + 1) * sizeof(*nv))))
			return -ENOMEM;
		out->v = nv;
		k = &nv[out->n++];
		memset(k, 0, sizeof(*k));
		if (!(k->obj = strdup(obj)) || !(k->target = strdup(target)))
			return -ENOMEM;
	}
	return kobjs_has(k->srcs, k->nsrcs, src) ? 0 : kobjs_push(&k->srcs, &k->nsrcs, src);
}

/* The first line of patch's output that says why a hunk does not apply. */
static void kobjs_patch_reason(const char *out, char *buf, size_t bufsz)
{
	static const char *const keys[] = {"FAILED",	"can't find file", "Reversed",
					   "malformed", "Only garbage",	   "No such file"};

	buf[0] = 0;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]) && !buf[0]; k++) {
		const char *p = out ? strstr(out, keys[k]) : NULL;

		if (!p)
			continue;
		while (p > out && p[-1] != '\n')
			p--;
		snprintf(buf, bufsz, "%.*s", (int)strcspn(p, "\n"), p);
	}
	if (!buf[0] && out && *out)
		snprintf(buf, bufsz, "%.*s", (int)strcspn(out, "\n"), out);
}

/* patch --dry-run, then (unless @dry_only) the real one, in @tree. */
static int kobjs_apply(struct kobjs_ctx *x, const char *tree, const char *diff, int dry_only,
		       struct kc_err *err)
{
	static const char *const modes[] = {"--dry-run", "--silent"};

	for (size_t m = 0; m < (dry_only ? 1u : 2u); m++) {
		const char *argv[] = {
		    "patch",  "-p1", "--batch", "--forward", "--no-backup-if-mismatch",
		    modes[m], "-d",  tree,	"-i",	     diff,
		    NULL};
		char *out = NULL, why[300];
		struct kc_deb_cmd c = {.argv = argv, .out = &out, .log = x->log};
		int st = kc_deb_exec(&c, err);

		if (st < 0) {
			free(out);
			return st;
		}
		if (st != 0) {
			kobjs_patch_reason(out, why, sizeof(why));
			free(out);
			return kc_err_set(err, -EINVAL,
					  "'%s' does not apply to the source of %s (%s)%s%s", diff,
					  x->p->abi, x->p->version, *why ? ": " : "", why);
		}
		free(out);
	}
	return 0;
}

static int kobjs_is(const char *f, const char *ext)
{
	size_t l = strlen(f), el = strlen(ext);

	return l > el && !strcmp(f + l - el, ext);
}

/* Files a diff may change without changing the kernel's code. */
static int kobjs_inert(const char *f)
{
	return !strncmp(f, "Documentation/", 14) || !strncmp(f, "tools/testing/", 14) ||
	       !strncmp(f, "samples/", 8);
}

/* Whether kbuild's .cmd of the object @obj in @tree lists @file among its dependencies. */
static int kobjs_depends(const char *tree, const char *obj, const char *file)
{
	char path[4200], *text = NULL, *save = NULL;
	const char *slash = strrchr(obj, '/');
	size_t len;
	int yes = 0;

	snprintf(path, sizeof(path), "%s/%.*s/.%s.cmd", tree, (int)(slash - obj), obj, slash + 1);
	if (kc_file_read_all(path, 64u << 20, &text, &len, NULL) < 0)
		return 1; /* no record: keep it, the differ decides */
	for (char *tok = strtok_r(text, " \t\n\\:", &save); tok && !yes;
	     tok = strtok_r(NULL, " \t\n\\:", &save)) {
		kc_kpath_normalize(tok);
		yes = !strcmp(tok, file);
	}
	free(text);
	return yes;
}

static int kobjs_map(struct kobjs_ctx *x, char **files, size_t nfiles, struct kc_kobjs *out,
		     struct kc_err *err)
{
	const char **headers = calloc(nfiles + 1, sizeof(*headers));
	size_t nheaders = 0;
	int ret = 0;

	if (!headers)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < nfiles && !ret; i++) {
		const char *f = files[i];
		char obj[4096], *target = NULL;
		struct stat st;
		char orig[4200];

		if (kobjs_inert(f))
			continue;
		snprintf(orig, sizeof(orig), "%s/%s", x->p->tree, f);
		if (kobjs_is(f, ".h")) {
			if (stat(orig, &st) < 0)
				ret = kc_err_set(err, -EINVAL, "new header '%s': not supported", f);
			headers[nheaders++] = f;
			continue;
		}
		if (!kobjs_is(f, ".c") && !kobjs_is(f, ".S")) {
			ret = kc_err_set(
			    err, -EINVAL,
			    "'%s' is not a C source or header: it cannot be live patched "
			    "from a diff",
			    f);
			break;
		}
		if (stat(orig, &st) < 0) {
			ret = kc_err_set(err, -EINVAL, "new source file '%s': not supported", f);
			break;
		}
		snprintf(obj, sizeof(obj), "%.*s.o", (int)(strlen(f) - 2), f);
		if ((ret = kobjs_target(x, obj, &target, err)) < 0)
			break;
		if (!ret) {
			ret =
			    kc_err_set(err, -ENOENT, "'%s' is not built in this configuration", f);
			break;
		}
		ret = kobjs_add(out, obj, target, f) < 0 ? kc_err_set(err, -ENOMEM, "out of memory")
							 : 0;
		free(target);
	}
	if (!ret && nheaders) {
		char **cfiles = NULL;
		size_t ncfiles = 0, nbuilt = 0;

		kc_kprep_say(x->o->progress, x->o->progress_arg,
			     "find the users of %zu changed headers", nheaders);
		ret = kc_kincl_users(x->p->tree, headers, nheaders, &cfiles, &ncfiles, err);
		for (size_t i = 0; i < ncfiles && !ret; i++) {
			char obj[4096], *target = NULL;

			snprintf(obj, sizeof(obj), "%.*s.o", (int)(strlen(cfiles[i]) - 2),
				 cfiles[i]);
			if ((ret = kobjs_target(x, obj, &target, err)) <= 0) {
				ret = ret < 0 ? ret : 0;
				continue;
			}
			ret = 0;
			if (++nbuilt > KOBJS_MAX_HEADER_OBJS)
				ret = kc_err_set(
				    err, -E2BIG,
				    "the changed headers may be included by more than %d "
				    "objects of this configuration: change the .c files "
				    "instead",
				    KOBJS_MAX_HEADER_OBJS);
			else if (kobjs_add(out, obj, target, headers[0]) < 0)
				ret = kc_err_set(err, -ENOMEM, "out of memory");
			free(target);
		}
		kobjs_free_strv(cfiles, ncfiles);
		if (!ret && !nbuilt)
			ret = kc_err_set(err, -ENOENT,
					 "'%s' is not included by anything built in this "
					 "configuration",
					 headers[0]);
	}
	if (!ret && !out->n)
		ret = kc_err_set(err, -ENOENT, "the diffs change no code of this kernel");
	free(headers);
	return ret;
}

static int kobjs_rebuild(struct kobjs_ctx *x, const char *tree, const char *side,
			 struct kc_kobjs *objs, struct kc_err *err)
{
	const char **targets = calloc(objs->n + 1, sizeof(*targets));
	int ret;

	if (!targets)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < objs->n; i++)
		targets[i] = objs->v[i].obj;
	kc_kprep_say(x->o->progress, x->o->progress_arg, "rebuild %zu objects (%s)", objs->n, side);
	ret = kc_kprep_make(x->p, tree, targets, objs->n, KC_KPREP_KCFLAGS, x->log, side, err);
	free(targets);
	return ret;
}

/* Keeps the header candidates whose kbuild dependencies name a changed header. */
static void kobjs_filter_headers(struct kobjs_ctx *x, struct kc_kobjs *objs)
{
	size_t w = 0;

	for (size_t i = 0; i < objs->n; i++) {
		struct kc_kobj *k = &objs->v[i];
		int keep = 0;

		for (size_t s = 0; s < k->nsrcs && !keep; s++)
			keep = !kobjs_is(k->srcs[s], ".h") ||
			       kobjs_depends(x->orig, k->obj, k->srcs[s]);
		if (keep) {
			objs->v[w++] = *k;
		} else {
			free(k->obj);
			free(k->target);
			kobjs_free_strv(k->srcs, k->nsrcs);
		}
	}
	objs->n = w;
}

static int kobjs_copy(const char *from, const char *to, struct kc_err *err)
{
	char *text = NULL;
	size_t len;
	int ret;

	if ((ret = kc_file_read_all(from, 1u << 30, &text, &len, err)) < 0)
		return ret;
	ret = kc_file_write_atomic(to, text, len, 0644, err);
	free(text);
	return ret;
}

static int kobjs_output(struct kobjs_ctx *x, struct kc_kobjs *objs, struct kc_err *err)
{
	char path[4200], *tsv = NULL;
	size_t tsvlen = 0;
	FILE *f = open_memstream(&tsv, &tsvlen);
	int ret = 0;

	if (!f)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < objs->n && !ret; i++) {
		struct kc_kobj *k = &objs->v[i];
		char from[4200];

		if (asprintf(&k->orig, "%s/orig/%s", x->o->output, k->obj) < 0 ||
		    asprintf(&k->patched, "%s/patched/%s", x->o->output, k->obj) < 0) {
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		snprintf(from, sizeof(from), "%s/%s", x->orig, k->obj);
		if ((ret = kobjs_copy(from, k->orig, err)) < 0)
			break;
		snprintf(from, sizeof(from), "%s/%s", x->patched, k->obj);
		if ((ret = kobjs_copy(from, k->patched, err)) < 0)
			break;
		fprintf(f, "%s\t%s\torig/%s\tpatched/%s\n", k->obj, k->target, k->obj, k->obj);
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/objects.tsv", x->o->output);
	if (!ret)
		ret = tsv ? kc_file_write_atomic(path, tsv, tsvlen, 0644, err)
			  : kc_err_set(err, -ENOMEM, "out of memory");
	free(tsv);
	if (ret < 0) {
		/* nothing half-written stays */
		snprintf(path, sizeof(path), "%s/orig", x->o->output);
		kc_deb_rmtree(path, NULL);
		snprintf(path, sizeof(path), "%s/patched", x->o->output);
		kc_deb_rmtree(path, NULL);
	}
	return ret;
}

void kc_kobjs_release(struct kc_kobjs *objs)
{
	for (size_t i = 0; i < objs->n; i++) {
		free(objs->v[i].obj);
		free(objs->v[i].target);
		free(objs->v[i].orig);
		free(objs->v[i].patched);
		kobjs_free_strv(objs->v[i].srcs, objs->v[i].nsrcs);
	}
	free(objs->v);
	objs->v = NULL;
	objs->n = 0;
}

static int kobjs_setup(struct kobjs_ctx *x, struct kc_err *err)
{
	char tmpl[4200];

	snprintf(tmpl, sizeof(tmpl), "%s/work.XXXXXX", x->p->dir);
	if (!mkdtemp(tmpl))
		return kc_err_set(err, -errno, "cannot create a work directory in '%s': %s",
				  x->p->dir, strerror(errno));
	if (!(x->work = strdup(tmpl)) || asprintf(&x->orig, "%s/orig", tmpl) < 0 ||
	    asprintf(&x->patched, "%s/patched", tmpl) < 0 ||
	    asprintf(&x->log, "%s/build.log", tmpl) < 0 ||
	    asprintf(&x->query_mk, "%s/kc-query.mk", tmpl) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	return kc_file_write_atomic(x->query_mk, kobjs_query_text, sizeof(kobjs_query_text) - 1,
				    0644, err);
}

int kc_kobjs_build(const struct kc_kobjs_opts *o, struct kc_kobjs *out, struct kc_err *err)
{
	struct kobjs_ctx x = {.o = o, .p = o->prep};
	char **files = NULL;
	size_t nfiles = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (size_t d = 0; d < o->ndiffs && !ret; d++) {
		char *text = NULL, **f = NULL;
		size_t len, n = 0;

		if ((ret = kc_file_read_all(o->diffs[d], 64u << 20, &text, &len, err)) < 0) {
			kc_err_prefix(err, "diff '%s'", o->diffs[d]);
			break;
		}
		if ((ret = kc_kdiff_files(text, len, &f, &n, err)) < 0)
			kc_err_prefix(err, "'%s'", o->diffs[d]);
		for (size_t i = 0; i < n && !ret; i++)
			if (!kobjs_has(files, nfiles, f[i]) &&
			    kobjs_push(&files, &nfiles, f[i]) < 0)
				ret = kc_err_set(err, -ENOMEM, "out of memory");
		kobjs_free_strv(f, n);
		free(text);
	}
	if (ret < 0)
		goto out;
	if ((ret = kobjs_setup(&x, err)) < 0)
		goto out;
	/*
	 * What can be refused without working trees is refused first: the
	 * first diff not applying, files no object is built from (the maps
	 * read the cached tree, the original side).
	 */
	if ((ret = kobjs_apply(&x, x.p->tree, o->diffs[0], 1, err)) < 0 ||
	    (ret = kobjs_map(&x, files, nfiles, out, err)) < 0)
		goto out;
	kc_kprep_say(o->progress, o->progress_arg, "working trees in %s", x.work);
	if ((ret = kc_ktree_farm(x.p->tree, x.orig, &x.p->unpacked, err)) < 0 ||
	    (ret = kc_ktree_farm(x.p->tree, x.patched, &x.p->unpacked, err)) < 0)
		goto out;
	for (size_t i = 0; i < nfiles && !ret; i++) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/%s", x.patched, files[i]);
		if (access(path, F_OK) == 0)
			ret = kc_ktree_unshare(path, err);
	}
	for (size_t d = 0; d < o->ndiffs && !ret; d++) {
		kc_kprep_say(o->progress, o->progress_arg, "apply %s", o->diffs[d]);
		ret = kobjs_apply(&x, x.patched, o->diffs[d], 0, err);
	}
	if (ret < 0)
		goto out;
	if ((ret = kobjs_rebuild(&x, x.orig, "original", out, err)) < 0)
		goto out;
	kobjs_filter_headers(&x, out);
	if (!out->n) {
		ret = kc_err_set(err, -ENOENT,
				 "no object built in this configuration includes "
				 "the changed headers");
		goto out;
	}
	if ((ret = kobjs_rebuild(&x, x.patched, "patched", out, err)) < 0 ||
	    (ret = kc_ktree_unchanged(x.p->tree, &x.p->ready, err)) < 0 ||
	    (ret = kobjs_output(&x, out, err)) < 0)
		goto out;
out:
	if (x.work && !o->keep_work)
		kc_deb_rmtree(x.work, NULL);
	else if (x.work && rename(x.work, o->keep_work) < 0)
		/* hard links tie the trees to the cache's file system */
		kc_kprep_say(o->progress, o->progress_arg,
			     "working trees kept in %s (not moved to %s: %s)", x.work, o->keep_work,
			     strerror(errno));
	else if (x.work)
		kc_kprep_say(o->progress, o->progress_arg, "working trees kept in %s",
			     o->keep_work);
	for (size_t i = 0; i < x.ndirs; i++) {
		free(x.dirs[i].dir);
		free(x.dirs[i].y);
		free(x.dirs[i].m);
		free(x.dirs[i].c);
	}
	free(x.dirs);
	free(x.work);
	free(x.orig);
	free(x.patched);
	free(x.log);
	free(x.query_mk);
	kobjs_free_strv(files, nfiles);
	if (ret < 0)
		kc_kobjs_release(out);
	return ret;
}
