// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Correlating and comparing the original and patched objects of one
 * compilation unit, built with one function or object per section. A
 * section's bytes and relocations are compared; a relocation target is
 * compared by identity, never by section offset: a function or named
 * datum by its pairing (names, with clone numbers and static-local
 * numbers allowed to move), mergeable strings and constants by the bytes
 * they point at, other anonymous data and .cold fragments by content,
 * recursively. It decides what changed and refuses changes that cannot
 * be made live (data, constructors); what goes into the fix is
 * differ-include.c's job.
 */
#include <stdlib.h>
#include <string.h>

#include "build/differ-int.h"

static int cmp_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* "foo.cold" or "foo.cold.3": a fragment of foo, not an entry point. */
static int cmp_is_cold(const char *name)
{
	const char *c = strstr(name, ".cold");

	while (c) {
		const char *r = c + 5;

		if (*r == '\0')
			return 1;
		if (*r == '.' && r[1] && strspn(r + 1, "0123456789") == strlen(r + 1))
			return 1;
		c = strstr(c + 1, ".cold");
	}
	return 0;
}

/*
 * @name without its numeric components ("foo.constprop.0.isra.1" ->
 * "foo.constprop.isra", "count.3" -> "count") into @buf. Returns whether
 * any was removed.
 */
static int cmp_norm(const char *name, char *buf, size_t bufsz)
{
	size_t k = 0;
	int cut = 0;

	for (const char *s = name; *s && k + 1 < bufsz;) {
		size_t d = s[0] == '.' ? strspn(s + 1, "0123456789") : 0;

		if (d && (s[1 + d] == '.' || s[1 + d] == '\0') && s != name) {
			s += 1 + d;
			cut = 1;
			continue;
		}
		buf[k++] = *s++;
	}
	buf[k] = '\0';
	return cut;
}

const char *kc_diff_sec_name(const struct kc_objfile *f, const struct kc_dsec *s, size_t i)
{
	if (s->entry)
		return f->syms[s->entry].name;
	return f->secs[i].name;
}

void kc_diff_ref(const struct kc_objfile *f, const GElf_Rela *r, struct kc_dref *out)
{
	const struct kc_objfile_sym *s = &f->syms[GELF_R_SYM(r->r_info)];

	memset(out, 0, sizeof(*out));
	out->name = s->name;
	if (s->sym.st_shndx == SHN_UNDEF) {
		out->undef = 1;
		out->off = r->r_addend;
	} else if (s->sym.st_shndx >= SHN_LORESERVE) {
		out->undef = 2;
		out->off = (int64_t)s->sym.st_value + r->r_addend;
	} else {
		out->sec = s->sym.st_shndx;
		out->off = (int64_t)s->sym.st_value + r->r_addend;
	}
}

static int cmp_rela_order(const void *a, const void *b)
{
	const GElf_Rela *x = a, *y = b;

	return x->r_offset < y->r_offset ? -1 : x->r_offset > y->r_offset;
}

/*
 * The symbol of @type at offset 0 of section @i (a global one rather than
 * a local alias), 0 if none; *nplaces: how many distinct offsets such
 * symbols have (aliases share one).
 */
static size_t cmp_entry(const struct kc_objfile *f, size_t i, unsigned char type, int *nplaces)
{
	uint64_t seen[4];
	size_t best = 0;
	int n = 0;

	for (size_t k = 1; k < f->nsyms; k++) {
		const struct kc_objfile_sym *s = &f->syms[k];
		int dup = 0;

		if (s->sym.st_shndx != i || !*s->name ||
		    !(s->type == type || (type == STT_OBJECT && s->type == STT_TLS)))
			continue;
		if (type == STT_FUNC && cmp_is_cold(s->name))
			continue;
		for (int j = 0; j < n && j < 4; j++)
			dup |= seen[j] == s->sym.st_value;
		if (!dup) {
			if (n < 4)
				seen[n] = s->sym.st_value;
			n++;
		}
		if (s->sym.st_value == 0 &&
		    (!best || (f->syms[best].bind == STB_LOCAL && s->bind != STB_LOCAL)))
			best = k;
	}
	*nplaces = n;
	return best;
}

