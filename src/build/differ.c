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
#include <stdbool.h>
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

/* What every target of a run shares: the options and the builds. */
struct differ_run {
	const struct kc_differ_opts *o;
	struct kc_dbuild b;
	char **oobjs, **pobjs; /* owned: objects of both builds, relative */
	size_t noobjs, npobjs;
};

/* One target of the run. */
struct differ_ctx {
	struct differ_run *run;
	struct kc_differ_target *t;
	size_t index; /* in the run, for the names of its files in the work directory */
	bool written; /* its patch file is this run's */
	struct kc_target *tgt;
	char *ref; /* owned: a file identical to the target */
	struct kc_dsymtab st;
	struct kc_diff d;
};

static int differ_is_obj(const char *path)
{
	size_t n = strlen(path);

	return n > 2 && !strcmp(path + n - 2, ".o");
}

/* Identity first: a patch is only ever made for code that is the target's. */
/*
 * Identity first: a patch is only ever made for code that is the target's.
 * Without a reference, the file of the tree's own build ("ref", built once
 * for all targets before the run) that has the target's code.
 */
static int differ_reference(struct differ_ctx *x, struct kc_err *err)
{
	const struct kc_differ_target *t = x->t;
	char why[256], label[32];
	Elf *e;
	int fd, same, ret;

	if (!t->reference) {
		char *found = NULL;

		if ((ret = kc_dsym_find_identical(x->run->b.tree, t->target, &found, err)) < 0)
			return ret;
		/* the tree is rebuilt next: keep the file for its symbols */
		snprintf(label, sizeof(label), x->index ? "ref-%zu" : "ref", x->index);
		ret = kc_dbuild_save(&x->run->b, found, label, &x->ref, err);
		free(found);
		return ret;
	}
	fd = open(t->reference, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", t->reference,
				  strerror(errno));
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	same = e && elf_kind(e) == ELF_K_ELF && kc_dsym_same_code(x->tgt->elf, e, why, sizeof(why));
	if (e)
		elf_end(e);
	close(fd);
	if (!same)
		return kc_err_set(err, -ESRCH, "'%s' is not the same code as target '%s': %s",
				  t->reference, t->target, e ? why : "not an ELF file");
	x->ref = strdup(t->reference);
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

static int differ_build(struct differ_run *x, struct kc_err *err)
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

static int differ_build_patched(struct differ_run *x, struct kc_err *err)
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
	const struct kc_differ_opts *o = x->run->o;
	const struct kc_differ_target *t = x->t;
	struct kc_pack_bind *binds = NULL;
	struct kc_pack_opts po = o->pack;
	struct kc_pack_result res = {0};
	struct kc_objfile *obj = NULL;
	size_t nbinds = 0, nrepl = 0;
	char name[32], id[64], *fix, *dot;
	int ret;

	snprintf(name, sizeof(name), x->index ? "fix-%zu.o" : "fix.o", x->index);
	if (!(fix = kc_dbuild_path(&x->run->b, name, NULL)))
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t c = 0; c < x->d.ncus; c++)
		for (size_t i = 1; i < x->d.cus[c].p->nsecs; i++)
			nrepl += x->d.cus[c].ps[i].replace;
	if (!nrepl) {
		ret = kc_err_set(err, -ENODATA, "the diff changes no function of '%s'", t->target);
		goto out;
	}
	if ((ret = kc_emit_fix(&x->d, fix, &binds, &nbinds, err)) < 0 ||
	    (ret = kc_objfile_open(fix, &obj, err)) < 0)
		goto out;
	po.target = t->target;
	po.object = fix;
	po.output = t->output;
	po.binds = binds;
	po.nbinds = nbinds;
	po.binds_only = 1;
	if (!po.id) {
		/* default id: the diff's file name without its extension */
		kc_pack_default_id(o->diff, id, sizeof(id));
		if ((dot = strrchr(id, '.')) != NULL && dot != id)
			*dot = '\0';
		po.id = id;
	}
	if ((ret = kc_pack_build(x->tgt, obj, &po, &res, err)) < 0)
		goto out;
	if ((ret = kc_patch_write_file_labels(res.patch, res.labels, res.nlabels, t->output, err)) <
	    0)
		goto out;
	struct kc_pack_summary *ps = &sum->pack;

	snprintf(ps->id, sizeof(ps->id), "%s", res.patch->id);
	ps->level = res.patch->level;
	snprintf(ps->target_name, sizeof(ps->target_name), "%s", res.patch->target_name);
	kc_buildid_to_hex(&res.patch->build_id, ps->build_id, sizeof(ps->build_id));
	ps->nreplaced = res.nreplaced;
	ps->nnew = res.nnew;
	ret = differ_summary(x, sum, err);
out:
	kc_pack_result_release(&res);
	kc_objfile_close(obj);
	free(binds);
	free(fix);
	return ret;
}

/* Everything after the builds, for one target: its units, the comparison, the patch. */
static int differ_target(struct differ_ctx *x, struct kc_err *err)
{
	struct differ_run *run = x->run;
	int ret = kc_diff_units(&x->d, &run->b, run->pobjs, run->npobjs, x->t->target, err);

	for (size_t i = 0; i < x->d.ncus && ret == 0; i++)
		if ((ret = kc_diff_pair(&x->d.cus[i], err)) == 0)
			ret = kc_diff_compare(&x->d.cus[i], err);
	if (ret == 0)
		ret = kc_diff_include(&x->d, err);
	if (ret == 0)
		ret = differ_pack(x, &x->t->sum, err);
	if (ret == 0)
		x->written = true;
	return ret;
}

