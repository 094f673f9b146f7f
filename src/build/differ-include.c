// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What goes into the fix: every changed function that the target defines
 * (it will be replaced), then, following relocations, everything those
 * need. A reference to a function or datum the target has, unchanged,
 * stays a reference to the target's own definition (found through the
 * unit's STT_FILE for statics, so a static keeps its storage); anything
 * the target lacks (new functions, new statics, functions the original
 * build had inlined away) and every anonymous constant, string, jump
 * table and .cold fragment is copied from the patched object.
 */
#include <stdlib.h>
#include <string.h>

#include "build/differ-int.h"

int kc_diff_find_global(const struct kc_diff *d, const char *name, size_t *cu, size_t *sym)
{
	for (size_t c = 0; c < d->ncus; c++) {
		const struct kc_objfile *p = d->cus[c].p;

		for (size_t i = 1; i < p->nsyms; i++) {
			const struct kc_objfile_sym *s = &p->syms[i];

			if (s->bind != STB_LOCAL && s->sym.st_shndx != SHN_UNDEF &&
			    s->sym.st_shndx < SHN_LORESERVE && !strcmp(s->name, name)) {
				*cu = c;
				*sym = i;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/*
 * The target's definition of the original of patched section @pi: its
 * pair's entry symbol, looked up in the unit. 0, -ENOENT (the target does
 * not have it) or an error (ambiguous).
 */
static int incl_resolve(struct kc_diff *d, struct kc_dcu *cu, size_t pi, struct kc_err *err)
{
	struct kc_dsec *ps = &cu->ps[pi];
	const struct kc_objfile_sym *os;
	const struct kc_dsym *t = NULL;
	int ret, func = ps->kind == KC_DSEC_FUNC;

	if (!ps->pair || !cu->os[ps->pair].entry)
		return -ENOENT;
	os = &cu->o->syms[cu->os[ps->pair].entry];
	ret = kc_dsymtab_lookup(d->st, cu->file, os->name, os->bind == STB_LOCAL, &t, err);
	if (ret < 0)
		return ret;
	if (func ? (t->type != STT_FUNC) : (t->type != STT_OBJECT && t->type != STT_TLS))
		return -ENOENT;
	ps->tvalue = t->value;
	ps->tsize = t->size;
	ps->ttype = t->type;
	ps->tbind = t->bind;
	return 0;
}

/* Whether symbol @name is defined in section @sec of @f. */
static int incl_defines(const struct kc_objfile *f, size_t sec, const char *name)
{
	for (size_t i = 1; i < f->nsyms; i++)
		if (f->syms[i].sym.st_shndx == sec && !strcmp(f->syms[i].name, name))
			return 1;
	return 0;
}

/*
 * Replacing the code at an address replaces every function the target
 * has there: gcc folds identical functions (ICF) and aliases share code.
 * Each other name must still be the same function in the patched unit.
 */
static int incl_check_aliases(const struct kc_diff *d, const struct kc_dcu *cu, size_t pi,
			      struct kc_err *err)
{
	const struct kc_dsec *s = &cu->ps[pi];
	const char *name = cu->o->syms[cu->os[s->pair].entry].name;

	for (size_t i = 0; i < d->st->nsyms; i++) {
		const struct kc_dsym *t = &d->st->syms[i];

		if (t->value != s->tvalue || t->type != STT_FUNC || !strcmp(t->name, name) ||
		    (t->file && cu->file && strcmp(t->file, cu->file)))
			continue;
		if (!incl_defines(cu->p, pi, t->name))
			return kc_err_set(
			    err, -ENOTSUP,
			    "function '%s' of '%s' shares its code with '%s' in the "
			    "target (identical code folding or an alias), which the fix "
			    "does not change the same way",
			    name, cu->file ? cu->file : cu->rel, t->name);
	}
	return 0;
}

/*
 * The function about to be overwritten must be the one we compiled: the
 * target's bytes equal the original object's, relocated fields aside. This
 * catches a static resolved in the wrong unit (another program of the tree
 * with a unit of the same name) before a jump is written into it.
 */
static int incl_check_bytes(const struct kc_diff *d, const struct kc_dcu *cu, size_t pi,
			    struct kc_err *err)
{
	const struct kc_dsec *s = &cu->ps[pi];
	const struct kc_objfile_sec *os = &cu->o->secs[s->pair];
	const char *name = cu->o->syms[cu->os[s->pair].entry].name;
	uint64_t at = 0;
	int ret;

	if (!d->tgt || !os->data)
		return 0;
	ret = kc_diff_code_same(d->tgt, s->tvalue, s->tsize, os, 0, os->sh.sh_size, &at, err);
	if (ret == 0)
		ret = kc_err_set(err, -ENOTSUP,
				 "function '%s' of '%s' in the target differs from the rebuild at "
				 "byte %llu: it is not the function the sources compile to",
				 name, cu->file ? cu->file : cu->rel, (unsigned long long)at);
	return ret < 0 ? ret : 0;
}

struct incl_work {
	size_t cu, sec;
};

struct incl_ctx {
	struct kc_diff *d;
	struct incl_work *q; /* owned */
	size_t nq, capq;
};

static int incl_push(struct incl_ctx *x, size_t cu, size_t sec, struct kc_err *err)
{
	struct kc_dsec *s = &x->d->cus[cu].ps[sec];

	if (s->include)
		return 0;
	s->include = 1;
	s->bound = 0;
	if (x->nq == x->capq) {
		size_t cap = x->capq ? 2 * x->capq : 64;
		struct incl_work *n = realloc(x->q, cap * sizeof(*n));

		if (!n)
			return kc_err_set(err, -ENOMEM, "out of memory");
		x->q = n;
		x->capq = cap;
	}
	x->q[x->nq++] = (struct incl_work){cu, sec};
	return 0;
}

/* A reference from included code to section @sec of unit @c. */
static int incl_ref(struct incl_ctx *x, size_t c, size_t sec, struct kc_err *err)
{
	struct kc_dcu *cu = &x->d->cus[c];
	struct kc_dsec *s = &cu->ps[sec];
	const char *unit = cu->file ? cu->file : cu->rel;
	int ret;

	if (s->include || s->bound)
		return 0;
	switch (s->kind) {
	case KC_DSEC_FUNC:
		/* unchanged and in the target: call the target's; else carry a copy */
		if (s->pair && !s->changed) {
			ret = incl_resolve(x->d, cu, sec, err);
			if (ret == 0) {
				s->bound = 1;
				return 0;
			}
			if (ret != -ENOENT)
				return ret;
		}
		return incl_push(x, c, sec, err);
	case KC_DSEC_DATA:
		if (!s->entry)
			return kc_err_set(err, -ENOTSUP,
					  "code of the fix uses anonymous writable data in section "
					  "'%s' of '%s'",
					  cu->p->secs[sec].name, unit);
		if (s->pair) {
			ret = incl_resolve(x->d, cu, sec, err);
			if (ret == 0) {
				s->bound = 1;
				return 0;
			}
			if (ret != -ENOENT)
				return ret;
			/*
			 * A static the target's unit lacks was dropped (--gc-sections):
			 * no code of the target uses it. If the unit itself cannot be
			 * found, its statics cannot be told apart: never guess storage.
			 */
			if (cu->o->syms[cu->os[s->pair].entry].bind == STB_LOCAL &&
			    !kc_dsymtab_has_file(x->d->st, cu->file))
				return kc_err_set(
				    err, -ENOTSUP,
				    "static data '%s' of '%s': the target's symbols have "
				    "no compilation unit of that name",
				    cu->o->syms[cu->os[s->pair].entry].name, unit);
		}
		/* new storage, or storage the target's code never had */
		return incl_push(x, c, sec, err);
	case KC_DSEC_CONST:
	case KC_DSEC_FRAG:
	case KC_DSEC_MSTR:
	case KC_DSEC_MCONST:
		return incl_push(x, c, sec, err);
	case KC_DSEC_MULTI:
		return kc_err_set(
		    err, -ENOTSUP,
		    "code of the fix calls into section '%s' of '%s', which holds several "
		    "functions (was it built with -ffunction-sections?)",
		    cu->p->secs[sec].name, unit);
	default:
		return kc_err_set(err, -ENOTSUP, "code of the fix refers to section '%s' of '%s'",
				  cu->p->secs[sec].name, unit);
	}
}

static int incl_section(struct incl_ctx *x, size_t c, size_t sec, struct kc_err *err)
{
	const struct kc_objfile *p = x->d->cus[c].p;
	int ret;

	for (size_t k = 0; k < p->secs[sec].nrelas; k++) {
		struct kc_dref r;
		size_t c2, sym;

		kc_diff_ref(p, &p->secs[sec].relas[k], &r);
		if (r.undef == 1 && kc_diff_find_global(x->d, r.name, &c2, &sym) == 0) {
			/* defined by another changed unit: the same rules as inside it */
			ret = incl_ref(x, c2, x->d->cus[c2].p->syms[sym].sym.st_shndx, err);
		} else if (r.undef) {
			continue; /* elsewhere in the target or in another library: pack binds it */
		} else {
			ret = incl_ref(x, c, r.sec, err);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

int kc_diff_include(struct kc_diff *d, struct kc_err *err)
{
	struct incl_ctx x = {.d = d};
	int ret = 0;

	/* the roots: changed functions the target defines */
	for (size_t c = 0; c < d->ncus && ret == 0; c++) {
		struct kc_dcu *cu = &d->cus[c];

		for (size_t i = 1; i < cu->p->nsecs && ret == 0; i++) {
			struct kc_dsec *s = &cu->ps[i];

			if (s->kind != KC_DSEC_FUNC || !s->changed)
				continue;
			ret = incl_resolve(d, cu, i, err);
			if (ret == -ENOENT) {
				ret = 0; /* not in the target: new code if something calls it */
				continue;
			}
			if (ret == 0)
				ret = incl_check_aliases(d, cu, i, err);
			if (ret == 0)
				ret = incl_check_bytes(d, cu, i, err);
			if (ret == 0) {
				s->replace = 1;
				ret = incl_push(&x, c, i, err);
			}
		}
	}
	for (size_t i = 0; i < x.nq && ret == 0; i++)
		ret = incl_section(&x, x.q[i].cu, x.q[i].sec, err);
	free(x.q);
	return ret;
}