static enum kc_dsec_kind cmp_classify(const struct kc_objfile *f, size_t i, size_t *entry)
{
	static const char *const ignored[] = {".eh_frame", ".note",    ".comment",	".debug",
					      ".zdebug",   ".gnu.lto", ".llvm_addrsig", ".stack"};
	const struct kc_objfile_sec *s = &f->secs[i];
	uint64_t fl = s->sh.sh_flags;
	int n = 0;
	size_t e;

	*entry = 0;
	if (!(fl & SHF_ALLOC) || s->sh.sh_type == SHT_NOTE || s->sh.sh_type == SHT_GROUP ||
	    s->sh.sh_type == SHT_X86_64_UNWIND || s->sh.sh_size == 0)
		return KC_DSEC_IGNORE;
	for (size_t k = 0; k < sizeof(ignored) / sizeof(ignored[0]); k++)
		if (cmp_prefix(s->name, ignored[k]))
			return KC_DSEC_IGNORE;
	if (s->sh.sh_type != SHT_PROGBITS && s->sh.sh_type != SHT_NOBITS)
		return KC_DSEC_OTHER;
	if (fl & SHF_EXECINSTR) {
		e = cmp_entry(f, i, STT_FUNC, &n);
		if (n == 0)
			return KC_DSEC_FRAG;
		if (n > 1 || !e)
			return KC_DSEC_MULTI;
		*entry = e;
		return KC_DSEC_FUNC;
	}
	e = cmp_entry(f, i, STT_OBJECT, &n);
	if ((fl & SHF_WRITE) || s->sh.sh_type == SHT_NOBITS) {
		/* relro data is constant once relocated: copied like rodata unless global */
		if (cmp_prefix(s->name, ".data.rel.ro") && (!e || f->syms[e].bind == STB_LOCAL))
			return KC_DSEC_CONST;
		*entry = n == 1 ? e : 0;
		return KC_DSEC_DATA;
	}
	if ((fl & SHF_MERGE) && (fl & SHF_STRINGS))
		return KC_DSEC_MSTR;
	if (fl & SHF_MERGE)
		return KC_DSEC_MCONST;
	if (e && n == 1 && f->syms[e].bind != STB_LOCAL) {
		*entry = e;
		return KC_DSEC_DATA;
	}
	return KC_DSEC_CONST;
}

static int cmp_classify_all(const struct kc_objfile *f, struct kc_dsec **out, struct kc_err *err)
{
	struct kc_dsec *d = calloc(f->nsecs ? f->nsecs : 1, sizeof(*d));

	*out = d;
	if (!d)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 1; i < f->nsecs; i++) {
		if (f->secs[i].nrelas)
			qsort(f->secs[i].relas, f->secs[i].nrelas, sizeof(GElf_Rela),
			      cmp_rela_order);
		d[i].kind = cmp_classify(f, i, &d[i].entry);
	}
	return 0;
}

int kc_diff_cu_open(struct kc_dcu *cu, const char *orig, const char *patched, struct kc_err *err)
{
	int ret;

	if (orig && (ret = kc_objfile_open(orig, &cu->o, err)) < 0)
		return ret;
	if ((ret = kc_objfile_open(patched, &cu->p, err)) < 0)
		return ret;
	if ((cu->o && (ret = cmp_classify_all(cu->o, &cu->os, err)) < 0) ||
	    (ret = cmp_classify_all(cu->p, &cu->ps, err)) < 0)
		return ret;
	for (size_t i = 1; i < cu->p->nsyms; i++)
		if (cu->p->syms[i].type == STT_FILE && *cu->p->syms[i].name) {
			cu->file = cu->p->syms[i].name;
			break;
		}
	/*
	 * With LTO the linker compiles again across units: the code that runs is
	 * not the code of these objects (even fat ones), so they prove nothing.
	 */
	for (size_t i = 1; i < cu->p->nsecs; i++)
		if (cmp_prefix(cu->p->secs[i].name, ".gnu.lto_"))
			return kc_err_set(
			    err, -ENOTSUP,
			    "'%s' was built with -flto: link-time optimisation is not "
			    "supported (build without -flto)",
			    cu->rel ? cu->rel : patched);
	return 0;
}

