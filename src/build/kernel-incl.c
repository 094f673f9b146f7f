// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which C files of a kernel tree may include a header, directly or
 * through other headers: the candidates of a header change. Only the
 * #include lines are read, and names match loosely (a quoted name
 * relative to the including file, or any path ending in the name), so
 * this over-approximates; kbuild's own dependency list of each object,
 * once built, says which really include it (kernel-objs.c).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/kernel-int.h"
#include "kcare/conf.h"

struct incl_file {
	char *path;   /* tree-relative */
	char **names; /* included names, "<" or "\"" first */
	size_t nnames;
	int hit;
};

static struct incl_file *incl_files;
static size_t incl_n, incl_cap, incl_root_len;
static int incl_err;

/* Parts of the tree an x86 kernel build never compiles. */
static int incl_skip_dir(const char *rel)
{
	static const char *const skip[] = {"Documentation", "tools", "scripts",
					   "samples",	    "usr",   ".git"};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strcmp(rel, skip[i]))
			return 1;
	return !strncmp(rel, "arch/", 5) && strchr(rel + 5, '/') == NULL && strcmp(rel + 5, "x86");
}

static int incl_add_names(struct incl_file *f, const char *text)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *p = l + strspn(l, " \t"), *e;
		char **nn;

		if (*p != '#')
			continue;
		p++;
		p += strspn(p, " \t");
		if (strncmp(p, "include", 7))
			continue;
		p += 7;
		p += strspn(p, " \t");
		if (*p != '<' && *p != '"')
			continue;
		e = strchr(p + 1, *p == '<' ? '>' : '"');
		if (!e || memchr(p, '\n', (size_t)(e - p)))
			continue;
		nn = realloc(f->names, (f->nnames + 1) * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		f->names = nn;
		if (!(nn[f->nnames] = strndup(p, (size_t)(e - p))))
			return -ENOMEM;
		f->nnames++;
	}
	return 0;
}

static int incl_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path + incl_root_len + (path[incl_root_len] == '/');
	size_t l = strlen(path);
	struct incl_file *f;
	char *text = NULL;
	size_t len;

	(void)st;
	(void)ftw;
	if (type == FTW_D)
		return incl_skip_dir(rel) ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
	if (type != FTW_F || l < 2 || path[l - 2] != '.' ||
	    (path[l - 1] != 'c' && path[l - 1] != 'h'))
		return FTW_CONTINUE;
	if (kc_file_read_all(path, 64u << 20, &text, &len, NULL) < 0)
		return FTW_CONTINUE;
	if (incl_n == incl_cap) {
		size_t cap = incl_cap ? 2 * incl_cap : 4096;
		struct incl_file *nf = realloc(incl_files, cap * sizeof(*nf));

		if (!nf) {
			free(text);
			incl_err = -ENOMEM;
			return FTW_STOP;
		}
		incl_files = nf;
		incl_cap = cap;
	}
	f = &incl_files[incl_n];
	memset(f, 0, sizeof(*f));
	if (!(f->path = strdup(rel)) || incl_add_names(f, text) < 0)
		incl_err = -ENOMEM;
	incl_n++;
	free(text);
	return incl_err ? FTW_STOP : FTW_CONTINUE;
}

/* "a/b/../c" as "a/c", in place (dependency paths as the compiler wrote them). */
void kc_kpath_normalize(char *path)
{
	char *out = path, *in = path;

	while (*in) {
		size_t l = strcspn(in, "/");

		if (l == 1 && in[0] == '.') {
			/* "./": nothing */
		} else if (l == 2 && in[0] == '.' && in[1] == '.' && out > path) {
			out--;
			while (out > path && out[-1] != '/')
				out--;
		} else {
			memmove(out, in, l);
			out += l;
			if (in[l])
				*out++ = '/';
		}
		in += l + (in[l] == '/');
	}
	*out = 0;
}

