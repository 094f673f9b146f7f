// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kmod pipeline: read the fixes, open the target kernel, compile
 * each fix alone to learn the functions it defines, resolve those in
 * vmlinux or a module, generate and build the module with kbuild, turn
 * its references to symbols nobody exports into klp relocations, sign
 * it, and only then write MODULE.ko and MODULE.json to -o. Everything
 * before the last step happens in a work directory.
 */
#include <fcntl.h>
#include <ftw.h>
#include <gelf.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/kmod-int.h"
#include "kcare/conf.h"

struct kmod_ctx {
	const struct kc_kmod_opts *o;
	struct kc_kmod_result *res;
	struct kc_kmod_fix *fixes;
	size_t nfixes;
	struct kc_ktarget *t;
	char work[PATH_MAX];
	char log[PATH_MAX + 16];
	char module[KC_KMOD_NAME_MAX + 1];
	struct kc_klp_ref *refs;
	char **refnames; /* owned strings the refs borrow */
	size_t nrefs, nrefnames;
};

/* The data directory: the source tree's data/kmod for a binary of the build tree. */
static const char *kmod_datadir(void)
{
	const char *env = getenv("KCARE_KMOD_DATA");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		if (!strncmp(exe, KC_BUILD_ROOT "/", strlen(KC_BUILD_ROOT) + 1))
			return KC_SOURCE_ROOT "/data/kmod";
	}
	return KC_KMOD_DATADIR;
}

static int kmod_copy(const char *from, const char *to, struct kc_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int ret = kc_file_read_all(from, 16u << 20, &buf, &len, err);

	if (!ret)
		ret = kc_file_write_atomic(to, buf, len, 0644, err);
	free(buf);
	return ret;
}

static const char *kmod_base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int kmod_dupfield(char **field, const char *val)
{
	if (*field || !val)
		return 0;
	return (*field = strdup(val)) ? 0 : -ENOMEM;
}

/* The metadata the command line gives to every fix whose header is silent. */
static int kmod_defaults(struct kc_kmod_fix *f, const struct kc_kmod_opts *o, const char *base,
			 size_t baselen)
{
	if ((!f->name && !(f->name = strndup(base, baselen))) ||
	    kmod_dupfield(&f->description, o->description) < 0 ||
	    kmod_dupfield(&f->cvss, o->cvss) < 0 ||
	    kmod_dupfield(&f->patch_url, o->patch_url) < 0 ||
	    kmod_dupfield(&f->cve_url, o->cve_url) < 0)
		return -ENOMEM;
	if (!f->ncves && o->ncves) {
		f->cves = calloc(o->ncves, sizeof(*f->cves));
		if (!f->cves)
			return -ENOMEM;
		for (size_t k = 0; k < o->ncves; k++, f->ncves++)
			if (!(f->cves[k] = strdup(o->cves[k])))
				return -ENOMEM;
	}
	return 0;
}

/*
 * Reads the fixes: sources (with their headers) first, then prebuilt
 * objects (no header: the command line says everything).
 */
static int kmod_read_fixes(struct kmod_ctx *c, struct kc_err *err)
{
	const struct kc_kmod_opts *o = c->o;

	c->nfixes = o->nsources + o->nobjects;
	c->fixes = calloc(c->nfixes, sizeof(*c->fixes));
	if (!c->fixes)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < c->nfixes; i++) {
		struct kc_kmod_fix *f = &c->fixes[i];
		int prebuilt = i >= o->nsources;
		const char *path = prebuilt ? o->objects[i - o->nsources] : o->sources[i];
		const char *base = kmod_base(path);
		size_t bl = strlen(base), len = 0;
		char *text = NULL;
		int ret;

		if (bl < 3 || strcmp(base + bl - 2, prebuilt ? ".o" : ".c"))
			return kc_err_set(err, -EINVAL, "fix %s '%s' is not a %s file",
					  prebuilt ? "object" : "source", path,
					  prebuilt ? ".o" : ".c");
		if (!(f->path = strdup(path)))
			return kc_err_set(err, -ENOMEM, "out of memory");
		f->prebuilt = prebuilt;
		if (!prebuilt) {
			if ((ret = kc_file_read_all(path, 16u << 20, &text, &len, err)) < 0)
				return ret;
			ret = kc_kmod_fix_parse(text, len, f, err);
			free(text);
			if (ret < 0)
				return kc_err_prefix(err, "'%s'", path);
		} else if (access(path, R_OK) < 0) {
			return kc_err_set(err, -errno, "cannot open '%s': %s", path,
					  strerror(errno));
		}
		if (kmod_defaults(f, o, base, bl - 2) < 0)
			return kc_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int kmod_write_text(const char *dir, const char *name, const char *text, struct kc_err *err)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return kc_file_write_atomic(path, text, strlen(text), 0644, err);
}

