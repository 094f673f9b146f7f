// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The target's .symtab read with compilation units: the static linker
 * writes, for each input object, its STT_FILE symbol followed by that
 * object's local symbols, so a local belongs to the last STT_FILE seen
 * before it. Also the identity test between a rebuild and the target,
 * which decides whether a rebuild's symbols (and our objects) describe
 * the code that runs. Nothing here decides what goes into a patch.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/differ-build.h"
#include "build/differ-symtab.h"
#include "kcare/buildid.h"

static int dsym_cmp(const void *a, const void *b)
{
	const struct kc_dsym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->value < y->value ? -1 : x->value > y->value;
}

int kc_dsymtab_from_elf(struct kc_dsymtab *st, Elf *elf, struct kc_err *err)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *data = NULL;
	const char *file = NULL;
	size_t n;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	while ((scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	if (!scn || !(data = elf_getdata(scn, NULL)))
		return -ENOENT;
	n = sh.sh_size / sizeof(Elf64_Sym);
	st->syms = calloc(n ? n : 1, sizeof(*st->syms));
	st->files = calloc(n ? n : 1, sizeof(*st->files));
	if (!st->syms || !st->files)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		const char *name;
		unsigned char type;
		struct kc_dsym *d;

		if (!gelf_getsym(data, (int)i, &s))
			continue;
		name = elf_strptr(elf, sh.sh_link, s.st_name);
		type = GELF_ST_TYPE(s.st_info);
		if (type == STT_FILE) {
			file = name;
			if (name && *name)
				st->files[st->nfiles++] = name;
			continue;
		}
		if (!name || !*name || s.st_shndx == SHN_UNDEF ||
		    (type != STT_FUNC && type != STT_OBJECT && type != STT_TLS &&
		     type != STT_GNU_IFUNC))
			continue;
		d = &st->syms[st->nsyms++];
		d->name = name;
		d->bind = GELF_ST_BIND(s.st_info);
		d->file = d->bind == STB_LOCAL ? file : NULL;
		d->value = s.st_value;
		d->size = s.st_size;
		d->type = type;
	}
	qsort(st->syms, st->nsyms, sizeof(*st->syms), dsym_cmp);
	return 0;
}

int kc_dsymtab_open(struct kc_dsymtab *st, const char *path, struct kc_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	int ret;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return kc_err_set(err, -ENOEXEC, "'%s' is not an ELF file", path);
	}
	ret = kc_dsymtab_from_elf(st, elf, err);
	st->fd = fd;
	st->elf = elf;
	if (ret == -ENOENT)
		ret = kc_err_set(err, -ENOENT, "'%s' has no symbol table", path);
	return ret;
}

void kc_dsymtab_release(struct kc_dsymtab *st)
{
	free(st->syms);
	free(st->files);
	if (st->fd >= 0) {
		if (st->elf)
			elf_end(st->elf);
		close(st->fd);
	}
	memset(st, 0, sizeof(*st));
	st->fd = -1;
}

