// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The klp relocation writer (klp.h). Works on a copy of the file and
 * renames it over the original only when libelf has written it whole.
 * Symbol indices never change: a converted symbol is renamed and marked
 * SHN_LIVEPATCH where it stands, so every other relocation, the symtab's
 * first-global index and modpost's tables stay valid. New sections and
 * strings are appended.
 */
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/klp.h"
#include "kcare/conf.h"

/* Memory handed to libelf as section data; freed after elf_end(). */
struct klp_bufs {
	void **p;
	size_t n;
};

struct klp_file {
	Elf *elf;
	size_t nsecs, shstrndx, symndx;
	Elf_Scn *symscn, *strscn, *shstrscn;
	Elf_Data *syms;
	struct klp_bufs bufs;
	long *symref; /* per symbol: index into refs, or -1 */
};

static void *klp_keep(struct klp_bufs *b, size_t size)
{
	void **np = realloc(b->p, (b->n + 1) * sizeof(*np));
	void *m;

	if (!np)
		return NULL;
	b->p = np;
	m = calloc(1, size ? size : 1);
	if (m)
		b->p[b->n++] = m;
	return m;
}

int kc_klp_check_ref(const struct kc_klp_ref *r, struct kc_err *err)
{
	if (!r->sym || !*r->sym || !r->obj || !*r->obj || !r->name || !*r->name)
		return kc_err_set(err, -EINVAL, "klp reference with an empty name");
	if (strlen(r->obj) > KC_KLP_OBJ_MAX || strchr(r->obj, '.'))
		return kc_err_set(err, -EINVAL, "object name '%s' cannot be a klp object", r->obj);
	if (strlen(r->name) > KC_KLP_NAME_MAX || strchr(r->name, ','))
		return kc_err_set(err, -EINVAL, "symbol name '%s' cannot be a klp symbol", r->name);
	return 0;
}

/* Appends @s to the string table section @scn; its offset, or 0 when out of memory. */
static size_t klp_add_string(struct klp_file *f, Elf_Scn *scn, const char *s)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t old = d ? d->d_size : 0, len = strlen(s) + 1;
	char *buf = klp_keep(&f->bufs, old + len);

	if (!buf || !d)
		return 0;
	memcpy(buf, d->d_buf, old);
	memcpy(buf + old, s, len);
	d->d_buf = buf;
	d->d_size = old + len;
	elf_flagdata(d, ELF_C_SET, ELF_F_DIRTY);
	return old;
}