/* `make -C HEADERS M=WORK TARGETS...`, quoting the compiler's first error on failure. */
static int kmod_make(struct kmod_ctx *c, const char *what, char **targets, size_t ntargets,
		     struct kc_err *err)
{
	char mdir[PATH_MAX + 8], *argv[16 + 64];
	const char *names[64], *from[64];
	char wn[64][32];
	size_t n = 0;
	int ret;

	snprintf(mdir, sizeof(mdir), "M=%s", c->work);
	argv[n++] = "make";
	argv[n++] = "-C";
	argv[n++] = c->t->headers;
	argv[n++] = mdir;
	argv[n++] = "KBUILD_MODPOST_WARN=1";
	for (size_t i = 0; i < ntargets && n < 16 + 62; i++)
		argv[n++] = targets[i];
	argv[n] = NULL;
	ret = kc_kmod_run(c->work, argv, c->log, what, err);
	if (ret != -ECHILD)
		return ret;
	for (size_t i = 0; i < c->nfixes && i < 64; i++) {
		snprintf(wn[i], sizeof(wn[i]), "fix%zu.c", i + 1);
		names[i] = wn[i];
		from[i] = c->fixes[i].path;
	}
	{
		char first[400];

		kc_kmod_first_error(c->log, c->work, names, from, c->nfixes < 64 ? c->nfixes : 64,
				    first, sizeof(first));
		if (first[0])
			return kc_err_set(err, -ECHILD, "%s failed: %s", what, first);
	}
	return ret;
}

/* Functions (global, defined) of a fix's object: the ones it replaces. */
static int kmod_defined_funcs(const char *path, char ***names, size_t *n, struct kc_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	Elf *elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	*names = NULL;
	*n = 0;
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s'", path);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && (scn = elf_nextscn(elf, scn)) != NULL) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 1; i < sh.sh_size / sizeof(Elf64_Sym); i++) {
			GElf_Sym s;
			const char *name;
			char **nv;

			if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    GELF_ST_BIND(s.st_info) == STB_LOCAL || s.st_shndx == SHN_UNDEF ||
			    !(name = elf_strptr(elf, sh.sh_link, s.st_name)))
				continue;
			nv = realloc(*names, (*n + 1) * sizeof(*nv));
			if (!nv || !(nv[*n] = strdup(name))) {
				if (nv)
					*names = nv;
				ret = kc_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			*names = nv;
			(*n)++;
		}
	}
	if (!elf)
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not an ELF object", path);
out:
	elf_end(elf);
	close(fd);
	return ret;
}

/* The kcare-sympos pick of fix @f for @name: 1 with *obj (may be NULL) and *pos, else 0. */
static int kmod_pick(const struct kc_kmod_fix *f, const char *name, char *obj, size_t objsz,
		     unsigned long *pos)
{
	for (size_t i = 0; i < f->npicks; i++) {
		const char *p = f->picks[i], *colon = strchr(p, ':'), *comma = strrchr(p, ',');
		const char *n = colon && colon < comma ? colon + 1 : p;

		if ((size_t)(comma - n) != strlen(name) || strncmp(n, name, strlen(name)))
			continue;
		obj[0] = 0;
		if (n != p)
			snprintf(obj, objsz, "%.*s", (int)(colon - p), p);
		*pos = strtoul(comma + 1, NULL, 10);
		return 1;
	}
	return 0;
}

