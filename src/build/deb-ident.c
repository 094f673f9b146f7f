// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Is a rebuilt object the installed one? Equal GNU build-ids say so; when
 * they differ (the toolchain that made the build-id changed, as for
 * Debian's zlib), every loaded section must be byte-identical at the same
 * address, the build-id note excepted, and so must the loadable segments.
 * Anything else is other code, and a patch made from it would be wrong.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/deb-int.h"
#include "kcare/conf.h"

struct ident_elf {
	int fd;
	Elf *elf;
	size_t shstrndx;
};

static int ident_open(const char *path, struct ident_elf *e, struct kc_err *err)
{
	e->elf = NULL;
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	elf_version(EV_CURRENT);
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || gelf_getclass(e->elf) != ELFCLASS64 ||
	    elf_getshdrstrndx(e->elf, &e->shstrndx) < 0)
		return kc_err_set(err, -ENOEXEC, "'%s' is not a 64-bit ELF file", path);
	return 0;
}

static void ident_close(struct ident_elf *e)
{
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
}

static const char *ident_name(struct ident_elf *e, const GElf_Shdr *sh)
{
	const char *n = elf_strptr(e->elf, e->shstrndx, sh->sh_name);

	return n ? n : "";
}

/* The loaded section of @e named @name, after index @after (for duplicate names). */
static Elf_Scn *ident_find_scn(struct ident_elf *e, const char *name, GElf_Shdr *sh)
{
	for (Elf_Scn *s = NULL; (s = elf_nextscn(e->elf, s)) != NULL;)
		if (gelf_getshdr(s, sh) && (sh->sh_flags & SHF_ALLOC) &&
		    !strcmp(ident_name(e, sh), name))
			return s;
	return NULL;
}

static int ident_segments(struct ident_elf *a, struct ident_elf *b, const char **why)
{
	size_t na, nb;
	GElf_Phdr pa, pb;

	if (elf_getphdrnum(a->elf, &na) < 0 || elf_getphdrnum(b->elf, &nb) < 0 || na != nb) {
		*why = "a different number of program headers";
		return -1;
	}
	for (size_t i = 0; i < na; i++) {
		if (!gelf_getphdr(a->elf, (int)i, &pa) || !gelf_getphdr(b->elf, (int)i, &pb))
			return *why = "unreadable program headers", -1;
		if (pa.p_type != pb.p_type || pa.p_flags != pb.p_flags)
			return *why = "other program headers", -1;
		if (pa.p_type == PT_LOAD &&
		    (pa.p_vaddr != pb.p_vaddr || pa.p_memsz != pb.p_memsz ||
		     pa.p_filesz != pb.p_filesz || pa.p_align != pb.p_align))
			return *why = "other loadable segments", -1;
	}
	return 0;
}

/* 0 if every loaded section of @a is in @b and the same; else names the first difference. */
static int ident_sections(struct ident_elf *a, struct ident_elf *b, char *why, size_t whysz)
{
	GElf_Shdr sa, sb;
	size_t na = 0, nb = 0;
	Elf_Data *da, *db;

	for (Elf_Scn *s = NULL; (s = elf_nextscn(a->elf, s)) != NULL;) {
		const char *name;
		Elf_Scn *t;

		if (!gelf_getshdr(s, &sa) || !(sa.sh_flags & SHF_ALLOC))
			continue;
		na++;
		name = ident_name(a, &sa);
		t = ident_find_scn(b, name, &sb);
		if (!t)
			return snprintf(why, whysz, "it has no section '%s'", name), -1;
		if (sa.sh_type != sb.sh_type || sa.sh_flags != sb.sh_flags ||
		    sa.sh_addr != sb.sh_addr || sa.sh_size != sb.sh_size)
			return snprintf(why, whysz, "section '%s' has another place or size", name),
			       -1;
		if (sa.sh_type == SHT_NOBITS || !strcmp(name, ".note.gnu.build-id"))
			continue;
		da = elf_rawdata(s, NULL);
		db = elf_rawdata(t, NULL);
		if (!da || !db || da->d_size != db->d_size ||
		    (da->d_size && memcmp(da->d_buf, db->d_buf, da->d_size))) {
			size_t off = 0;

			while (da && db && off < da->d_size && off < db->d_size &&
			       ((char *)da->d_buf)[off] == ((char *)db->d_buf)[off])
				off++;
			return snprintf(why, whysz, "section '%s' differs at offset 0x%zx", name,
					off),
			       -1;
		}
	}
	for (Elf_Scn *s = NULL; (s = elf_nextscn(b->elf, s)) != NULL;)
		if (gelf_getshdr(s, &sb) && (sb.sh_flags & SHF_ALLOC))
			nb++;
	if (na != nb)
		return snprintf(why, whysz, "it has %zu loaded sections, not %zu", nb, na), -1;
	return 0;
}