static int klp_open_tables(struct klp_file *f, const char *path, struct kc_err *err)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	GElf_Shdr sh;

	if (elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &eh) || eh.e_type != ET_REL ||
	    elf_getshdrnum(f->elf, &f->nsecs) < 0 || elf_getshdrstrndx(f->elf, &f->shstrndx) < 0)
		return kc_err_set(err, -ENOEXEC, "'%s' is not a relocatable ELF object", path);
	while ((scn = elf_nextscn(f->elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			if (f->symscn)
				return kc_err_set(err, -ENOEXEC, "'%s' has two symbol tables",
						  path);
			f->symscn = scn;
			f->symndx = elf_ndxscn(scn);
			f->strscn = elf_getscn(f->elf, sh.sh_link);
		}
	f->shstrscn = elf_getscn(f->elf, f->shstrndx);
	if (!f->symscn || !f->strscn || !f->shstrscn || !(f->syms = elf_getdata(f->symscn, NULL)))
		return kc_err_set(err, -ENOEXEC, "'%s' has no symbol table", path);
	return 0;
}

static size_t klp_nsyms(const struct klp_file *f)
{
	return f->syms->d_size / sizeof(Elf64_Sym);
}

/* Marks the undefined symbols that @refs name and renames them. */
static int klp_convert_syms(struct klp_file *f, const char *path, const struct kc_klp_ref *refs,
			    size_t nrefs, struct kc_klp_stats *st, struct kc_err *err)
{
	GElf_Shdr symsh;
	size_t n = klp_nsyms(f);

	gelf_getshdr(f->symscn, &symsh);
	f->symref = malloc((n ? n : 1) * sizeof(*f->symref));
	if (!f->symref)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		GElf_Sym s;
		const char *name;
		char *klpname;
		size_t off;

		f->symref[i] = -1;
		if (!i || !gelf_getsym(f->syms, (int)i, &s) || s.st_shndx != SHN_UNDEF ||
		    !s.st_name || !(name = elf_strptr(f->elf, symsh.sh_link, s.st_name)))
			continue;
		for (size_t r = 0; r < nrefs; r++)
			if (!strcmp(refs[r].sym, name)) {
				f->symref[i] = (long)r;
				break;
			}
		if (f->symref[i] < 0)
			continue;
		if (asprintf(&klpname, ".klp.sym.%s.%s,%lu", refs[f->symref[i]].obj,
			     refs[f->symref[i]].name, refs[f->symref[i]].sympos) < 0)
			return kc_err_set(err, -ENOMEM, "out of memory");
		off = klp_add_string(f, f->strscn, klpname);
		free(klpname);
		if (!off)
			return kc_err_set(err, -ENOMEM, "out of memory");
		s.st_name = (Elf64_Word)off;
		s.st_shndx = KC_SHN_LIVEPATCH;
		if (!gelf_update_sym(f->syms, (int)i, &s))
			return kc_err_set(err, -EIO, "'%s': cannot update symbol %zu", path, i);
		if (st)
			st->nsyms++;
	}
	elf_flagdata(f->syms, ELF_C_SET, ELF_F_DIRTY);
	return 0;
}

static int klp_has_section(struct klp_file *f, const char *name)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn)) != NULL) {
		const char *n;

		if (gelf_getshdr(scn, &sh) && (n = elf_strptr(f->elf, f->shstrndx, sh.sh_name)) &&
		    !strcmp(n, name))
			return 1;
	}
	return 0;
}

/* Sections a module's own klp relocations may patch: code and plain data. */
static int klp_plain_section(const char *name)
{
	static const char *const ok[] = {".text", ".data", ".rodata", ".bss"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t l = strlen(ok[i]);

		if (!strncmp(name, ok[i], l) && (!name[l] || name[l] == '.'))
			return 1;
	}
	return 0;
}

/* Adds .klp.rela.<obj>.<target> holding @n entries. */
static int klp_add_rela(struct klp_file *f, const char *path, const char *obj, size_t target,
			const char *tname, const GElf_Rela *relas, size_t n, struct kc_err *err)
{
	Elf_Scn *scn;
	Elf_Data *d;
	GElf_Shdr sh;
	char *name;
	size_t nameoff;
	Elf64_Rela *buf;

	if (asprintf(&name, ".klp.rela.%s.%s", obj, tname) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (klp_has_section(f, name)) {
		kc_err_set(err, -EEXIST, "'%s' already has a section '%s'", path, name);
		free(name);
		return -EEXIST;
	}
	nameoff = klp_add_string(f, f->shstrscn, name);
	free(name);
	buf = klp_keep(&f->bufs, n * sizeof(*buf));
	if (!nameoff || !buf || !(scn = elf_newscn(f->elf)) || !(d = elf_newdata(scn)))
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		buf[i].r_offset = relas[i].r_offset;
		buf[i].r_info = relas[i].r_info;
		buf[i].r_addend = relas[i].r_addend;
	}
	d->d_buf = buf;
	d->d_size = n * sizeof(*buf);
	d->d_type = ELF_T_RELA;
	d->d_align = 8;
	gelf_getshdr(scn, &sh);
	sh.sh_name = (Elf64_Word)nameoff;
	sh.sh_type = SHT_RELA;
	sh.sh_flags = SHF_ALLOC | SHF_INFO_LINK | KC_SHF_RELA_LIVEPATCH;
	sh.sh_link = (Elf64_Word)f->symndx;
	sh.sh_info = (Elf64_Word)target;
	sh.sh_entsize = sizeof(Elf64_Rela);
	sh.sh_addralign = 8;
	if (!gelf_update_shdr(scn, &sh))
		return kc_err_set(err, -EIO, "'%s': cannot add a section", path);
	return 0;
}