void kc_diff_cu_release(struct kc_dcu *cu)
{
	kc_objfile_close(cu->o);
	kc_objfile_close(cu->p);
	free(cu->os);
	free(cu->ps);
	free(cu->memo);
	free(cu->rel);
	memset(cu, 0, sizeof(*cu));
}

/* ---- pairing ---- */

static int cmp_pair_name(struct kc_dcu *cu, size_t pi)
{
	const char *name = kc_diff_sec_name(cu->p, &cu->ps[pi], pi);

	for (size_t oi = 1; oi < cu->o->nsecs; oi++) {
		struct kc_dsec *o = &cu->os[oi];

		if (o->kind != cu->ps[pi].kind || o->pair ||
		    strcmp(kc_diff_sec_name(cu->o, o, oi), name))
			continue;
		/* anonymous data pairs by section name, so an entry on one side only does not */
		if (!o->entry != !cu->ps[pi].entry)
			continue;
		o->pair = pi;
		cu->ps[pi].pair = oi;
		return 1;
	}
	return 0;
}

/* Unpaired sections of @kind whose normalised name is @norm, on one side. */
static size_t cmp_unpaired(const struct kc_objfile *f, const struct kc_dsec *d,
			   enum kc_dsec_kind kind, const char *norm, size_t *last)
{
	char buf[512];
	size_t n = 0;

	for (size_t i = 1; i < f->nsecs; i++) {
		if (d[i].kind != kind || d[i].pair || !d[i].entry)
			continue;
		cmp_norm(f->syms[d[i].entry].name, buf, sizeof(buf));
		if (!strcmp(buf, norm)) {
			n++;
			*last = i;
		}
	}
	return n;
}

/* Whether function section @fi of @f references section @di. */
static int cmp_references(const struct kc_objfile *f, size_t fi, size_t di)
{
	for (size_t k = 0; k < f->secs[fi].nrelas; k++) {
		struct kc_dref r;

		kc_diff_ref(f, &f->secs[fi].relas[k], &r);
		if (!r.undef && r.sec == di)
			return 1;
	}
	return 0;
}

/*
 * A static local "n.3" of the patched unit: the original static that a
 * paired function referencing it also referenced. Numbers move when the
 * fix adds a static of the same name elsewhere in the unit.
 */
static size_t cmp_pair_by_users(struct kc_dcu *cu, size_t pi, const char *norm)
{
	char buf[512];

	for (size_t pf = 1; pf < cu->p->nsecs; pf++) {
		size_t of = cu->ps[pf].pair;

		if ((cu->ps[pf].kind != KC_DSEC_FUNC && cu->ps[pf].kind != KC_DSEC_FRAG) || !of ||
		    !cmp_references(cu->p, pf, pi))
			continue;
		for (size_t oi = 1; oi < cu->o->nsecs; oi++) {
			if (cu->os[oi].kind != KC_DSEC_DATA || cu->os[oi].pair || !cu->os[oi].entry)
				continue;
			cmp_norm(cu->o->syms[cu->os[oi].entry].name, buf, sizeof(buf));
			if (!strcmp(buf, norm) && cmp_references(cu->o, of, oi))
				return oi;
		}
	}
	return 0;
}

static int cmp_same_norm(const struct kc_dcu *cu, size_t oi, size_t pi)
{
	char a[512], b[512];

	cmp_norm(cu->o->syms[cu->os[oi].entry].name, a, sizeof(a));
	cmp_norm(cu->p->syms[cu->ps[pi].entry].name, b, sizeof(b));
	return !strcmp(a, b);
}

/*
 * Clone numbers (foo.constprop.0, .1) follow the order gcc creates clones
 * in, which a fix can change: a numbered function whose namesake differs
 * pairs instead with an original of the same family whose code is equal
 * (whose own namesake differs too, or which has none). Equal code means
 * the target's copy does what the patched one does, so this is safe.
 */