static void differ_ctx_release(struct differ_ctx *x)
{
	for (size_t i = 0; i < x->d.ncus; i++)
		kc_diff_cu_release(&x->d.cus[i]);
	free(x->d.cus);
	x->d.cus = NULL;
	x->d.ncus = 0;
	kc_dsymtab_release(&x->st);
	free(x->ref);
	x->ref = NULL;
	kc_target_close(x->tgt);
	x->tgt = NULL;
}

/* A target's failure is its own: recorded, and the run goes on with the others. */
static void differ_target_failed(struct differ_ctx *x, int ret, struct kc_err *err)
{
	x->t->ret = ret;
	x->t->err = *err;
	kc_differ_summary_release(&x->t->sum);
	kc_err_clear(err);
	differ_ctx_release(x);
}

int kc_differ_run_many(const struct kc_differ_opts *o, struct kc_differ_target *t, size_t n,
		       struct kc_err *err)
{
	struct differ_run run = {0};
	struct kc_differ_opts abs;
	struct differ_ctx *xs = NULL;
	struct stat st;
	char *src = NULL;
	size_t live = n;
	int ret = 0;

	KC_BUG_ON(!o || !o->src || !o->diff || (n && !t));
	for (size_t i = 0; i < n; i++) {
		KC_BUG_ON(!t[i].target || !t[i].output);
		t[i].ret = 0;
		t[i].err = (struct kc_err)KC_ERR_INIT;
		memset(&t[i].sum, 0, sizeof(t[i].sum));
	}
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
	run.o = &abs;
	if (!(xs = calloc(n ? n : 1, sizeof(*xs)))) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((ret = kc_dbuild_init(&run.b, o->work_dir, o->build_path, err)) < 0)
		goto out;
	/* the tree's own build, once, for the targets that come without a reference */
	for (size_t i = 0; i < n; i++)
		if (!t[i].reference) {
			const char *cmd = o->build_cmd ? o->build_cmd : "make";

			if ((ret = kc_dbuild_fill(&run.b, src, err)) < 0 ||
			    (ret = kc_dbuild_make(&run.b, "ref", cmd, 0, err)) < 0)
				goto out;
			break;
		}
	/* phases: identity and symbols of each target, builds, then each target's patch */
	for (size_t i = 0; i < n; i++) {
		struct differ_ctx *x = &xs[i];

		x->run = &run;
		x->t = &t[i];
		x->index = i;
		x->st.fd = -1;
		ret = kc_target_open(t[i].target, o->pack.debug_dir, &x->tgt, err);
		if (ret == 0)
			ret = differ_reference(x, err);
		if (ret == 0)
			ret = differ_symbols(x, err);
		if (ret == -ENOMEM || kc_differ_interrupted)
			goto out;
		if (ret < 0) {
			differ_target_failed(x, ret, err);
			live--;
		}
	}
	ret = 0;
	if (!live)
		goto out;
	if ((ret = differ_build(&run, err)) < 0 || (ret = differ_build_patched(&run, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct differ_ctx *x = &xs[i];

		if (t[i].ret < 0)
			continue;
		x->d.st = &x->st;
		x->d.tgt = x->tgt;
		ret = differ_target(x, err);
		if (ret == -ENOMEM || kc_differ_interrupted)
			goto out;
		if (ret < 0)
			differ_target_failed(x, ret, err);
		else
			differ_ctx_release(x);
	}
	ret = 0;
out:
	if (kc_differ_interrupted)
		ret = kc_err_set(err, -EINTR, "interrupted");
	for (size_t i = 0; ret < 0 && i < n; i++) {
		/* the run failed as a whole: no patch of it is left behind (and no older file is
		 * lost) */
		if (xs && xs[i].written)
			unlink(t[i].output);
		kc_differ_summary_release(&t[i].sum);
	}
	for (size_t i = 0; xs && i < n; i++)
		differ_ctx_release(&xs[i]);
	free(xs);
	kc_dbuild_list_free(run.oobjs, run.noobjs);
	kc_dbuild_list_free(run.pobjs, run.npobjs);
	kc_dbuild_release(&run.b);
	free(src);
	return ret;
}

int kc_differ_run(const struct kc_differ_opts *o, struct kc_differ_summary *sum, struct kc_err *err)
{
	struct kc_differ_target t = {
	    .target = o->target, .reference = o->reference, .output = o->output};
	int ret;

	KC_BUG_ON(!o->target || !o->output);
	if (sum)
		memset(sum, 0, sizeof(*sum));
	ret = kc_differ_run_many(o, &t, 1, err);
	if (ret == 0 && t.ret < 0) {
		*err = t.err;
		ret = t.ret;
	}
	if (ret == 0 && sum)
		*sum = t.sum;
	else
		kc_differ_summary_release(&t.sum);
	return ret;
}

int kc_differ_verdict(struct kc_differ_target *t, size_t n, struct kc_err *err)
{
	size_t written = 0;
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++) {
		if (t[i].ret == 0) {
			written++;
		} else if (t[i].ret != -ENODATA) {
			*err = t[i].err;
			/* most refusals name a function; those that name the file need no prefix */
			ret = strstr(err->msg, t[i].target)
				  ? err->code
				  : kc_err_prefix(err, "'%s'", t[i].target);
		}
	}
	if (ret == 0 && !written)
		ret = kc_err_set(err, -ENODATA, "the diff changes none of the %zu targets", n);
	for (size_t i = 0; ret < 0 && i < n; i++)
		if (t[i].ret == 0)
			unlink(t[i].output);
	return ret;
}

void kc_differ_summary_release(struct kc_differ_summary *sum)
{
	if (!sum)
		return;
	free(sum->funcs);
	memset(sum, 0, sizeof(*sum));
}
