// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which objects of the tree the diff changed for this target: objects are
 * paired by path between the original and patched builds, those with other
 * bytes are opened as units, and units that are not linked into the target
 * (another program's, a static library's second compilation of a source)
 * are dropped, by symbols first and by code where symbols cannot tell.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/differ-build.h"
#include "build/differ-int.h"

/* 1 if the files hold the same bytes, 0 if not, <0 on error. */
static int units_same_file(const char *a, const char *b)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
	char ba[65536], bb[65536];
	int ret = -EIO;

	if (fa < 0 || fb < 0)
		goto out;
	for (;;) {
		ssize_t na = read(fa, ba, sizeof(ba)), nb;

		if (na < 0)
			goto out;
		nb = read(fb, bb, (size_t)na ? (size_t)na : 1);
		if (nb < 0)
			goto out;
		if (na != nb || memcmp(ba, bb, (size_t)na)) {
			ret = 0;
			break;
		}
		if (na == 0) {
			ret = 1;
			break;
		}
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ret;
}

/*
 * Whether the unit of @cu is linked into the target. Its STT_FILE name is
 * not proof (another program of the tree may have a unit of that name),
 * so every static function and object of the original object must be a
 * static of that unit in the target too, objects with the same size; a
 * unit without statics needs one of its global functions in the target.
 */
static int units_in_target(const struct kc_diff *x, const struct kc_dcu *cu)
{
	const struct kc_objfile *o = cu->o;
	const struct kc_dsym *s;
	int locals = 0, globals = 0;

	for (size_t i = 1; i < o->nsyms; i++) {
		const struct kc_objfile_sym *os = &o->syms[i];
		int ret;

		if ((os->type != STT_FUNC && os->type != STT_OBJECT) || !*os->name ||
		    os->sym.st_shndx == SHN_UNDEF || os->sym.st_shndx >= SHN_LORESERVE)
			continue;
		if (os->bind != STB_LOCAL) {
			globals += os->type == STT_FUNC &&
				   kc_dsymtab_lookup(x->st, NULL, os->name, 0, &s, NULL) == 0;
			continue;
		}
		if (!cu->file)
			return 0;
		ret = kc_dsymtab_lookup(x->st, cu->file, os->name, 1, &s, NULL);
		if (ret == -ENOENT ||
		    (ret == 0 && os->type == STT_OBJECT && s->size != os->sym.st_size))
			return 0;
		locals++;
	}
	return locals || globals;
}

/*
 * How many functions of @cu's original object that the target defines do
 * not have the target's code (kc_diff_code_same()), or < 0 on error. Only
 * asked of units that the symbols cannot tell apart.
 */
static int units_code_mismatches(const struct kc_diff *x, const struct kc_dcu *cu,
				 struct kc_err *err)
{
	const struct kc_objfile *o = cu->o;
	int bad = 0;

	for (size_t i = 1; i < o->nsyms; i++) {
		const struct kc_objfile_sym *os = &o->syms[i];
		const struct kc_dsym *s;
		uint64_t at;
		int ret;

		if (os->type != STT_FUNC || !*os->name || os->sym.st_shndx == SHN_UNDEF ||
		    os->sym.st_shndx >= SHN_LORESERVE)
			continue;
		if (kc_dsymtab_lookup(x->st, os->bind == STB_LOCAL ? cu->file : NULL, os->name,
				      os->bind == STB_LOCAL, &s, NULL) < 0)
			continue;
		ret = kc_diff_code_same(x->tgt, s->value, s->size, &o->secs[os->sym.st_shndx],
					os->sym.st_value, os->sym.st_size, &at, err);
		if (ret < 0)
			return ret;
		bad += ret == 0;
	}
	return bad;
}

/* Whether @o defines function @name with that binding (clones aside). */
static int units_defines(const struct kc_objfile *o, const char *name, int global)
{
	for (size_t i = 1; i < o->nsyms; i++) {
		const struct kc_objfile_sym *s = &o->syms[i];

		if (s->type == STT_FUNC && (s->bind != STB_LOCAL) == global &&
		    s->sym.st_shndx != SHN_UNDEF && !strcmp(s->name, name))
			return 1;
	}
	return 0;
}

/*
 * Whether units @a and @b are two compilations of one source (say, -fPIC
 * for the shared library and the default for the static one): the same
 * STT_FILE and the same named functions. When the code of both is the
 * target's, either gives the same fix; two would replace each function twice.
 */