static void cmp_pair_by_content(struct kc_dcu *cu)
{
	char norm[512];

	for (size_t pi = 1; pi < cu->p->nsecs; pi++) {
		struct kc_dsec *p = &cu->ps[pi];

		if (p->kind != KC_DSEC_FUNC ||
		    !cmp_norm(cu->p->syms[p->entry].name, norm, sizeof(norm)) ||
		    (p->pair && kc_diff_sec_equal(cu, p->pair, pi)))
			continue;
		for (size_t oi = 1; oi < cu->o->nsecs; oi++) {
			struct kc_dsec *o = &cu->os[oi];
			size_t old = o->pair;

			if (o->kind != KC_DSEC_FUNC || oi == p->pair ||
			    !cmp_same_norm(cu, oi, pi) || (old && kc_diff_sec_equal(cu, oi, old)) ||
			    !kc_diff_sec_equal(cu, oi, pi))
				continue;
			/* swap: the one this original was paired with takes p's old partner */
			if (old)
				cu->ps[old].pair = p->pair;
			if (p->pair)
				cu->os[p->pair].pair = old;
			o->pair = pi;
			p->pair = oi;
			break;
		}
	}
	/* comparisons so far used the old pairing */
	cu->nmemo = 0;
}

int kc_diff_pair(struct kc_dcu *cu, struct kc_err *err)
{
	char norm[512];
	size_t oi = 0, pi = 0;

	(void)err;
	if (!cu->o)
		return 0;
	/* functions and anonymous sections by name */
	for (size_t i = 1; i < cu->p->nsecs; i++)
		if (cu->ps[i].kind == KC_DSEC_FUNC || cu->ps[i].kind == KC_DSEC_MULTI ||
		    (cu->ps[i].kind == KC_DSEC_DATA && !cu->ps[i].entry) ||
		    cu->ps[i].kind == KC_DSEC_OTHER)
			cmp_pair_name(cu, i);
	cmp_pair_by_content(cu);
	/* renumbered clones: one unpaired on each side under the same normalised name */
	for (size_t i = 1; i < cu->p->nsecs; i++) {
		if (cu->ps[i].kind != KC_DSEC_FUNC || cu->ps[i].pair ||
		    !cmp_norm(cu->p->syms[cu->ps[i].entry].name, norm, sizeof(norm)))
			continue;
		if (cmp_unpaired(cu->p, cu->ps, KC_DSEC_FUNC, norm, &pi) == 1 &&
		    cmp_unpaired(cu->o, cu->os, KC_DSEC_FUNC, norm, &oi) == 1) {
			cu->ps[pi].pair = oi;
			cu->os[oi].pair = pi;
		}
	}
	/* named data: plain names by name; numbered statics by the functions using them */
	for (size_t i = 1; i < cu->p->nsecs; i++) {
		struct kc_dsec *d = &cu->ps[i];
		const struct kc_objfile_sym *s;

		if (d->kind != KC_DSEC_DATA || !d->entry || d->pair)
			continue;
		s = &cu->p->syms[d->entry];
		if (s->bind != STB_LOCAL || !cmp_norm(s->name, norm, sizeof(norm))) {
			cmp_pair_name(cu, i);
			continue;
		}
		/* no user in common: the static is new (its function is new), never guessed */
		oi = cmp_pair_by_users(cu, i, norm);
		if (oi) {
			d->pair = oi;
			cu->os[oi].pair = i;
		}
	}
	return 0;
}

/* ---- comparison ---- */

static int cmp_pcrel(uint32_t type)
{
	return type == R_X86_64_PC32 || type == R_X86_64_PLT32 || type == R_X86_64_GOTPCREL ||
	       type == R_X86_64_GOTPCRELX || type == R_X86_64_REX_GOTPCRELX ||
	       type == R_X86_64_PC64;
}

/*
 * The bytes a reference into a mergeable section may mean. The field's
 * distance to the end of the instruction is unknown (4 for lea, more
 * with an immediate) but the same on both sides, since the instructions
 * are equal: take every byte it could point at, up to the end of the
 * last string (or constant) that could be meant.
 */
