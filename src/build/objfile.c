// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading the author's relocatable object through libelf: sections,
 * symbols and RELA entries, with index checks so that later passes can
 * index freely. It decides nothing about what goes into a patch (that is
 * layout.c and reloc.c).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/objfile.h"
#include "lib/patchfile.h"

void kc_objfile_close(struct kc_objfile *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nsecs; i++)
		free(o->secs[i].relas);
	free(o->secs);
	free(o->syms);
	if (o->elf)
		elf_end(o->elf);
	if (o->fd >= 0)
		close(o->fd);
	free(o->path);
	free(o);
}

static int objfile_read_sections(struct kc_objfile *o, size_t shstrndx, struct kc_err *err)
{
	Elf_Scn *scn = NULL;

	o->secs = calloc(o->nsecs ? o->nsecs : 1, sizeof(*o->secs));
	if (!o->secs)
		return kc_err_set(err, -ENOMEM, "out of memory");
	while ((scn = elf_nextscn(o->elf, scn)) != NULL) {
		size_t i = elf_ndxscn(scn);
		struct kc_objfile_sec *s;

		if (i >= o->nsecs)
			return kc_err_set(err, -ENOEXEC, "'%s': bad section table", o->path);
		s = &o->secs[i];
		if (!gelf_getshdr(scn, &s->sh))
			return kc_err_set(err, -ENOEXEC, "'%s': bad section %zu", o->path, i);
		s->name = elf_strptr(o->elf, shstrndx, s->sh.sh_name);
		if (!s->name)
			return kc_err_set(err, -ENOEXEC, "'%s': bad name of section %zu", o->path,
					  i);
		if (s->sh.sh_type == SHT_REL)
			return kc_err_set(err, -ENOEXEC, "'%s': REL relocations are not supported",
					  o->path);
		if (s->sh.sh_type != SHT_NOBITS && s->sh.sh_size) {
			s->data = elf_getdata(scn, NULL);
			if (!s->data || s->data->d_size != s->sh.sh_size)
				return kc_err_set(err, -ENOEXEC, "'%s': cannot read section '%s'",
						  o->path, s->name);
		}
	}
	return 0;
}

static int objfile_read_symtab(struct kc_objfile *o, struct kc_err *err)
{
	size_t symtab = 0;

	for (size_t i = 1; i < o->nsecs; i++) {
		if (o->secs[i].sh.sh_type != SHT_SYMTAB)
			continue;
		if (symtab)
			return kc_err_set(err, -ENOEXEC, "'%s': more than one symbol table",
					  o->path);
		symtab = i;
	}
	if (!symtab || !o->secs[symtab].data || o->secs[symtab].sh.sh_link >= o->nsecs)
		return kc_err_set(err, -ENOEXEC, "'%s': no symbol table", o->path);
	o->nsyms = o->secs[symtab].sh.sh_size / sizeof(Elf64_Sym);
	o->syms = calloc(o->nsyms ? o->nsyms : 1, sizeof(*o->syms));
	if (!o->syms)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < o->nsyms; i++) {
		struct kc_objfile_sym *s = &o->syms[i];

		if (!gelf_getsym(o->secs[symtab].data, (int)i, &s->sym))
			return kc_err_set(err, -ENOEXEC, "'%s': bad symbol %zu", o->path, i);
		s->type = GELF_ST_TYPE(s->sym.st_info);
		s->bind = GELF_ST_BIND(s->sym.st_info);
		if (s->sym.st_shndx == SHN_XINDEX)
			return kc_err_set(err, -ENOEXEC, "'%s': too many sections", o->path);
		if (s->sym.st_shndx != SHN_UNDEF && s->sym.st_shndx < SHN_LORESERVE &&
		    s->sym.st_shndx >= o->nsecs)
			return kc_err_set(err, -ENOEXEC, "'%s': symbol %zu has a bad section",
					  o->path, i);
		if (s->type == STT_SECTION && s->sym.st_shndx < o->nsecs)
			s->name = o->secs[s->sym.st_shndx].name;
		else
			s->name = elf_strptr(o->elf, o->secs[symtab].sh.sh_link, s->sym.st_name);
		if (!s->name)
			return kc_err_set(err, -ENOEXEC, "'%s': bad name of symbol %zu", o->path,
					  i);
	}
	return 0;
}

static int objfile_read_relas(struct kc_objfile *o, struct kc_err *err)
{
	for (size_t i = 1; i < o->nsecs; i++) {
		struct kc_objfile_sec *r = &o->secs[i], *t;

		if (r->sh.sh_type != SHT_RELA)
			continue;
		if (r->sh.sh_info == 0 || r->sh.sh_info >= o->nsecs)
			return kc_err_set(err, -ENOEXEC, "'%s': section '%s' applies to no section",
					  o->path, r->name);
		t = &o->secs[r->sh.sh_info];
		if (t->rela_sec)
			return kc_err_set(err, -ENOEXEC, "'%s': section '%s' has two RELA sections",
					  o->path, t->name);
		t->rela_sec = i;
		t->nrelas = r->data ? r->sh.sh_size / sizeof(Elf64_Rela) : 0;
		t->relas = calloc(t->nrelas ? t->nrelas : 1, sizeof(*t->relas));
		if (!t->relas)
			return kc_err_set(err, -ENOMEM, "out of memory");
		for (size_t k = 0; k < t->nrelas; k++) {
			if (!gelf_getrela(r->data, (int)k, &t->relas[k]))
				return kc_err_set(err, -ENOEXEC, "'%s': bad relocation in '%s'",
						  o->path, r->name);
			if (GELF_R_SYM(t->relas[k].r_info) >= o->nsyms)
				return kc_err_set(err, -ENOEXEC,
						  "'%s': relocation in '%s' has a bad symbol",
						  o->path, r->name);
		}
	}
	return 0;
}

int kc_objfile_open(const char *path, struct kc_objfile **out, struct kc_err *err)
{
	struct kc_objfile *o;
	GElf_Ehdr eh;
	size_t shstrndx;
	char b1[32], b2[32];
	int ret;

	*out = NULL;
	elf_version(EV_CURRENT);
	o = calloc(1, sizeof(*o));
	if (!o || !(o->path = strdup(path))) {
		free(o);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	o->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (o->fd < 0) {
		ret = kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
		goto fail;
	}
	o->elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL);
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF || !gelf_getehdr(o->elf, &eh) ||
	    gelf_getclass(o->elf) != ELFCLASS64) {
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not an ELF64 file", path);
		goto fail;
	}
	if (eh.e_machine != EM_X86_64) {
		ret = kc_err_set(err, -ENOEXEC, "wrong architecture: '%s' is for %s, expected %s",
				 path, kc_patch_machine_name(eh.e_machine, b1, sizeof(b1)),
				 kc_patch_machine_name(EM_X86_64, b2, sizeof(b2)));
		goto fail;
	}
	if (eh.e_type != ET_REL) {
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not a relocatable object (.o)", path);
		goto fail;
	}
	if (elf_getshdrnum(o->elf, &o->nsecs) < 0 || elf_getshdrstrndx(o->elf, &shstrndx) < 0) {
		ret = kc_err_set(err, -ENOEXEC, "'%s': bad section table", path);
		goto fail;
	}
	if ((ret = objfile_read_sections(o, shstrndx, err)) < 0 ||
	    (ret = objfile_read_symtab(o, err)) < 0 || (ret = objfile_read_relas(o, err)) < 0)
		goto fail;
	*out = o;
	return 0;
fail:
	kc_objfile_close(o);
	return ret;
}