/* Finds @name (a function if @func) in @obj's table: 0, or a one-line refusal. */
static int kmod_find_in(struct kmod_ctx *c, const struct kc_kmod_fix *f, const char *obj,
			const char *name, unsigned long pos, int func, struct kc_ksym_match *m,
			struct kc_err *err)
{
	struct kc_kmodule *mod;
	const struct kc_ksyms *syms;
	int ret;

	if (!strcmp(obj, "vmlinux")) {
		syms = &c->t->image->syms;
	} else {
		if ((ret = kc_ktarget_module(c->t, obj, &mod, err)) < 0)
			return ret;
		syms = &mod->syms;
	}
	ret = kc_ksyms_find(syms, name, pos, func, m);
	if (ret == -ENOTUNIQ)
		return kc_err_set(err, ret,
				  "'%s': '%s' is ambiguous in %s (%zu symbols): say which with "
				  "'kcare-sympos: %s%s%s,N' in its header",
				  f->path, name, obj, m->count, strcmp(obj, "vmlinux") ? obj : "",
				  strcmp(obj, "vmlinux") ? ":" : "", name);
	if (ret == -ERANGE)
		return kc_err_set(err, ret, "'%s': %s has only %zu symbols '%s'", f->path, obj,
				  m->count, name);
	if (ret == 0 && func && !kc_ksym_is_func(m->sym->type))
		return kc_err_set(err, -ENOENT, "'%s': %s's '%s' is not a function", f->path, obj,
				  name);
	return ret;
}

/* Where a replaced function lives: vmlinux, or the one module that defines it. */
static int kmod_resolve_func(struct kmod_ctx *c, struct kc_kmod_fix *f, const char *name,
			     struct kc_err *err)
{
	struct kc_kmod_func *fn, *nf;
	struct kc_ksym_match m;
	char obj[64] = "", *modname = NULL;
	unsigned long pos = 0;
	int ret;