static int cmp_window(const struct kc_objfile_sec *s, int64_t off, uint32_t type, int strings,
		      size_t *lo, size_t *hi)
{
	uint64_t size = s->sh.sh_size, es = s->sh.sh_entsize ? s->sh.sh_entsize : 1;
	int64_t a = off + (cmp_pcrel(type) ? 4 : 0), b = off + (cmp_pcrel(type) ? 12 : 0);
	const uint8_t *d = s->data ? s->data->d_buf : NULL;

	if (!d || a < 0 || (uint64_t)a >= size)
		return -1;
	if ((uint64_t)b >= size)
		b = (int64_t)size - 1;
	if (strings) {
		while ((uint64_t)b < size && d[b] != 0)
			b++;
		*hi = (uint64_t)b < size ? (size_t)b + 1 : size;
	} else {
		*hi = (uint64_t)b + es < size ? (size_t)(b + (int64_t)es) : size;
	}
	*lo = (size_t)a;
	return 0;
}

static int cmp_merged(const struct kc_dcu *cu, const struct kc_dref *ro, const struct kc_dref *rp,
		      uint32_t type, int strings)
{
	const struct kc_objfile_sec *os = &cu->o->secs[ro->sec], *ps = &cu->p->secs[rp->sec];
	size_t olo, ohi, plo, phi;

	if (cmp_window(os, ro->off, type, strings, &olo, &ohi) < 0 ||
	    cmp_window(ps, rp->off, type, strings, &plo, &phi) < 0)
		return ro->off == rp->off && os->sh.sh_size == ps->sh.sh_size;
	return ohi - olo == phi - plo && !memcmp((const uint8_t *)os->data->d_buf + olo,
						 (const uint8_t *)ps->data->d_buf + plo, ohi - olo);
}

static int cmp_ref_equal(struct kc_dcu *cu, const struct kc_dref *ro, const struct kc_dref *rp,
			 uint32_t type)
{
	const struct kc_dsec *ok, *pk;

	if (ro->undef != rp->undef)
		return 0;
	if (ro->undef)
		return !strcmp(ro->name, rp->name) && ro->off == rp->off;
	ok = &cu->os[ro->sec];
	pk = &cu->ps[rp->sec];
	if (ok->kind != pk->kind)
		return 0;
	switch (pk->kind) {
	case KC_DSEC_FUNC:
	case KC_DSEC_DATA:
	case KC_DSEC_MULTI:
		return pk->pair == ro->sec && ro->off == rp->off;
	case KC_DSEC_MSTR:
		return cmp_merged(cu, ro, rp, type, 1);
	case KC_DSEC_MCONST:
		return cmp_merged(cu, ro, rp, type, 0);
	case KC_DSEC_CONST:
	case KC_DSEC_FRAG:
		return ro->off == rp->off && kc_diff_sec_equal(cu, ro->sec, rp->sec);
	default:
		return 0;
	}
}

static struct kc_dcmp_memo *cmp_memo(struct kc_dcu *cu, size_t oi, size_t pi)
{
	for (size_t i = 0; i < cu->nmemo; i++)
		if (cu->memo[i].o == oi && cu->memo[i].p == pi)
			return &cu->memo[i];
	if (cu->nmemo == cu->capmemo) {
		size_t cap = cu->capmemo ? 2 * cu->capmemo : 64;
		struct kc_dcmp_memo *n = realloc(cu->memo, cap * sizeof(*n));

		if (!n)
			return NULL;
		cu->memo = n;
		cu->capmemo = cap;
	}
	cu->memo[cu->nmemo] = (struct kc_dcmp_memo){oi, pi, 0};
	return &cu->memo[cu->nmemo++];
}