/* Whether @name, included by @from, may be the file @header (tree-relative). */
static int incl_matches(const char *from, const char *name, const char *header)
{
	size_t hl = strlen(header), nl = strlen(name + 1);
	const char *slash = strrchr(from, '/');

	if (name[0] == '"' && slash) {
		char joined[4096];

		snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - from), from, name + 1);
		kc_kpath_normalize(joined);
		if (!strcmp(joined, header))
			return 1;
	}
	return hl > nl && header[hl - nl - 1] == '/' && !strcmp(header + hl - nl, name + 1);
}

/* Headers by base name, so that an include line is matched against a few files. */
static size_t *incl_hdrs, incl_nhdrs;

static const char *incl_base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int incl_cmp(const void *a, const void *b)
{
	return strcmp(incl_base(incl_files[*(const size_t *)a].path),
		      incl_base(incl_files[*(const size_t *)b].path));
}

static int incl_index(void)
{
	incl_nhdrs = 0;
	incl_hdrs = malloc((incl_n + 1) * sizeof(*incl_hdrs));
	if (!incl_hdrs)
		return -ENOMEM;
	for (size_t i = 0; i < incl_n; i++)
		if (incl_files[i].path[strlen(incl_files[i].path) - 1] == 'h')
			incl_hdrs[incl_nhdrs++] = i;
	qsort(incl_hdrs, incl_nhdrs, sizeof(*incl_hdrs), incl_cmp);
	return 0;
}

static int incl_includes_hit(const char *from, const char *name)
{
	const char *base = incl_base(name + 1);
	size_t lo = 0, hi = incl_nhdrs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(incl_base(incl_files[incl_hdrs[mid]].path), base) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < incl_nhdrs && !strcmp(incl_base(incl_files[incl_hdrs[lo]].path), base); lo++)
		if (incl_files[incl_hdrs[lo]].hit &&
		    incl_matches(from, name, incl_files[incl_hdrs[lo]].path))
			return 1;
	return 0;
}

static void incl_release(void)
{
	for (size_t i = 0; i < incl_n; i++) {
		for (size_t k = 0; k < incl_files[i].nnames; k++)
			free(incl_files[i].names[k]);
		free(incl_files[i].names);
		free(incl_files[i].path);
	}
	free(incl_files);
	free(incl_hdrs);
	incl_hdrs = NULL;
	incl_files = NULL;
	incl_n = incl_cap = 0;
}

int kc_kincl_users(const char *tree, const char *const *headers, size_t nheaders, char ***cfiles,
		   size_t *ncfiles, struct kc_err *err)
{
	int changed = 1, ret = 0;

	*cfiles = NULL;
	*ncfiles = 0;
	incl_root_len = strlen(tree);
	incl_err = 0;
	if (nftw(tree, incl_one, 64, FTW_PHYS | FTW_ACTIONRETVAL) < 0 && !incl_err)
		incl_err = -errno;
	if (incl_err) {
		ret = kc_err_set(err, incl_err, "cannot read the includes of '%s'", tree);
		goto out;
	}
	for (size_t i = 0; i < incl_n; i++)
		for (size_t h = 0; h < nheaders; h++)
			if (!strcmp(incl_files[i].path, headers[h]))
				incl_files[i].hit = 1;
	if ((ret = incl_index()) < 0) {
		ret = kc_err_set(err, ret, "out of memory");
		goto out;
	}
	/* a file including a hit header is a hit; repeat until nothing is added */
	while (changed) {
		changed = 0;
		for (size_t i = 0; i < incl_n; i++) {
			struct incl_file *f = &incl_files[i];

			for (size_t k = 0; !f->hit && k < f->nnames; k++)
				if (incl_includes_hit(f->path, f->names[k]))
					f->hit = changed = 1;
		}
	}
	for (size_t i = 0; i < incl_n; i++) {
		const char *p = incl_files[i].path;
		char **nc;

		if (!incl_files[i].hit || p[strlen(p) - 1] != 'c')
			continue;
		if (!(nc = realloc(*cfiles, (*ncfiles + 1) * sizeof(*nc))) ||
		    !(nc[*ncfiles] = strdup(p))) {
			if (nc)
				*cfiles = nc;
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		*cfiles = nc;
		(*ncfiles)++;
	}
out:
	incl_release();
	return ret;
}