	kmod_pick(f, name, obj, sizeof(obj), &pos);
	if (!obj[0] || !strcmp(obj, "vmlinux")) {
		ret = kmod_find_in(c, f, "vmlinux", name, pos, 1, &m, err);
		if (ret == 0)
			snprintf(obj, sizeof(obj), "vmlinux");
		else if (ret != -ENOENT || !strcmp(obj, "vmlinux"))
			return ret == -ENOENT ? kc_err_set(err, ret,
							   "'%s': '%s' is not a function "
							   "of vmlinux",
							   f->path, name)
					      : ret;
	}
	if (!obj[0]) {
		const char *paths[8];
		size_t n = kc_ktarget_func_modules(c->t, name, paths, 8);

		if (!n)
			return kc_err_set(err, -ENOENT,
					  "'%s' defines '%s', which is not a function of %s "
					  "(make it static if it is a helper of the fix)",
					  f->path, name, c->t->abi);
		if (n > 1)
			return kc_err_set(err, -ENOTUNIQ,
					  "'%s': modules %s and %s both define '%s': say which "
					  "with 'kcare-sympos: MODULE:%s,0'",
					  f->path, paths[0], paths[1], name, name);
		modname = kc_ktarget_modname(paths[0]);
		if (!modname)
			return kc_err_set(err, -ENOMEM, "out of memory");
		snprintf(obj, sizeof(obj), "%s", modname);
		free(modname);
	}
	if (strcmp(obj, "vmlinux") && (ret = kmod_find_in(c, f, obj, name, pos, 1, &m, err)) < 0)
		return ret == -ENOENT ? kc_err_set(err, ret, "'%s': '%s' is not a function of %s",
						   f->path, name, obj)
				      : ret;
	for (size_t i = 0; i < c->nfixes; i++)
		for (size_t k = 0; k < c->fixes[i].nfuncs; k++)
			if (!strcmp(c->fixes[i].funcs[k].name, name) &&
			    !strcmp(c->fixes[i].funcs[k].obj, obj))
				return kc_err_set(err, -EEXIST,
						  "'%s' and '%s' both replace %s's '%s'",
						  c->fixes[i].path, f->path, obj, name);
	nf = realloc(f->funcs, (f->nfuncs + 1) * sizeof(*nf));
	if (!nf)
		return kc_err_set(err, -ENOMEM, "out of memory");
	f->funcs = nf;
	fn = &f->funcs[f->nfuncs];
	memset(fn, 0, sizeof(*fn));
	if (!(fn->name = strdup(name)) || !(fn->obj = strdup(obj))) {
		free(fn->name);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	f->nfuncs++;
	fn->sympos = m.sympos;
	/* livepatch hooks the ftrace call site; a switch jumps past it */
	ret = kc_ktarget_ftrace_skip(c->t, obj, m.sym, name, err);
	if (ret < 0)
		return ret;
	fn->skip = ret;
	return 0;
}

static int kmod_add_ref(struct kmod_ctx *c, const char *sym, const char *obj, const char *name,
			unsigned long pos, struct kc_err *err)
{
	struct kc_klp_ref *nr = realloc(c->refs, (c->nrefs + 1) * sizeof(*nr));
	char **nn = realloc(c->refnames, (c->nrefnames + 3) * sizeof(*nn));

	if (nr)
		c->refs = nr;
	if (nn)
		c->refnames = nn;
	if (!nr || !nn)
		return kc_err_set(err, -ENOMEM, "out of memory");
	nn[c->nrefnames] = strdup(sym);
	nn[c->nrefnames + 1] = strdup(obj);
	nn[c->nrefnames + 2] = strdup(name);
	c->nrefnames += 3;
	if (!nn[c->nrefnames - 3] || !nn[c->nrefnames - 2] || !nn[c->nrefnames - 1])
		return kc_err_set(err, -ENOMEM, "out of memory");
	nr[c->nrefs].sym = nn[c->nrefnames - 3];
	nr[c->nrefs].obj = nn[c->nrefnames - 2];
	nr[c->nrefs].name = nn[c->nrefnames - 1];
	nr[c->nrefs].sympos = pos;
	c->nrefs++;
	return 0;
}

/*
 * Where an undefined symbol nobody exports lives, for fix @f (NULL: any
 * fix): where its kcare-sympos says, else in a module @f patches, else in
 * vmlinux. *obj (64 bytes) and *pos receive the answer.
 */
static int kmod_locate(struct kmod_ctx *c, const struct kc_kmod_fix *f, const char *name, char *obj,
		       unsigned long *pos, struct kc_err *err)
{
	const struct kc_kmod_fix *say = f ? f : &c->fixes[0];
	struct kc_ksym_match m;
	int ret;

	for (size_t i = 0; i < c->nfixes; i++) {
		const struct kc_kmod_fix *g = f ? f : &c->fixes[i];

		if (!kmod_pick(g, name, obj, 64, pos))
			continue;
		if (!obj[0])
			snprintf(obj, 64, "vmlinux");
		ret = kmod_find_in(c, g, obj, name, *pos, 0, &m, err);
		if (ret == -ENOENT)
			return kc_err_set(err, ret, "'%s': '%s' is not in %s", g->path, name, obj);
		*pos = m.sympos;
		return ret;
	}
	for (size_t i = 0; i < c->nfixes; i++) {
		const struct kc_kmod_fix *g = &c->fixes[i];

		for (size_t k = 0; (!f || f == g) && k < g->nfuncs; k++) {
			if (!strcmp(g->funcs[k].obj, "vmlinux"))
				continue;
			ret = kmod_find_in(c, g, g->funcs[k].obj, name, 0, 0, &m, err);
			if (ret == 0) {
				snprintf(obj, 64, "%s", g->funcs[k].obj);
				*pos = m.sympos;
				return 0;
			}
			if (ret != -ENOENT)
				return ret;
		}
	}
	ret = kmod_find_in(c, say, "vmlinux", name, 0, 0, &m, err);
	if (ret == 0) {
		snprintf(obj, 64, "vmlinux");
		*pos = m.sympos;
	} else if (ret == -ENOENT) {
		kc_err_set(err, ret,
			   "'%s' refers to '%s', which is neither exported nor a symbol of vmlinux "
			   "or of a module it patches",
			   say->path, name);
	}
	return ret;
}

/*
 * The klp reference of each undefined symbol of @path that nobody
 * exports; run on each fix object first (an ambiguous or unknown name is
 * refused before the module is built) and then on the module (the
 * switches' placeholders). A symbol already resolved is skipped.
 */
static int kmod_resolve_refs(struct kmod_ctx *c, const struct kc_kmod_fix *f, const char *path,
			     struct kc_err *err)
{
	char **undef;
	size_t n;
	int ret;