static int cmp_raw_equal(struct kc_dcu *cu, size_t oi, size_t pi)
{
	const struct kc_objfile_sec *os = &cu->o->secs[oi], *ps = &cu->p->secs[pi];
	const uint64_t mask = SHF_WRITE | SHF_ALLOC | SHF_EXECINSTR | SHF_TLS;

	if (os->sh.sh_type != ps->sh.sh_type ||
	    (os->sh.sh_flags & mask) != (ps->sh.sh_flags & mask) ||
	    os->sh.sh_size != ps->sh.sh_size || os->nrelas != ps->nrelas)
		return 0;
	if (os->sh.sh_type != SHT_NOBITS &&
	    (!os->data != !ps->data ||
	     (os->data && memcmp(os->data->d_buf, ps->data->d_buf, os->sh.sh_size))))
		return 0;
	for (size_t k = 0; k < os->nrelas; k++) {
		const GElf_Rela *a = &os->relas[k], *b = &ps->relas[k];
		struct kc_dref ra, rb;

		if (a->r_offset != b->r_offset || GELF_R_TYPE(a->r_info) != GELF_R_TYPE(b->r_info))
			return 0;
		kc_diff_ref(cu->o, a, &ra);
		kc_diff_ref(cu->p, b, &rb);
		if (!cmp_ref_equal(cu, &ra, &rb, (uint32_t)GELF_R_TYPE(a->r_info)))
			return 0;
	}
	return 1;
}

int kc_diff_sec_equal(struct kc_dcu *cu, size_t oi, size_t pi)
{
	struct kc_dcmp_memo *m = cmp_memo(cu, oi, pi);
	int eq;

	if (!m)
		return 0; /* out of memory: "different" is the safe answer */
	if (m->state)
		return m->state != 3;
	m->state = 1;
	eq = cmp_raw_equal(cu, oi, pi);
	/* the memo array may have moved during the recursion */
	m = cmp_memo(cu, oi, pi);
	if (m)
		m->state = eq ? 2 : 3;
	return eq;
}

int kc_diff_compare(struct kc_dcu *cu, struct kc_err *err)
{
	const char *unit = cu->file ? cu->file : cu->rel;

	if (!cu->o)
		return 0;
	for (size_t pi = 1; pi < cu->p->nsecs; pi++) {
		struct kc_dsec *d = &cu->ps[pi];
		const char *name = kc_diff_sec_name(cu->p, d, pi);
		size_t oi = d->pair;

		switch (d->kind) {
		case KC_DSEC_FUNC:
			d->changed = oi && !kc_diff_sec_equal(cu, oi, pi);
			break;
		case KC_DSEC_MULTI:
			if (!oi || !kc_diff_sec_equal(cu, oi, pi))
				return kc_err_set(
				    err, -ENOTSUP,
				    "section '%s' of '%s' holds several functions and "
				    "changed (was it built with -ffunction-sections?)",
				    cu->p->secs[pi].name, unit);
			break;
		case KC_DSEC_DATA:
			if (!oi || kc_diff_sec_equal(cu, oi, pi))
				break;
			d->changed = 1;
			if (cu->o->secs[oi].sh.sh_size != cu->p->secs[pi].sh.sh_size)
				return kc_err_set(
				    err, -ENOTSUP,
				    "the fix changes the size of %sdata '%s' in '%s' (%llu -> %llu "
				    "bytes): a changed data layout cannot be patched live",
				    cu->p->syms[d->entry].bind == STB_LOCAL ? "" : "global ", name,
				    unit, (unsigned long long)cu->o->secs[oi].sh.sh_size,
				    (unsigned long long)cu->p->secs[pi].sh.sh_size);
			return kc_err_set(
			    err, -ENOTSUP,
			    "the fix changes the initial value of '%s' in '%s': existing "
			    "data cannot be re-initialised live",
			    name, unit);
		case KC_DSEC_OTHER:
			if (!oi || !kc_diff_sec_equal(cu, oi, pi))
				return kc_err_set(
				    err, -ENOTSUP,
				    "the fix changes section '%s' of '%s' (constructors "
				    "and the like cannot be patched live)",
				    cu->p->secs[pi].name, unit);
			break;
		default:
			break;
		}
	}
	/* a global datum the fix removes or resizes is a layout change too */
	for (size_t oi = 1; oi < cu->o->nsecs; oi++) {
		const struct kc_dsec *d = &cu->os[oi];

		if (d->kind == KC_DSEC_DATA && d->entry && !d->pair &&
		    cu->o->syms[d->entry].bind != STB_LOCAL)
			return kc_err_set(err, -ENOTSUP,
					  "the fix removes or retypes global data '%s' in '%s'",
					  cu->o->syms[d->entry].name, unit);
	}
	return 0;
}
