// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The object differ's pipeline (see differ.h): check that the sources
 * rebuild the target, build the original and patched sources with one
 * function per section, pick the objects that changed, compare them
 * (differ-cmp.c), choose what the fix carries (differ-include.c), write
 * the fix object (differ-emit.c) and pack it with kc_pack_build(). The
 * patch is always keyed by the target's own build-id.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/differ-build.h"
#include "build/differ-int.h"
#include "build/differ.h"
#include "build/objfile.h"
#include "build/target.h"
#include "lib/patchfile.h"

struct differ_ctx {
	const struct kc_differ_opts *o;
	struct kc_dbuild b;
	struct kc_target *tgt;
	char *ref; /* owned: a file identical to the target */
	struct kc_dsymtab st;
	struct kc_diff d;
	char **oobjs, **pobjs; /* owned: objects of both builds, relative */
	size_t noobjs, npobjs;
};

static int differ_is_obj(const char *path)
{
	size_t n = strlen(path);

	return n > 2 && !strcmp(path + n - 2, ".o");
}

/* 1 if the files hold the same bytes, 0 if not, <0 on error. */
static int differ_same_file(const char *a, const char *b)
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

/* Identity first: a patch is only ever made for code that is the target's. */
static int differ_reference(struct differ_ctx *x, struct kc_err *err)
{
	const struct kc_differ_opts *o = x->o;
	char why[256];
	Elf *e;
	int fd, same, ret;

	if (!o->reference) {
		const char *cmd = o->build_cmd ? o->build_cmd : "make";
		char *found = NULL;

		if ((ret = kc_dbuild_fill(&x->b, o->src, err)) < 0 ||
		    (ret = kc_dbuild_make(&x->b, "ref", cmd, 0, err)) < 0 ||
		    (ret = kc_dsym_find_identical(x->b.tree, o->target, &found, err)) < 0)
			return ret;
		/* the tree is rebuilt next: keep the file for its symbols */
		ret = kc_dbuild_save(&x->b, found, &x->ref, err);
		free(found);
		return ret;
	}
	fd = open(o->reference, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", o->reference,
				  strerror(errno));
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	same = e && elf_kind(e) == ELF_K_ELF && kc_dsym_same_code(x->tgt->elf, e, why, sizeof(why));
	if (e)
		elf_end(e);
	close(fd);
	if (!same)
		return kc_err_set(err, -ESRCH, "'%s' is not the same code as target '%s': %s",
				  o->reference, o->target, e ? why : "not an ELF file");
	x->ref = strdup(o->reference);
	return x->ref ? 0 : kc_err_set(err, -ENOMEM, "out of memory");
}

/* The target's .symtab, else its debug file's, else the identical rebuild's. */
static int differ_symbols(struct differ_ctx *x, struct kc_err *err)
{
	int ret = kc_dsymtab_from_elf(&x->st, x->tgt->elf, err);

	if (ret == -ENOENT && x->tgt->dbg) {
		kc_dsymtab_release(&x->st);
		ret = kc_dsymtab_from_elf(&x->st, x->tgt->dbg, err);
	}
	if (ret == -ENOENT) {
		kc_dsymtab_release(&x->st);
		ret = kc_dsymtab_open(&x->st, x->ref, err);
	}
	return ret;
}

static int differ_build(struct differ_ctx *x, struct kc_err *err)
{
	const struct kc_differ_opts *o = x->o;
	const char *cmd = o->build_cmd ? o->build_cmd : "make";
	char *dir = NULL;
	int ret;

	if ((ret = kc_dbuild_fill(&x->b, o->src, err)) < 0 ||
	    (ret = kc_dbuild_make(&x->b, "orig", cmd, 1, err)) < 0 ||
	    (ret = kc_dbuild_snapshot(&x->b, "orig", err)) < 0)
		return ret;
	if (!(dir = kc_dbuild_path(&x->b, "orig", NULL)))
		return kc_err_set(err, -ENOMEM, "out of memory");
	ret = kc_dbuild_list(dir, differ_is_obj, &x->oobjs, &x->noobjs, err);
	free(dir);
	return ret;
}