	if ((ret = kc_klp_undefined(path, &undef, &n, err)) < 0)
		return ret;
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct kc_ksym_match m;
		char obj[64];
		unsigned long pos;
		size_t fi, k, r;

		if (sscanf(undef[i], "__kcare_orig_%zu_%zu", &fi, &k) == 2 && fi < c->nfixes &&
		    k < c->fixes[fi].nfuncs) {
			const struct kc_kmod_func *fn = &c->fixes[fi].funcs[k];

			ret = kmod_add_ref(c, undef[i], fn->obj, fn->name, fn->sympos, err);
			continue;
		}
		if (kc_ksyms_find(&c->t->exports, undef[i], 0, 0, &m) != -ENOENT ||
		    kc_ksyms_find(&c->t->modexports, undef[i], 0, 0, &m) != -ENOENT)
			continue;
		for (r = 0; r < c->nrefs && strcmp(c->refs[r].sym, undef[i]); r++)
			;
		if (r < c->nrefs && !f)
			continue;
		if ((ret = kmod_locate(c, f, undef[i], obj, &pos, err)) < 0)
			break;
		if (r == c->nrefs)
			ret = kmod_add_ref(c, undef[i], obj, undef[i], pos, err);
		else if (strcmp(c->refs[r].obj, obj) || c->refs[r].sympos != pos)
			/* one undefined symbol of the module cannot be two kernel symbols */
			ret = kc_err_set(err, -ENOTUNIQ,
					 "the fixes use '%s' of both %s and %s: one fix must "
					 "name it differently",
					 undef[i], c->refs[r].obj, obj);
	}
	kc_klp_names_free(undef, n);
	return ret;
}

/* Stage 1: each fix compiled alone; its global functions are what it replaces. */
static int kmod_probe(struct kmod_ctx *c, struct kc_err *err)
{
	char *kbuild = NULL, *targets[64];
	char names[64][32];
	size_t klen = 0, ntargets = 0;
	FILE *k;
	int ret = 0;

	if (c->nfixes > 62)
		return kc_err_set(err, -E2BIG, "at most 62 fixes");
	k = open_memstream(&kbuild, &klen);
	if (!k)
		return kc_err_set(err, -ENOMEM, "out of memory");
	/* the module's own name and flags, so that stage 2 reuses these objects as they are */
	fprintf(k, "obj-m := %s.o\nccflags-y += -I$(src)\n%s-y :=", c->module, c->module);
	for (size_t i = 0; i < c->nfixes && ret == 0; i++) {
		char dst[PATH_MAX + 32];

		snprintf(names[i], sizeof(names[i]), "fix%zu.o", i + 1);
		fprintf(k, " %s", names[i]);
		if (c->fixes[i].prebuilt) {
			/* no source: make keeps the object; modpost wants its .cmd file */
			snprintf(dst, sizeof(dst), "%s/fix%zu.o", c->work, i + 1);
			ret = kmod_copy(c->fixes[i].path, dst, err);
			snprintf(dst, sizeof(dst), ".fix%zu.o.cmd", i + 1);
			if (ret == 0)
				ret = kmod_write_text(c->work, dst, "", err);
			continue;
		}
		targets[ntargets++] = names[i];
		snprintf(dst, sizeof(dst), "%s/fix%zu.c", c->work, i + 1);
		ret = kmod_copy(c->fixes[i].path, dst, err);
	}
	fputc('\n', k);
	fclose(k);
	if (ret == 0)
		ret = kbuild ? kmod_write_text(c->work, "Kbuild", kbuild, err)
			     : kc_err_set(err, -ENOMEM, "out of memory");
	free(kbuild);
	if (ret < 0 ||
	    (ntargets && (ret = kmod_make(c, "compiling the fixes", targets, ntargets, err)) < 0))
		return ret;
	for (size_t i = 0; i < c->nfixes; i++) {
		char obj[PATH_MAX + 32], **funcs;
		size_t n;

		snprintf(obj, sizeof(obj), "%s/fix%zu.o", c->work, i + 1);
		if ((ret = kmod_defined_funcs(obj, &funcs, &n, err)) < 0)
			return ret;
		if (!n)
			ret = kc_err_set(err, -ENOENT,
					 "'%s' defines no function that is not static: nothing to "
					 "replace",
					 c->fixes[i].path);
		for (size_t j = 0; j < n && ret == 0; j++)
			ret = kmod_resolve_func(c, &c->fixes[i], funcs[j], err);
		kc_klp_names_free(funcs, n);
		if (ret < 0)
			return ret;
	}
	for (size_t i = 0; i < c->nfixes; i++) {
		char obj[PATH_MAX + 32];

		snprintf(obj, sizeof(obj), "%s/fix%zu.o", c->work, i + 1);
		if ((ret = kmod_resolve_refs(c, &c->fixes[i], obj, err)) < 0)
			return ret;
	}
	return 0;
}