/* Splits one RELA section: kept entries stay, the others go to one klp section per object. */
static int klp_split(struct klp_file *f, const char *path, Elf_Scn *scn, const GElf_Shdr *sh,
		     const struct kc_klp_ref *refs, struct kc_klp_stats *st, struct kc_err *err)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = d ? d->d_size / sizeof(Elf64_Rela) : 0, nkeep = 0, nmoved = 0;
	GElf_Rela *moved = NULL;
	Elf64_Rela *keep;
	Elf_Scn *tscn = elf_getscn(f->elf, sh->sh_info);
	GElf_Shdr tsh;
	const char *tname;
	int ret = 0;

	if (!tscn || !gelf_getshdr(tscn, &tsh) ||
	    !(tname = elf_strptr(f->elf, f->shstrndx, tsh.sh_name)))
		return kc_err_set(err, -ENOEXEC, "'%s': bad relocation section", path);
	if (!n)
		return 0;
	moved = calloc(n, sizeof(*moved));
	keep = klp_keep(&f->bufs, n * sizeof(*keep));
	if (!moved || !keep) {
		free(moved);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Rela r;
		size_t si;

		if (!gelf_getrela(d, (int)i, &r) || (si = GELF_R_SYM(r.r_info)) >= klp_nsyms(f)) {
			ret =
			    kc_err_set(err, -ENOEXEC, "'%s': bad relocation in '%s'", path, tname);
			goto out;
		}
		if (f->symref[si] < 0) {
			keep[nkeep].r_offset = r.r_offset;
			keep[nkeep].r_info = r.r_info;
			keep[nkeep++].r_addend = r.r_addend;
		} else {
			moved[nmoved++] = r;
		}
	}
	if (!nmoved)
		goto out;
	/* One section per object, in the order the objects first appear. */
	for (size_t i = 0; i < nmoved; i++) {
		const char *obj = refs[f->symref[GELF_R_SYM(moved[i].r_info)]].obj;
		GElf_Rela *grp;
		size_t ng = 0;
		int seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(refs[f->symref[GELF_R_SYM(moved[j].r_info)]].obj, obj);
		if (seen)
			continue;
		if (strcmp(obj, "vmlinux") && !klp_plain_section(tname)) {
			ret = kc_err_set(err, -EINVAL,
					 "'%s': a reference to %s's '%s' from section '%s' cannot "
					 "be a klp relocation",
					 path, obj,
					 refs[f->symref[GELF_R_SYM(moved[i].r_info)]].name, tname);
			goto out;
		}
		grp = calloc(nmoved, sizeof(*grp));
		if (!grp) {
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		for (size_t j = i; j < nmoved; j++)
			if (!strcmp(refs[f->symref[GELF_R_SYM(moved[j].r_info)]].obj, obj))
				grp[ng++] = moved[j];
		ret = klp_add_rela(f, path, obj, sh->sh_info, tname, grp, ng, err);
		free(grp);
		if (ret < 0)
			goto out;
		if (st)
			st->nsecs++;
	}
	if (st)
		st->nrelas += nmoved;
	d->d_buf = keep;
	d->d_size = nkeep * sizeof(*keep);
	elf_flagdata(d, ELF_C_SET, ELF_F_DIRTY);
out:
	free(moved);
	return ret;
}

static int klp_convert_relas(struct klp_file *f, const char *path, const struct kc_klp_ref *refs,
			     struct kc_klp_stats *st, struct kc_err *err)
{
	size_t last = f->nsecs; /* sections added below are not split again */
	int ret;