static int differ_build_patched(struct differ_ctx *x, struct kc_err *err)
{
	const struct kc_differ_opts *o = x->o;
	int ret;

	/*
	 * The patched build starts from the built original in the same tree,
	 * so only the units the diff touches are rebuilt; a diff touching
	 * headers gets a full build, since a Makefile may not track header
	 * dependencies.
	 */
	if (!kc_dbuild_diff_sources_only(o->diff) && (ret = kc_dbuild_fill(&x->b, o->src, err)) < 0)
		return ret;
	if ((ret = kc_dbuild_patch(&x->b, o->diff, err)) < 0 ||
	    (ret = kc_dbuild_make(&x->b, "patched", o->build_cmd ? o->build_cmd : "make", 1, err)) <
		0)
		return ret;
	return kc_dbuild_list(x->b.tree, differ_is_obj, &x->pobjs, &x->npobjs, err);
}

/*
 * Whether the unit of @cu is linked into the target. Its STT_FILE name is
 * not proof (another program of the tree may have a unit of that name),
 * so every static function and object of the original object must be a
 * static of that unit in the target too, objects with the same size; a
 * unit without statics needs one of its global functions in the target.
 */
static int differ_in_target(const struct differ_ctx *x, const struct kc_dcu *cu)
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
				   kc_dsymtab_lookup(&x->st, NULL, os->name, 0, &s, NULL) == 0;
			continue;
		}
		if (!cu->file)
			return 0;
		ret = kc_dsymtab_lookup(&x->st, cu->file, os->name, 1, &s, NULL);
		if (ret == -ENOENT ||
		    (ret == 0 && os->type == STT_OBJECT && s->size != os->sym.st_size))
			return 0;
		locals++;
	}
	return locals || globals;
}

/*
 * How many functions of @cu's original object that the target defines do
 * not have the target's code (size, or bytes outside linker-written
 * fields), or < 0 on error. Not zero for the right unit either when the
 * assembler shortened a jump to a function of the same section in the
 * target (it cannot across the sections of our build), so this only
 * chooses among units that the symbols cannot tell apart.
 */
static int differ_code_mismatches(const struct differ_ctx *x, const struct kc_dcu *cu,
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
		if (kc_dsymtab_lookup(&x->st, os->bind == STB_LOCAL ? cu->file : NULL, os->name,
				      os->bind == STB_LOCAL, &s, NULL) < 0)
			continue;
		if (s->size != os->sym.st_size) {
			bad++;
			continue;
		}
		ret = kc_diff_code_same(x->tgt, s->value, &o->secs[os->sym.st_shndx],
					os->sym.st_value, os->sym.st_size, &at, err);
		if (ret < 0)
			return ret;
		bad += ret == 0;
	}
	return bad;
}

/* Whether @o defines function @name with that binding (clones aside). */
static int differ_defines(const struct kc_objfile *o, const char *name, int global)
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
static int differ_twins(const struct kc_dcu *a, const struct kc_dcu *b)
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
			if (!differ_defines(y, s->name, s->bind != STB_LOCAL))
				return 0;
			na++;
		}
	}
	return na > 0;
}

static void differ_drop_unit(struct differ_ctx *x, size_t i)
{
	kc_diff_cu_release(&x->d.cus[i]);
	memmove(&x->d.cus[i], &x->d.cus[i + 1], (x->d.ncus - i - 1) * sizeof(x->d.cus[0]));
	x->d.ncus--;
}

/*
 * Changed units that share an STT_FILE name (the static library's second
 * compilation of a source, another program's unit of the same name): when
 * some of them have the target's code and others do not, only the former
 * are linked into the target; of twins with the target's code, one is kept.
 * Anything else is left for the later checks to refuse.
 */