int kc_deb_ident_check(const char *installed, const char *rebuilt, enum kc_deb_match *how,
		       struct kc_err *err)
{
	struct ident_elf a = {.fd = -1}, b = {.fd = -1};
	struct kc_buildid ia, ib;
	GElf_Ehdr ea, eb;
	char why[256];
	const char *seg = NULL;
	int ret;

	if ((ret = ident_open(installed, &a, err)) < 0 || (ret = ident_open(rebuilt, &b, err)) < 0)
		goto out;
	if (kc_buildid_from_elf(a.elf, &ia, NULL) == 0 &&
	    kc_buildid_from_elf(b.elf, &ib, NULL) == 0 && kc_buildid_equal(&ia, &ib)) {
		*how = KC_DEB_SAME_BUILDID;
		goto out;
	}
	if (!gelf_getehdr(a.elf, &ea) || !gelf_getehdr(b.elf, &eb) || ea.e_type != eb.e_type ||
	    ea.e_machine != eb.e_machine || ea.e_entry != eb.e_entry) {
		snprintf(why, sizeof(why), "another ELF type, machine or entry point");
		ret = -ESRCH;
	} else if (ident_segments(&a, &b, &seg) < 0) {
		snprintf(why, sizeof(why), "%s", seg);
		ret = -ESRCH;
	} else if (ident_sections(&a, &b, why, sizeof(why)) < 0) {
		ret = -ESRCH;
	}
	if (ret < 0)
		kc_err_set(err, ret, "rebuilt '%s' is not the installed '%s': %s", rebuilt,
			   installed, why);
	else
		*how = KC_DEB_SAME_SECTIONS;
out:
	ident_close(&b);
	ident_close(&a);
	return ret;
}

/* nftw has no context pointer: the search in progress (one at a time per process). */
static struct {
	const char *base;
	char **v;
	size_t n;
	int nomem;
} ident_walk;

static int ident_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char **nv;

	(void)st;
	if (type != FTW_F || strcmp(path + ftw->base, ident_walk.base))
		return 0;
	nv = realloc(ident_walk.v, (ident_walk.n + 1) * sizeof(*nv));
	if (!nv || !(nv[ident_walk.n] = strdup(path))) {
		if (nv)
			ident_walk.v = nv;
		ident_walk.nomem = 1;
		return 1;
	}
	ident_walk.v = nv;
	ident_walk.n++;
	return 0;
}

/* Whether @path has a .symtab: a stripped copy (debian/<pkg>/...) is no use to the differ. */
static int ident_has_symtab(const char *path)
{
	struct ident_elf e = {.fd = -1};
	GElf_Shdr sh;
	int found = 0;

	if (ident_open(path, &e, NULL) == 0)
		for (Elf_Scn *s = NULL; !found && (s = elf_nextscn(e.elf, s)) != NULL;)
			found = gelf_getshdr(s, &sh) && sh.sh_type == SHT_SYMTAB;
	ident_close(&e);
	return found;
}