	for (size_t i = 1; i < last; i++) {
		Elf_Scn *scn = elf_getscn(f->elf, i);
		GElf_Shdr sh;

		if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    (sh.sh_flags & KC_SHF_RELA_LIVEPATCH) || sh.sh_link != f->symndx)
			continue;
		if ((ret = klp_split(f, path, scn, &sh, refs, st, err)) < 0)
			return ret;
	}
	return 0;
}

static int klp_copy(const char *from, const char *to, struct kc_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int ret;

	if (stat(from, &st) < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", from, strerror(errno));
	if ((ret = kc_file_read_all(from, 1u << 30, &buf, &len, err)) < 0)
		return ret;
	ret = kc_file_write_atomic(to, buf, len, st.st_mode & 07777, err);
	free(buf);
	return ret;
}

int kc_klp_convert(const char *path, const struct kc_klp_ref *refs, size_t nrefs,
		   struct kc_klp_stats *st, struct kc_err *err)
{
	struct klp_file f = {0};
	char *tmp = NULL;
	int fd = -1, ret;

	if (st)
		memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < nrefs; i++)
		if ((ret = kc_klp_check_ref(&refs[i], err)) < 0)
			return ret;
	if (asprintf(&tmp, "%s.klp-tmp", path) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if ((ret = klp_copy(path, tmp, err)) < 0)
		goto out;
	fd = open(tmp, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = kc_err_set(err, -errno, "cannot open '%s': %s", tmp, strerror(errno));
		goto out;
	}
	elf_version(EV_CURRENT);
	f.elf = elf_begin(fd, ELF_C_RDWR, NULL);
	if (!f.elf) {
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not an ELF object", path);
		goto out;
	}
	if ((ret = klp_open_tables(&f, path, err)) < 0 ||
	    (ret = klp_convert_syms(&f, path, refs, nrefs, st, err)) < 0 ||
	    (ret = klp_convert_relas(&f, path, refs, st, err)) < 0)
		goto out;
	if (elf_update(f.elf, ELF_C_WRITE) < 0) {
		ret = kc_err_set(err, -EIO, "cannot write '%s': %s", path, elf_errmsg(-1));
		goto out;
	}
	elf_end(f.elf);
	f.elf = NULL;
	if (rename(tmp, path) < 0)
		ret = kc_err_set(err, -errno, "cannot replace '%s': %s", path, strerror(errno));
out:
	if (f.elf)
		elf_end(f.elf);
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp);
	for (size_t i = 0; i < f.bufs.n; i++)
		free(f.bufs.p[i]);
	free(f.bufs.p);
	free(f.symref);
	free(tmp);
	return ret;
}

void kc_klp_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

int kc_klp_undefined(const char *path, char ***names, size_t *n, struct kc_err *err)
{
	struct klp_file f = {0};
	GElf_Shdr symsh;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	char **out = NULL;
	size_t cnt = 0;

	*names = NULL;
	*n = 0;
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	elf_version(EV_CURRENT);
	f.elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!f.elf) {
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not an ELF object", path);
		goto out;
	}
	if ((ret = klp_open_tables(&f, path, err)) < 0)
		goto out;
	gelf_getshdr(f.symscn, &symsh);
	out = calloc(klp_nsyms(&f) + 1, sizeof(*out));
	if (!out) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 1; i < klp_nsyms(&f); i++) {
		GElf_Sym s;
		const char *name;
		int dup = 0;

		if (!gelf_getsym(f.syms, (int)i, &s) || s.st_shndx != SHN_UNDEF || !s.st_name ||
		    !(name = elf_strptr(f.elf, symsh.sh_link, s.st_name)))
			continue;
		for (size_t j = 0; j < cnt && !dup; j++)
			dup = !strcmp(out[j], name);
		if (!dup && !(out[cnt++] = strdup(name))) {
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	*names = out;
	*n = cnt;
	out = NULL;
out:
	kc_klp_names_free(out, cnt);
	if (f.elf)
		elf_end(f.elf);
	close(fd);
	return ret;
}