static int differ_same_name_units(struct differ_ctx *x, struct kc_err *err)
{
	for (size_t i = 0; i < x->d.ncus; i++) {
		const char *file = x->d.cus[i].file;
		int *bad, best = -1, ret = 0, dropped;

		size_t same = 0;

		for (size_t j = i + 1; file && j < x->d.ncus; j++)
			same +=
			    x->d.cus[j].o && x->d.cus[j].file && !strcmp(x->d.cus[j].file, file);
		if (!same || !x->d.cus[i].o)
			continue;
		bad = calloc(x->d.ncus, sizeof(*bad));
		if (!bad)
			return kc_err_set(err, -ENOMEM, "out of memory");
		for (size_t j = i; j < x->d.ncus && ret >= 0; j++) {
			const struct kc_dcu *cu = &x->d.cus[j];

			bad[j] = -1;
			if (j > i && (!cu->o || !cu->file || strcmp(cu->file, file)))
				continue;
			ret = bad[j] = differ_code_mismatches(x, cu, err);
			if (ret >= 0 && (best < 0 || ret < best))
				best = ret;
		}
		for (size_t j = x->d.ncus; ret >= 0 && best == 0 && j-- > i;) {
			if (bad[j] > 0 || (bad[j] == 0 && j > i && bad[i] == 0 &&
					   differ_twins(&x->d.cus[i], &x->d.cus[j])))
				differ_drop_unit(x, j);
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

static int differ_units(struct differ_ctx *x, struct kc_err *err)
{
	size_t cap = 0;
	int ret;

	for (size_t i = 0; i < x->npobjs; i++) {
		char *pp = kc_dbuild_tree_path(&x->b, x->pobjs[i]);
		char *op = kc_dbuild_path(&x->b, "orig", x->pobjs[i]);
		struct kc_dcu *cu;
		int same = -1, exists;

		if (!pp || !op) {
			free(pp);
			free(op);
			return kc_err_set(err, -ENOMEM, "out of memory");
		}
		exists = access(op, F_OK) == 0;
		if (exists)
			same = differ_same_file(op, pp);
		if (same == 1) {
			free(pp);
			free(op);
			continue;
		}
		if (x->d.ncus == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct kc_dcu *n = realloc(x->d.cus, ncap * sizeof(*n));

			if (!n) {
				free(pp);
				free(op);
				return kc_err_set(err, -ENOMEM, "out of memory");
			}
			x->d.cus = n;
			cap = ncap;
		}
		cu = &x->d.cus[x->d.ncus++];
		memset(cu, 0, sizeof(*cu));
		cu->rel = strdup(x->pobjs[i]);
		ret = cu->rel ? kc_diff_cu_open(cu, exists ? op : NULL, pp, err)
			      : kc_err_set(err, -ENOMEM, "out of memory");
		free(pp);
		free(op);
		if (ret < 0)
			return ret;
		/* a changed unit of another program of the tree is none of our business */
		if (cu->o && !differ_in_target(x, cu)) {
			kc_diff_cu_release(cu);
			x->d.ncus--;
		}
	}
	if ((ret = differ_same_name_units(x, err)) < 0)
		return ret;
	for (size_t i = 0; i < x->d.ncus; i++)
		if (x->d.cus[i].o)
			return 0;
	return kc_err_set(err, -ENODATA, "the diff changes no object file linked into '%s'",
			  x->o->target);
}

static int differ_summary(struct differ_ctx *x, struct kc_differ_summary *sum, struct kc_err *err)
{
	for (size_t c = 0; c < x->d.ncus; c++) {
		struct kc_dcu *cu = &x->d.cus[c];

		for (size_t i = 1; i < cu->p->nsecs; i++) {
			struct kc_dsec *s = &cu->ps[i];
			struct kc_differ_func *f, *n;

			if (!s->include || s->kind != KC_DSEC_FUNC)
				continue;
			n = realloc(sum->funcs, (sum->nfuncs + 1) * sizeof(*n));
			if (!n)
				return kc_err_set(err, -ENOMEM, "out of memory");
			sum->funcs = n;
			f = &sum->funcs[sum->nfuncs++];
			memset(f, 0, sizeof(*f));
			snprintf(f->name, sizeof(f->name), "%s",
				 s->replace ? cu->o->syms[cu->os[s->pair].entry].name
					    : cu->p->syms[s->entry].name);
			snprintf(f->unit, sizeof(f->unit), "%s", cu->file ? cu->file : cu->rel);
			f->replaced = s->replace;
		}
	}
	return 0;
}

static int differ_pack(struct differ_ctx *x, struct kc_differ_summary *sum, struct kc_err *err)
{
	struct kc_pack_bind *binds = NULL;
	struct kc_pack_opts po = x->o->pack;
	struct kc_pack_result res = {0};
	struct kc_objfile *obj = NULL;
	size_t nbinds = 0, nrepl = 0;
	char *fix = kc_dbuild_path(&x->b, "fix.o", NULL), id[64], *dot;
	int ret;

	if (!fix)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t c = 0; c < x->d.ncus; c++)
		for (size_t i = 1; i < x->d.cus[c].p->nsecs; i++)
			nrepl += x->d.cus[c].ps[i].replace;
	if (!nrepl) {
		ret =
		    kc_err_set(err, -ENODATA, "the diff changes no function of '%s'", x->o->target);
		goto out;
	}
	if ((ret = kc_emit_fix(&x->d, fix, &binds, &nbinds, err)) < 0 ||
	    (ret = kc_objfile_open(fix, &obj, err)) < 0)
		goto out;
	po.target = x->o->target;
	po.object = fix;
	po.output = x->o->output;
	po.binds = binds;
	po.nbinds = nbinds;
	po.binds_only = 1;
	if (!po.id) {
		/* default id: the diff's file name without its extension */
		kc_pack_default_id(x->o->diff, id, sizeof(id));
		if ((dot = strrchr(id, '.')) != NULL && dot != id)
			*dot = '\0';
		po.id = id;
	}
	if ((ret = kc_pack_build(x->tgt, obj, &po, &res, err)) < 0)
		goto out;
	if ((ret = kc_patch_write_file_labels(res.patch, res.labels, res.nlabels, x->o->output,
					      err)) < 0)
		goto out;
	if (sum) {
		struct kc_pack_summary *ps = &sum->pack;

		snprintf(ps->id, sizeof(ps->id), "%s", res.patch->id);
		ps->level = res.patch->level;
		snprintf(ps->target_name, sizeof(ps->target_name), "%s", res.patch->target_name);
		kc_buildid_to_hex(&res.patch->build_id, ps->build_id, sizeof(ps->build_id));
		ps->nreplaced = res.nreplaced;
		ps->nnew = res.nnew;
		ret = differ_summary(x, sum, err);
	}
out:
	kc_pack_result_release(&res);
	kc_objfile_close(obj);
	free(binds);
	free(fix);
	return ret;
}

void kc_differ_summary_release(struct kc_differ_summary *sum)
{
	if (!sum)
		return;
	free(sum->funcs);
	memset(sum, 0, sizeof(*sum));
}

int kc_differ_run(const struct kc_differ_opts *o, struct kc_differ_summary *sum, struct kc_err *err)
{
	struct differ_ctx x = {.o = o};
	struct kc_differ_opts abs;
	struct stat st;
	char *src = NULL;
	int ret;

	KC_BUG_ON(!o || !o->target || !o->src || !o->diff || !o->output);
	if (sum)
		memset(sum, 0, sizeof(*sum));
	x.st.fd = -1;
	if (stat(o->src, &st) < 0 || !S_ISDIR(st.st_mode))
		return kc_err_set(err, -ENOENT, "source directory '%s' does not exist", o->src);
	if (access(o->diff, R_OK) < 0)
		return kc_err_set(err, -errno, "cannot read diff '%s': %s", o->diff,
				  strerror(errno));
	/* builds run elsewhere: the source tree by its absolute path */
	if (!(src = realpath(o->src, NULL)))
		return kc_err_set(err, -errno, "cannot resolve '%s': %s", o->src, strerror(errno));
	abs = *o;
	abs.src = src;
	x.o = o = &abs;
	if ((ret = kc_target_open(o->target, o->pack.debug_dir, &x.tgt, err)) < 0)
		goto out;
	/* phases: identity, symbols, builds, units, comparison, inclusion, packing */
	if ((ret = kc_dbuild_init(&x.b, o->work_dir, o->build_path, err)) < 0 ||
	    (ret = differ_reference(&x, err)) < 0 || (ret = differ_symbols(&x, err)) < 0 ||
	    (ret = differ_build(&x, err)) < 0 || (ret = differ_build_patched(&x, err)) < 0 ||
	    (ret = differ_units(&x, err)) < 0)
		goto out;
	x.d.st = &x.st;
	x.d.tgt = x.tgt;
	for (size_t i = 0; i < x.d.ncus && ret == 0; i++)
		if ((ret = kc_diff_pair(&x.d.cus[i], err)) == 0)
			ret = kc_diff_compare(&x.d.cus[i], err);
	if (ret == 0)
		ret = kc_diff_include(&x.d, err);
	if (ret == 0)
		ret = differ_pack(&x, sum, err);
out:
	if (ret < 0 && kc_differ_interrupted)
		ret = kc_err_set(err, -EINTR, "interrupted");
	if (ret < 0 && sum)
		kc_differ_summary_release(sum);
	for (size_t i = 0; i < x.d.ncus; i++)
		kc_diff_cu_release(&x.d.cus[i]);
	free(x.d.cus);
	kc_dbuild_list_free(x.oobjs, x.noobjs);
	kc_dbuild_list_free(x.pobjs, x.npobjs);
	kc_dsymtab_release(&x.st);
	free(x.ref);
	kc_dbuild_release(&x.b);
	kc_target_close(x.tgt);
	free(src);
	return ret;
}