/* Stage 2: the module itself. */
static int kmod_build_module(struct kmod_ctx *c, struct kc_err *err)
{
	struct kc_kmod_gen g = {
	    .module = c->module,
	    .id = c->o->id,
	    .level = c->o->level,
	    .build_id = c->t->image->build_id,
	    .kernel_id = c->t->image->kernel_id,
	    .release = c->t->image->release,
	    .effective = c->o->effective,
	    .fixes = c->fixes,
	    .nfixes = c->nfixes,
	};
	char src[PATH_MAX + 64], dst[PATH_MAX + 64], *kbuild = NULL, *modules[] = {"modules"};
	size_t klen = 0;
	int sw = 0, ret;
	FILE *k;

	snprintf(src, sizeof(src), "%s/kcare-main.c", kmod_datadir());
	snprintf(dst, sizeof(dst), "%s/kcare-main.c", c->work);
	if ((ret = kmod_copy(src, dst, err)) < 0 || (ret = kc_kmod_gen_write(c->work, &g, err)) < 0)
		return ret;
	for (size_t i = 0; i < c->nfixes; i++)
		sw |= c->fixes[i].sw != NULL;
	k = open_memstream(&kbuild, &klen);
	if (!k)
		return kc_err_set(err, -ENOMEM, "out of memory");
	fprintf(k, "obj-m := %s.o\nccflags-y += -I$(src)\n%s-y := kcare-main.o", c->module,
		c->module);
	for (size_t i = 0; i < c->nfixes; i++)
		fprintf(k, " fix%zu.o", i + 1);
	fprintf(k, "%s\n", sw ? " kcare-sw.o" : "");
	fclose(k);
	ret = kbuild ? kmod_write_text(c->work, "Kbuild", kbuild, err)
		     : kc_err_set(err, -ENOMEM, "out of memory");
	free(kbuild);
	if (ret < 0)
		return ret;
	return kmod_make(c, "building the module", modules, 1, err);
}

/*
 * Stage 3: debug sections go (as in Debian's own modules: a twentieth of
 * the size), before the klp conversion so that strip never sees
 * SHN_LIVEPATCH symbols; then references nobody exports become klp
 * relocations.
 */
static int kmod_klp(struct kmod_ctx *c, const char *ko, struct kc_err *err)
{
	char *const strip[] = {"strip", "--strip-debug", (char *)ko, NULL};
	struct kc_klp_stats st;
	int ret;

	if ((ret = kc_kmod_run(c->work, strip, c->log, "stripping the module", err)) < 0 ||
	    (ret = kmod_resolve_refs(c, NULL, ko, err)) < 0 ||
	    (ret = kc_klp_convert(ko, c->refs, c->nrefs, &st, err)) < 0)
		return ret;
	c->res->nklp_syms = st.nsyms;
	c->res->nklp_relas = st.nrelas;
	return 0;
}