int kc_deb_ident_find(const char *installed, const char *tree, char **rebuilt,
		      enum kc_deb_match *how, struct kc_err *err)
{
	const char *base = strrchr(installed, '/');
	struct kc_err first = KC_ERR_INIT;
	int ret = -ENOENT;

	*rebuilt = NULL;
	memset(&ident_walk, 0, sizeof(ident_walk));
	ident_walk.base = base ? base + 1 : installed;
	if (nftw(tree, ident_visit, 32, FTW_PHYS) < 0 && !ident_walk.nomem) {
		ret = kc_err_set(err, -errno, "cannot search '%s': %s", tree, strerror(errno));
		goto out;
	}
	if (ident_walk.nomem) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ident_walk.n; i++) {
		struct kc_err e = KC_ERR_INIT;

		if (!ident_has_symtab(ident_walk.v[i]))
			continue;
		if (kc_deb_ident_check(installed, ident_walk.v[i], how, &e) == 0) {
			*rebuilt = ident_walk.v[i];
			ident_walk.v[i] = NULL;
			ret = 0;
			goto out;
		}
		if (!first.code)
			first = e;
	}
	if (first.code)
		ret = kc_err_set(err, first.code < 0 ? first.code : -ESRCH, "%s", first.msg);
	else
		ret = kc_err_set(err, -ENOENT, "the rebuild in '%s' made no unstripped '%s'", tree,
				 ident_walk.base);
out:
	for (size_t i = 0; i < ident_walk.n; i++)
		free(ident_walk.v[i]);
	free(ident_walk.v);
	memset(&ident_walk, 0, sizeof(ident_walk));
	return ret;
}

/* The file offset and size of the build-id's bytes in @path. */
static int ident_note_desc(const char *path, off_t *off, size_t *len, struct kc_err *err)
{
	struct ident_elf e = {.fd = -1};
	GElf_Shdr sh;
	Elf_Data *d;
	GElf_Nhdr nh;
	size_t noff, doff;
	int ret = -ENOENT;

	if ((ret = ident_open(path, &e, err)) < 0)
		goto out;
	ret = -ENOENT;
	for (Elf_Scn *s = NULL; (s = elf_nextscn(e.elf, s)) != NULL;) {
		if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_rawdata(s, NULL)))
			continue;
		for (size_t o = 0; (o = gelf_getnote(d, o, &nh, &noff, &doff)) > 0;) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)d->d_buf + noff, "GNU", 4))
				continue;
			*off = (off_t)(sh.sh_offset + doff);
			*len = nh.n_descsz;
			ret = 0;
			goto out;
		}
	}
	kc_err_set(err, ret, "'%s' has no build-id note", path);
out:
	ident_close(&e);
	return ret;
}

int kc_deb_ident_debug_file(const char *rebuilt, const struct kc_buildid *id, const char *path,
			    struct kc_err *err)
{
	off_t off = 0;
	size_t len = 0, size = 0;
	char *buf = NULL;
	int ret;

	if ((ret = ident_note_desc(rebuilt, &off, &len, err)) < 0)
		return ret;
	if (len != id->len)
		return kc_err_set(err, -ENOTSUP, "'%s' has a build-id of %zu bytes, not %zu",
				  rebuilt, len, id->len);
	ret = kc_file_read_all(rebuilt, (size_t)1 << 30, &buf, &size, err);
	if (ret < 0)
		return ret;
	if ((size_t)off > size || len > size - (size_t)off) {
		free(buf);
		return kc_err_set(err, -EIO, "'%s' changed while it was read", rebuilt);
	}
	/* the rebuild's loaded code is the installed one's: give it the installed identity */
	memcpy(buf + off, id->bytes, len);
	ret = kc_file_replace(path, buf, size, 0644, err);
	free(buf);
	return ret;
}