int kc_dsymtab_lookup(const struct kc_dsymtab *st, const char *file, const char *name, int local,
		      const struct kc_dsym **out, struct kc_err *err)
{
	size_t lo = 0, hi = st->nsyms, count = 0;
	const struct kc_dsym *found = NULL;

	*out = NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(st->syms[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < st->nsyms && !strcmp(st->syms[i].name, name); i++) {
		const struct kc_dsym *s = &st->syms[i];

		if (local != (s->bind == STB_LOCAL))
			continue;
		if (local) {
			if (!s->file || !file || strcmp(s->file, file))
				continue;
			/* the same definition may be listed twice; another value is another unit */
			if (!found)
				count = 1;
			else if (s->value != found->value)
				count++;
			if (!found)
				found = s;
		} else if (!found || (found->bind == STB_WEAK && s->bind != STB_WEAK)) {
			found = s;
		}
	}
	if (local && count > 1)
		return kc_err_set(err, -ENOTUNIQ,
				  "static symbol '%s' of '%s' is ambiguous in the target (%zu "
				  "compilation units of that name define it)",
				  name, file, count);
	*out = found;
	return found ? 0 : -ENOENT;
}

int kc_dsymtab_has_file(const struct kc_dsymtab *st, const char *file)
{
	for (size_t i = 0; file && i < st->nfiles; i++)
		if (!strcmp(st->files[i], file))
			return 1;
	return 0;
}

/* The loaded, non-note sections in section order (names borrowed). */
static Elf_Scn *dsym_next_loaded(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh)
{
	while ((scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, sh) && (sh->sh_flags & SHF_ALLOC) && sh->sh_type != SHT_NOTE)
			return scn;
	return NULL;
}

int kc_dsym_same_code(Elf *a, Elf *b, char *why, size_t whysz)
{
	struct kc_buildid ia, ib;
	Elf_Scn *sa = NULL, *sb = NULL;
	GElf_Shdr ha, hb;
	size_t stra, strb;

	snprintf(why, whysz, "no difference");
	if (kc_buildid_from_elf(a, &ia, NULL) == 0 && kc_buildid_from_elf(b, &ib, NULL) == 0 &&
	    kc_buildid_equal(&ia, &ib))
		return 1;
	if (elf_getshdrstrndx(a, &stra) < 0 || elf_getshdrstrndx(b, &strb) < 0) {
		snprintf(why, whysz, "no section names");
		return 0;
	}
	for (;;) {
		const char *na, *nb;
		Elf_Data *da, *db;

		sa = dsym_next_loaded(a, sa, &ha);
		sb = dsym_next_loaded(b, sb, &hb);
		if (!sa || !sb)
			break;
		na = elf_strptr(a, stra, ha.sh_name);
		nb = elf_strptr(b, strb, hb.sh_name);
		if (!na || !nb || strcmp(na, nb) || ha.sh_type != hb.sh_type ||
		    ha.sh_addr != hb.sh_addr || ha.sh_size != hb.sh_size) {
			snprintf(why, whysz, "section '%s' differs in name, place or size",
				 na ? na : "?");
			return 0;
		}
		if (ha.sh_type == SHT_NOBITS)
			continue;
		da = elf_rawdata(sa, NULL);
		db = elf_rawdata(sb, NULL);
		if (!da || !db || da->d_size != db->d_size ||
		    memcmp(da->d_buf, db->d_buf, da->d_size)) {
			snprintf(why, whysz, "section '%s' has other bytes", na);
			return 0;
		}
	}
	if (sa || sb) {
		snprintf(why, whysz, "the loaded sections differ in number");
		return 0;
	}
	return 1;
}

static int dsym_is_elf(const char *path)
{
	unsigned char m[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ok;

	if (fd < 0)
		return 0;
	ok = read(fd, m, 4) == 4 && m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F';
	close(fd);
	return ok;
}

static int dsym_has_symtab(const char *path)
{
	struct kc_dsymtab st;
	int ret = kc_dsymtab_open(&st, path, NULL);

	kc_dsymtab_release(&st);
	return ret == 0;
}

/* 1 if @path's code is the target's, 0 if not (reason in @why), <0 on error. */
static int dsym_same_file(Elf *target, const char *path, char *why, size_t whysz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e;
	int ret = 0;

	if (fd < 0)
		return 0;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) == ELF_K_ELF)
		ret = kc_dsym_same_code(target, e, why, whysz);
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

int kc_dsym_find_identical(const char *dir, const char *target, char **found, struct kc_err *err)
{
	char **files = NULL, why[200] = "", best_why[512] = "";
	const char *tbase = strrchr(target, '/');
	size_t n = 0;
	struct kc_buildid tid, id;
	int fd, ret, named = 0;
	Elf *te = NULL;

	*found = NULL;
	tbase = tbase ? tbase + 1 : target;
	fd = open(target, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", target, strerror(errno));
	elf_version(EV_CURRENT);
	te = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!te || elf_kind(te) != ELF_K_ELF) {
		ret = kc_err_set(err, -ENOEXEC, "target '%s' is not an ELF file", target);
		goto out;
	}
	if (kc_buildid_from_elf(te, &tid, NULL) < 0)
		tid.len = 0;
	if ((ret = kc_dbuild_list(dir, dsym_is_elf, &files, &n, err)) < 0)
		goto out;
	ret = -ESRCH;
	/* the same build-id first, then files of the same name byte by byte */
	for (size_t i = 0; i < n && ret == -ESRCH; i++) {
		char *p;

		if (asprintf(&p, "%s/%s", dir, files[i]) < 0) {
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		if (tid.len && kc_buildid_from_file(p, &id, NULL) == 0 &&
		    kc_buildid_equal(&id, &tid)) {
			/* a build may also leave a stripped copy: the one with symbols wins */
			free(*found);
			*found = p;
			if (dsym_has_symtab(p))
				ret = 0;
		} else {
			free(p);
		}
	}
	if (ret == -ESRCH && *found)
		ret = 0;
	for (size_t i = 0; i < n && ret == -ESRCH; i++) {
		const char *base = strrchr(files[i], '/');
		char *p;

		base = base ? base + 1 : files[i];
		if (strcmp(base, tbase))
			continue;
		named++;
		if (asprintf(&p, "%s/%s", dir, files[i]) < 0) {
			ret = kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		if (dsym_same_file(te, p, why, sizeof(why)) == 1) {
			*found = p;
			ret = 0;
		} else {
			snprintf(best_why, sizeof(best_why), "%.300s: %s", files[i], why);
			free(p);
		}
	}
	if (ret == -ESRCH)
		kc_err_set(err, -ESRCH, "the sources do not rebuild target '%s': %s", target,
			   named ? best_why : "no file of the build has its build-id or its name");
out:
	kc_dbuild_list_free(files, n);
	if (te)
		elf_end(te);
	close(fd);
	return ret;
}