/* The vermagic of the built module, from its .modinfo. */
static void kmod_vermagic(const char *ko, char *buf, size_t bufsz)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstrndx;

	buf[0] = 0;
	if (fd < 0)
		return;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && elf_getshdrstrndx(elf, &shstrndx) == 0 &&
	       (scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".modinfo") || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t off = 0; off < d->d_size;) {
			const char *s = (const char *)d->d_buf + off;
			size_t l = strnlen(s, d->d_size - off);

			if (l < d->d_size - off && !strncmp(s, "vermagic=", 9))
				snprintf(buf, bufsz, "%s", s + 9);
			off += l + 1;
		}
	}
	elf_end(elf);
	close(fd);
}

static void kmod_json_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val ? val : ""));
}

static char *kmod_json(struct kmod_ctx *c, const char *vermagic)
{
	struct json_object *o = json_object_new_object(), *fixes = json_object_new_array();
	struct json_object *sws = json_object_new_array();
	const char *desc = c->o->description;
	char *out = NULL;

	if (!desc && c->nfixes == 1)
		desc = c->fixes[0].description;
	kmod_json_str(o, "id", c->o->id);
	json_object_object_add(o, "level", json_object_new_int64(c->o->level));
	kmod_json_str(o, "module", c->module);
	kmod_json_str(o, "release", c->t->image->release);
	kmod_json_str(o, "build_id", c->t->image->build_id);
	kmod_json_str(o, "kernel_id", c->t->image->kernel_id);
	kmod_json_str(o, "vermagic", vermagic);
	kmod_json_str(o, "effective_version", c->o->effective);
	kmod_json_str(o, "description", desc);
	for (size_t i = 0; i < c->nfixes; i++) {
		const struct kc_kmod_fix *f = &c->fixes[i];
		struct json_object *fo = json_object_new_object(), *cves = json_object_new_array();
		struct json_object *funcs = json_object_new_array();

		kmod_json_str(fo, "name", f->name);
		kmod_json_str(fo, "description", f->description);
		for (size_t k = 0; k < f->ncves; k++)
			json_object_array_add(cves, json_object_new_string(f->cves[k]));
		json_object_object_add(fo, "cves", cves);
		kmod_json_str(fo, "cvss", f->cvss);
		kmod_json_str(fo, "cve_url", f->cve_url);
		kmod_json_str(fo, "patch_url", f->patch_url);
		for (size_t k = 0; k < f->nfuncs; k++) {
			char fn[600];

			snprintf(fn, sizeof(fn), "%s:%s", f->funcs[k].obj, f->funcs[k].name);
			json_object_array_add(funcs, json_object_new_string(fn));
		}
		json_object_object_add(fo, "functions", funcs);
		json_object_array_add(fixes, fo);
		if (f->sw) {
			struct json_object *so = json_object_new_object();

			kmod_json_str(so, "name", f->sw);
			kmod_json_str(so, "fix", f->name);
			json_object_array_add(sws, so);
		}
	}
	json_object_object_add(o, "fixes", fixes);
	json_object_object_add(o, "switches", sws);
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

/* Stage 4: sign, then write MODULE.ko and MODULE.json to -o (both or neither). */
static int kmod_output(struct kmod_ctx *c, const char *ko, struct kc_err *err)
{
	const struct kc_kmod_opts *o = c->o;
	char vermagic[256], *json;
	struct stat st;
	int ret, made = 0;

	if (o->sign_key) {
		char sf[PATH_MAX + 32];
		char *argv[] = {sf,	    "sha256", (char *)o->sign_key, (char *)o->sign_cert,
				(char *)ko, NULL};

		snprintf(sf, sizeof(sf), "%s/scripts/sign-file", c->t->headers);
		if ((ret = kc_kmod_run(c->work, argv, c->log, "signing the module", err)) < 0)
			return ret;
		c->res->signed_ = 1;
	}
	kmod_vermagic(ko, vermagic, sizeof(vermagic));
	json = kmod_json(c, vermagic);
	if (!json)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (mkdir(o->output, 0755) == 0)
		made = 1;
	else if (errno != EEXIST) {
		ret = kc_err_set(err, -errno, "cannot create '%s': %s", o->output, strerror(errno));
		goto out;
	}
	if (stat(o->output, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = kc_err_set(err, -ENOTDIR, "'%s' is not a directory", o->output);
		goto out;
	}
	snprintf(c->res->ko, sizeof(c->res->ko), "%s/%s.ko", o->output, c->module);
	snprintf(c->res->json, sizeof(c->res->json), "%s/%s.json", o->output, c->module);
	if ((ret = kmod_copy(ko, c->res->ko, err)) < 0)
		goto out;
	if ((ret = kc_file_write_atomic(c->res->json, json, strlen(json), 0644, err)) < 0)
		unlink(c->res->ko);
out:
	if (ret < 0 && made)
		rmdir(o->output);
	free(json);
	return ret;
}

static int kmod_rm(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

int kc_kmod_build(const struct kc_kmod_opts *o, struct kc_kmod_result *res, struct kc_err *err)
{
	struct kmod_ctx c = {.o = o, .res = res};
	char ko[PATH_MAX + 80];
	int ret;

	memset(res, 0, sizeof(*res));
	if (!o->nsources && !o->nobjects)
		return kc_err_set(err, -EINVAL, "no fix source or object");
	if (!o->sign_key != !o->sign_cert)
		return kc_err_set(err, -EINVAL, "--sign-key and --sign-cert go together");
	if ((ret = kc_kmod_module_name(o->id, o->level, c.module, sizeof(c.module), err)) < 0 ||
	    (ret = kmod_read_fixes(&c, err)) < 0 ||
	    (ret = kc_ktarget_open(o->kernel, o->kernel_tree, &c.t, err)) < 0)
		goto out;
	if (o->keep_work) {
		snprintf(c.work, sizeof(c.work), "%s", o->keep_work);
		if (mkdir(c.work, 0755) < 0 && errno != EEXIST) {
			ret = kc_err_set(err, -errno, "cannot create '%s'", c.work);
			goto out;
		}
	} else {
		const char *tmp = getenv("TMPDIR");

		snprintf(c.work, sizeof(c.work), "%s/kcare-kmod-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(c.work)) {
			ret = kc_err_set(err, -errno, "cannot create a work directory: %s",
					 strerror(errno));
			c.work[0] = 0;
			goto out;
		}
	}
	if (!realpath(c.work, ko)) {
		ret = kc_err_set(err, -errno, "'%s': %s", c.work, strerror(errno));
		goto out;
	}
	if (strlen(ko) >= sizeof(c.work) - 80) {
		ret = kc_err_set(err, -ENAMETOOLONG, "work directory path too long");
		goto out;
	}
	memcpy(c.work, ko, strlen(ko) + 1);
	snprintf(c.log, sizeof(c.log), "%s/build.log", c.work);
	snprintf(ko, sizeof(ko), "%s/%s.ko", c.work, c.module);
	if ((ret = kmod_probe(&c, err)) < 0 || (ret = kmod_build_module(&c, err)) < 0 ||
	    (ret = kmod_klp(&c, ko, err)) < 0 || (ret = kmod_output(&c, ko, err)) < 0)
		goto out;
	snprintf(res->module, sizeof(res->module), "%s", c.module);
	snprintf(res->release, sizeof(res->release), "%s", c.t->image->release);
	snprintf(res->build_id, sizeof(res->build_id), "%s", c.t->image->build_id);
	for (size_t i = 0; i < c.nfixes; i++)
		res->nfuncs += c.fixes[i].nfuncs;
out:
	if (c.work[0] && !o->keep_work)
		nftw(c.work, kmod_rm, 16, FTW_DEPTH | FTW_PHYS);
	kc_ktarget_close(c.t);
	for (size_t i = 0; i < c.nfixes; i++)
		kc_kmod_fix_release(&c.fixes[i]);
	free(c.fixes);
	for (size_t i = 0; i < c.nrefnames; i++)
		free(c.refnames[i]);
	free(c.refnames);
	free(c.refs);
	return ret;
}