static int units_twins(const struct kc_dcu *a, const struct kc_dcu *b)
{
	size_t na = 0;

	if (!a->o || !b->o || !a->file || !b->file || strcmp(a->file, b->file))
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		const struct kc_objfile *x = pass ? b->o : a->o, *y = pass ? a->o : b->o;

		for (size_t i = 1; i < x->nsyms; i++) {
			const struct kc_objfile_sym *s = &x->syms[i];

			if (s->type != STT_FUNC || s->sym.st_shndx == SHN_UNDEF || !*s->name ||
			    strchr(s->name, '.'))
				continue;
			if (!units_defines(y, s->name, s->bind != STB_LOCAL))
				return 0;
			na++;
		}
	}
	return na > 0;
}

static void units_drop(struct kc_diff *x, size_t i)
{
	kc_diff_cu_release(&x->cus[i]);
	memmove(&x->cus[i], &x->cus[i + 1], (x->ncus - i - 1) * sizeof(x->cus[0]));
	x->ncus--;
}

/*
 * Changed units that share an STT_FILE name (the static library's second
 * compilation of a source, another program's unit of the same name): when
 * some of them have the target's code and others do not, only the former
 * are linked into the target; of twins with the target's code, one is kept.
 * Anything else is left for the later checks to refuse.
 */
static int units_same_name(struct kc_diff *x, struct kc_err *err)
{
	for (size_t i = 0; i < x->ncus; i++) {
		const char *file = x->cus[i].file;
		int *bad, best = -1, ret = 0, dropped;

		size_t same = 0;

		for (size_t j = i + 1; file && j < x->ncus; j++)
			same += x->cus[j].o && x->cus[j].file && !strcmp(x->cus[j].file, file);
		if (!same || !x->cus[i].o)
			continue;
		bad = calloc(x->ncus, sizeof(*bad));
		if (!bad)
			return kc_err_set(err, -ENOMEM, "out of memory");
		for (size_t j = i; j < x->ncus && ret >= 0; j++) {
			const struct kc_dcu *cu = &x->cus[j];

			bad[j] = -1;
			if (j > i && (!cu->o || !cu->file || strcmp(cu->file, file)))
				continue;
			ret = bad[j] = units_code_mismatches(x, cu, err);
			if (ret >= 0 && (best < 0 || ret < best))
				best = ret;
		}
		for (size_t j = x->ncus; ret >= 0 && best == 0 && j-- > i;) {
			if (bad[j] > 0 || (bad[j] == 0 && j > i && bad[i] == 0 &&
					   units_twins(&x->cus[i], &x->cus[j])))
				units_drop(x, j);
		}
		dropped = ret >= 0 && best == 0 && bad[i] > 0;
		free(bad);
		if (ret < 0)
			return ret;
		if (dropped)
			i--; /* the next unit moved into place i */
	}
	return 0;
}

int kc_diff_units(struct kc_diff *x, const struct kc_dbuild *b, char *const *pobjs, size_t npobjs,
		  const char *target, struct kc_err *err)
{
	size_t cap = 0;
	int ret;

	for (size_t i = 0; i < npobjs; i++) {
		char *pp = kc_dbuild_tree_path(b, pobjs[i]);
		char *op = kc_dbuild_path(b, "orig", pobjs[i]);
		struct kc_dcu *cu;
		int same = -1, exists;

		if (!pp || !op) {
			free(pp);
			free(op);
			return kc_err_set(err, -ENOMEM, "out of memory");
		}
		exists = access(op, F_OK) == 0;
		if (exists)
			same = units_same_file(op, pp);
		if (same == 1) {
			free(pp);
			free(op);
			continue;
		}
		if (x->ncus == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct kc_dcu *n = realloc(x->cus, ncap * sizeof(*n));

			if (!n) {
				free(pp);
				free(op);
				return kc_err_set(err, -ENOMEM, "out of memory");
			}
			x->cus = n;
			cap = ncap;
		}
		cu = &x->cus[x->ncus++];
		memset(cu, 0, sizeof(*cu));
		cu->rel = strdup(pobjs[i]);
		ret = cu->rel ? kc_diff_cu_open(cu, exists ? op : NULL, pp, err)
			      : kc_err_set(err, -ENOMEM, "out of memory");
		free(pp);
		free(op);
		if (ret < 0)
			return ret;
		/* a changed unit of another program of the tree is none of our business */
		if (cu->o && !units_in_target(x, cu)) {
			kc_diff_cu_release(cu);
			x->ncus--;
		}
	}
	if ((ret = units_same_name(x, err)) < 0)
		return ret;
	for (size_t i = 0; i < x->ncus; i++)
		if (x->cus[i].o)
			return 0;
	return kc_err_set(err, -ENODATA, "the diff changes no object file linked into '%s'",
			  target);
}
