// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The packing pipeline: target + fix object -> struct kc_patch -> file.
 * The passes are those of packctx.h (layout, binding and relocation),
 * then this file picks the replaced functions (every function defined in
 * the fix whose name is a function of the target), fills the metadata
 * and hands the patch to the writer. kc_pack_build() does not touch the
 * file system, so other front ends can reuse it on objects they made.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build/ifunc.h"
#include "build/pack.h"
#include "build/packctx.h"
#include "build/pad.h"
#include "lib/patchfile.h"

void kc_pack_default_id(const char *object, char *buf, size_t bufsz)
{
	const char *base = strrchr(object, '/');
	size_t n, k = 0;

	base = base ? base + 1 : object;
	n = strlen(base);
	if (n > 2 && !strcmp(base + n - 2, ".o"))
		n -= 2;
	for (size_t i = 0; i < n && k + 1 < bufsz && k < 63; i++) {
		char ch = base[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';

		buf[k++] = ok ? ch : '_';
	}
	if (k == 0 && bufsz > 5)
		k = (size_t)snprintf(buf, bufsz, "patch");
	if (bufsz)
		buf[k < bufsz ? k : bufsz - 1] = '\0';
}

void kc_pack_result_release(struct kc_pack_result *res)
{
	if (!res)
		return;
	kc_patch_free(res->patch);
	for (size_t i = 0; i < res->nlabels; i++)
		free((char *)res->labels[i].name);
	free(res->labels);
	memset(res, 0, sizeof(*res));
}

static int pack_label(struct kc_pack_result *res, const char *name, const char *suffix,
		      uint64_t value, uint64_t size, struct kc_err *err)
{
	struct kc_patch_label *n = realloc(res->labels, (res->nlabels + 1) * sizeof(*n));
	char *copy;

	if (!n)
		return kc_err_set(err, -ENOMEM, "out of memory");
	res->labels = n;
	if (asprintf(&copy, "%s%s", name, suffix) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	res->labels[res->nlabels++] = (struct kc_patch_label){copy, value, size};
	return 0;
}

const struct kc_pack_bind *kc_pack_find_bind(const struct kc_pack_ctx *c, size_t sym)
{
	const struct kc_pack_opts *o = c->opts;

	for (size_t i = 0; o && i < o->nbinds; i++)
		if (o->binds[i].sym == sym)
			return &o->binds[i];
	return NULL;
}

#define KC_PACK_JUMP_SIZE 5u /* jmp rel32 */

/* One replaced function of the target (@ts, by @sym of the fix): size checks and original bytes. */
static int pack_replace(struct kc_pack_ctx *c, size_t sym, const struct kc_target_sym *ts,
			struct kc_err *err)
{
	const struct kc_objfile_sym *s = &c->obj->syms[sym];
	struct kc_patch *p = c->patch;
	struct kc_patch_func *f;
	struct kc_patch_func *n;
	uint64_t covered = ts->size < KC_PACK_JUMP_SIZE ? KC_PACK_JUMP_SIZE : ts->size;
	int ret;

	if (ts->size == 0)
		return kc_err_set(err, -ENOEXEC, "function '%s' has size 0 in the target",
				  ts->name);
	/* a shorter function may spill into the padding after it, if nothing uses that */
	if (ts->size < KC_PACK_JUMP_SIZE &&
	    (ret = kc_pad_check(c->tgt, ts->name, ts->value, ts->size, KC_PACK_JUMP_SIZE, err)) < 0)
		return ret;
	if (s->sym.st_size == 0)
		return kc_err_set(err, -ENOEXEC, "function '%s' has size 0 in the fix", s->name);
	for (size_t i = 0; i < p->nfuncs; i++)
		if (p->funcs[i].target_value == ts->value)
			return kc_err_set(err, -ENOEXEC,
					  "the fix replaces '%s' twice (the second time by '%s')",
					  ts->name, s->name);
	n = realloc(p->funcs, (p->nfuncs + 1) * sizeof(*n));
	if (!n)
		return kc_err_set(err, -ENOMEM, "out of memory");
	p->funcs = n;
	f = &p->funcs[p->nfuncs];
	memset(f, 0, sizeof(*f));
	f->name = strdup(ts->name);
	if (!f->name)
		return kc_err_set(err, -ENOMEM, "out of memory");
	p->nfuncs++;
	f->target_value = ts->value;
	/* the range the patch takes over: the function, and the padding its jump uses */
	f->target_size = covered;
	f->image_off = kc_pack_sym_off(c, sym);
	f->image_size = s->sym.st_size;
	f->orig_len = covered < KC_PF_ENTRY_MAX ? (uint32_t)covered : KC_PF_ENTRY_MAX;
	return kc_target_read(c->tgt, ts->value, f->orig, f->orig_len, err);
}

/*
 * A fix of an IFUNC (strlen in libc) replaces every implementation its
 * resolver can return: which one a process bound depends on its CPU.
 */
static int pack_ifunc(struct kc_pack_ctx *c, size_t sym, const struct kc_target_sym *ts,
		      struct kc_err *err)
{
	const struct kc_target_sym *impls[KC_IFUNC_MAX];
	size_t n;
	int ret = kc_ifunc_impls(c->tgt, ts, impls, &n, err);

	for (size_t k = 0; ret == 0 && k < n; k++)
		ret = pack_replace(c, sym, impls[k], err);
	return ret;
}

static int pack_funcs(struct kc_pack_ctx *c, struct kc_pack_result *res, struct kc_err *err)
{
	int ret;

	for (size_t i = 1; i < c->obj->nsyms; i++) {
		const struct kc_objfile_sym *s = &c->obj->syms[i];
		const struct kc_target_sym *ts = NULL;
		const struct kc_pack_bind *pb;
		struct kc_target_sym bound;

		if (s->type != STT_FUNC || s->sym.st_shndx == SHN_UNDEF ||
		    s->sym.st_shndx >= SHN_LORESERVE || c->kind[s->sym.st_shndx] != KC_SEC_TEXT ||
		    !*s->name)
			continue;
		pb = kc_pack_find_bind(c, i);
		if (pb && pb->replace) {
			bound = (struct kc_target_sym){s->name, pb->value, pb->size, pb->type,
						       pb->bind};
			ts = &bound;
		} else if (!c->opts || !c->opts->binds_only) {
			ret = kc_target_lookup(c->tgt, s->name, &ts, err);
			if (ret < 0 && ret != -ENOENT)
				return ret;
		}
		if (ts && ts->type == STT_FUNC) {
			if ((ret = pack_replace(c, i, ts, err)) < 0)
				return ret;
			res->nreplaced++;
		} else if (ts && ts->type == STT_GNU_IFUNC && !pb) {
			if ((ret = pack_ifunc(c, i, ts, err)) < 0)
				return ret;
			res->nreplaced++;
		} else {
			res->nnew++;
		}
		ret = pack_label(res, s->name, "", kc_pack_sym_off(c, i), s->sym.st_size, err);
		if (ret < 0)
			return ret;
	}
	for (size_t i = 1; i < c->obj->nsyms; i++)
		if (c->bind[i].need_stub &&
		    (ret = pack_label(res, c->patch->syms[c->bind[i].pf].name, "@plt",
				      c->bind[i].stub, 8, err)) < 0)
			return ret;
	if (!res->nreplaced)
		return kc_err_set(err, -ENOEXEC, "no function of '%s' replaces a function of '%s'",
				  c->obj->path, c->tgt->path);
	return 0;
}

static char *pack_strdup(const char *s)
{
	return strdup(s ? s : "");
}

static int pack_meta(struct kc_pack_ctx *c, const struct kc_pack_opts *o, struct kc_err *err)
{
	struct kc_patch *p = c->patch;
	char id[64];
	const char *epoch = getenv("SOURCE_DATE_EPOCH");

	if (!o->id)
		kc_pack_default_id(c->obj->path, id, sizeof(id));
	p->id = pack_strdup(o->id ? o->id : id);
	p->level = o->level ? o->level : 1;
	p->description = pack_strdup(o->description);
	p->target_name = pack_strdup(kc_target_name(c->tgt));
	p->target_path = pack_strdup(c->tgt->path);
	if (!p->id || !p->description || !p->target_name || !p->target_path)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (o->ncves) {
		p->cves = calloc(o->ncves, sizeof(*p->cves));
		if (!p->cves)
			return kc_err_set(err, -ENOMEM, "out of memory");
		for (; p->ncves < o->ncves; p->ncves++)
			if (!(p->cves[p->ncves] = strdup(o->cves[p->ncves])))
				return kc_err_set(err, -ENOMEM, "out of memory");
	}
	p->build_id = c->tgt->build_id;
	/* reproducible builds: honour SOURCE_DATE_EPOCH when set */
	p->created = epoch && *epoch ? strtoull(epoch, NULL, 10) : (uint64_t)time(NULL);
	p->machine = EM_X86_64;
	p->flags = c->tgt->eh.e_type == ET_EXEC ? KC_PF_F_TARGET_EXEC : 0;
	return 0;
}

int kc_pack_build(struct kc_target *tgt, struct kc_objfile *obj, const struct kc_pack_opts *o,
		  struct kc_pack_result *res, struct kc_err *err)
{
	struct kc_pack_ctx c = {.obj = obj, .tgt = tgt, .opts = o};
	int ret;

	memset(res, 0, sizeof(*res));
	c.patch = calloc(1, sizeof(*c.patch));
	if (!c.patch)
		return kc_err_set(err, -ENOMEM, "out of memory");
	/* passes in the order of packctx.h; each relies on the one before */
	if ((ret = kc_layout_classify(&c, err)) < 0 || (ret = kc_pack_unwind_plan(&c, err)) < 0 ||
	    (ret = kc_reloc_scan(&c, err)) < 0 || (ret = kc_layout_assign(&c, err)) < 0 ||
	    (ret = kc_pack_unwind_emit(&c, err)) < 0 || (ret = kc_reloc_apply(&c, err)) < 0 ||
	    (ret = pack_funcs(&c, res, err)) < 0 || (ret = pack_meta(&c, o, err)) < 0)
		goto out;
	if ((ret = kc_patch_validate(c.patch, err)) < 0) {
		kc_err_prefix(err, "internal error: the packed patch is invalid");
		goto out;
	}
	res->patch = c.patch;
	c.patch = NULL;
out:
	if (ret < 0)
		kc_pack_result_release(res);
	kc_patch_free(c.patch);
	free(c.kind);
	free(c.sec_off);
	free(c.bind);
	kc_pack_unwind_free(c.unwind);
	return ret;
}

int kc_pack(const struct kc_pack_opts *o, struct kc_pack_summary *sum, struct kc_err *err)
{
	struct kc_target *tgt = NULL;
	struct kc_objfile *obj = NULL;
	struct kc_pack_result res = {0};
	int ret;

	KC_BUG_ON(!o || !o->target || !o->object || !o->output);
	if ((ret = kc_target_open(o->target, o->debug_dir, &tgt, err)) < 0 ||
	    (ret = kc_objfile_open(o->object, &obj, err)) < 0 ||
	    (ret = kc_pack_build(tgt, obj, o, &res, err)) < 0 ||
	    (ret = kc_patch_write_file_labels(res.patch, res.labels, res.nlabels, o->output, err)) <
		0)
		goto out;
	if (sum) {
		memset(sum, 0, sizeof(*sum));
		snprintf(sum->id, sizeof(sum->id), "%s", res.patch->id);
		sum->level = res.patch->level;
		snprintf(sum->target_name, sizeof(sum->target_name), "%s", res.patch->target_name);
		kc_buildid_to_hex(&res.patch->build_id, sum->build_id, sizeof(sum->build_id));
		sum->nreplaced = res.nreplaced;
		sum->nnew = res.nnew;
	}
out:
	kc_pack_result_release(&res);
	kc_objfile_close(obj);
	kc_target_close(tgt);
	return ret;
}
