// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The target object as kcare-build sees it: identity, defined symbols,
 * imported symbol versions and file bytes. Symbols come from .symtab if
 * the target has one; a stripped target gets .dynsym plus the .symtab of
 * its debug file (DEBUG_DIR/.build-id/xx/rest.debug, checked against the
 * target's build-id). Local symbols defined in several compilation units
 * under one name are kept, so that a reference to them can be refused.
 */
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/target.h"
#include "lib/patchfile.h"

#define TARGET_DEBUG_DIR "/usr/lib/debug"

void kc_target_close(struct kc_target *t)
{
	if (!t)
		return;
	free(t->syms);
	free(t->imports);
	free(t->irel);
	if (t->dbg)
		elf_end(t->dbg);
	if (t->dbg_fd >= 0)
		close(t->dbg_fd);
	if (t->elf)
		elf_end(t->elf);
	if (t->fd >= 0)
		close(t->fd);
	free(t->dbg_path);
	free(t->path);
	free(t);
}

static Elf_Scn *target_find_scn(Elf *elf, uint32_t type, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, sh) && sh->sh_type == type)
			return scn;
	return NULL;
}

/* Appends the defined FUNC/OBJECT/TLS/IFUNC symbols of one symbol table. */
static int target_add_syms(struct kc_target *t, Elf *elf, uint32_t type, struct kc_err *err)
{
	GElf_Shdr sh;
	Elf_Scn *scn = target_find_scn(elf, type, &sh);
	Elf_Data *data;
	size_t n, cap;
	struct kc_target_sym *ns;

	if (!scn || !(data = elf_getdata(scn, NULL)))
		return 0;
	n = sh.sh_size / sizeof(Elf64_Sym);
	cap = t->nsyms + n;
	ns = realloc(t->syms, (cap ? cap : 1) * sizeof(*ns));
	if (!ns)
		return kc_err_set(err, -ENOMEM, "out of memory");
	t->syms = ns;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		struct kc_target_sym *ts;
		unsigned char st;

		if (!gelf_getsym(data, (int)i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		st = GELF_ST_TYPE(s.st_info);
		if (st != STT_FUNC && st != STT_OBJECT && st != STT_TLS && st != STT_GNU_IFUNC)
			continue;
		ts = &t->syms[t->nsyms];
		ts->name = elf_strptr(elf, sh.sh_link, s.st_name);
		if (!ts->name || !*ts->name)
			continue;
		ts->value = s.st_value;
		ts->size = s.st_size;
		ts->type = st;
		ts->bind = GELF_ST_BIND(s.st_info);
		t->nsyms++;
	}
	return 0;
}

static int target_sym_cmp(const void *a, const void *b)
{
	const struct kc_target_sym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return (x->bind == STB_LOCAL) - (y->bind == STB_LOCAL);
}

static int target_import_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kc_target_import *)a)->name,
		      ((const struct kc_target_import *)b)->name);
}

/* Undefined .dynsym entries with the version .gnu.version_r gives them. */
static int target_read_imports(struct kc_target *t, struct kc_err *err)
{
	GElf_Shdr dsh, vsh, nsh;
	Elf_Scn *dyn = target_find_scn(t->elf, SHT_DYNSYM, &dsh);
	Elf_Scn *vs = target_find_scn(t->elf, SHT_GNU_versym, &vsh);
	Elf_Scn *vn = target_find_scn(t->elf, SHT_GNU_verneed, &nsh);
	Elf_Data *ddata, *vdata = vs ? elf_getdata(vs, NULL) : NULL;
	Elf_Data *ndata = vn ? elf_getdata(vn, NULL) : NULL;
	size_t n;

	if (!dyn || !(ddata = elf_getdata(dyn, NULL)))
		return 0;
	n = dsh.sh_size / sizeof(Elf64_Sym);
	t->imports = calloc(n ? n : 1, sizeof(*t->imports));
	if (!t->imports)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		GElf_Versym ver = 0;
		struct kc_target_import *im;

		if (!gelf_getsym(ddata, (int)i, &s) || s.st_shndx != SHN_UNDEF)
			continue;
		im = &t->imports[t->nimports];
		im->name = elf_strptr(t->elf, dsh.sh_link, s.st_name);
		if (!im->name || !*im->name)
			continue;
		im->type = GELF_ST_TYPE(s.st_info);
		im->version = "";
		if (vdata && gelf_getversym(vdata, (int)i, &ver) && (ver & 0x7fff) >= 2 && ndata) {
			size_t off = 0;
			GElf_Verneed need;

			/* walk every Verneed/Vernaux pair for the index of this symbol */
			for (int k = 0; k < 1000 && gelf_getverneed(ndata, (int)off, &need); k++) {
				size_t aoff = off + need.vn_aux;
				GElf_Vernaux aux;

				for (unsigned j = 0;
				     j < need.vn_cnt && gelf_getvernaux(ndata, (int)aoff, &aux);
				     j++) {
					if (aux.vna_other == (ver & 0x7fff)) {
						const char *v =
						    elf_strptr(t->elf, nsh.sh_link, aux.vna_name);
						im->version = v ? v : "";
					}
					if (!aux.vna_next)
						break;
					aoff += aux.vna_next;
				}
				if (!need.vn_next)
					break;
				off += need.vn_next;
			}
		}
		t->nimports++;
	}
	qsort(t->imports, t->nimports, sizeof(*t->imports), target_import_cmp);
	return 0;
}

/* Opens the debug file for a stripped target; absent is fine, mismatched is not. */
static int target_open_debug(struct kc_target *t, const char *debug_dir, struct kc_err *err)
{
	char hex[2 * KC_BUILDID_MAX + 1];
	struct kc_buildid id;
	int ret;

	kc_buildid_to_hex(&t->build_id, hex, sizeof(hex));
	if (asprintf(&t->dbg_path, "%s/.build-id/%.2s/%s.debug",
		     debug_dir ? debug_dir : TARGET_DEBUG_DIR, hex, hex + 2) < 0) {
		t->dbg_path = NULL;
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	t->dbg_fd = open(t->dbg_path, O_RDONLY | O_CLOEXEC);
	if (t->dbg_fd < 0) {
		free(t->dbg_path);
		t->dbg_path = NULL;
		return 0;
	}
	t->dbg = elf_begin(t->dbg_fd, ELF_C_READ_MMAP, NULL);
	if (!t->dbg || elf_kind(t->dbg) != ELF_K_ELF)
		return kc_err_set(err, -ENOEXEC, "debug file '%s' is not an ELF file", t->dbg_path);
	ret = kc_buildid_from_elf(t->dbg, &id, err);
	if (ret < 0 || !kc_buildid_equal(&id, &t->build_id))
		return kc_err_set(err, -ENOEXEC,
				  "debug file '%s' does not match the target's build-id",
				  t->dbg_path);
	return 0;
}

/* IRELATIVE relocations (static executables, self-calls of ifuncs in libraries). */
static int target_read_irel(struct kc_target *t, struct kc_err *err)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(t->elf, scn)) != NULL) {
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		n = sh.sh_size / sizeof(Elf64_Rela);
		for (size_t i = 0; i < n; i++) {
			GElf_Rela r;
			uint64_t(*ni)[2];

			if (!gelf_getrela(data, (int)i, &r) ||
			    GELF_R_TYPE(r.r_info) != R_X86_64_IRELATIVE)
				continue;
			ni = realloc(t->irel, (t->nirel + 1) * sizeof(*ni));
			if (!ni)
				return kc_err_set(err, -ENOMEM, "out of memory");
			t->irel = ni;
			t->irel[t->nirel][0] = (uint64_t)r.r_addend;
			t->irel[t->nirel][1] = r.r_offset;
			t->nirel++;
		}
	}
	return 0;
}

int kc_target_ifunc_slot(const struct kc_target *t, uint64_t resolver, uint64_t *slot)
{
	for (size_t i = 0; i < t->nirel; i++)
		if (t->irel[i][0] == resolver) {
			*slot = t->irel[i][1];
			return 0;
		}
	return -ENOENT;
}

static int target_read_soname(struct kc_target *t)
{
	GElf_Shdr sh;
	Elf_Scn *scn = target_find_scn(t->elf, SHT_DYNAMIC, &sh);
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
	GElf_Dyn dyn;

	for (int i = 0; data && gelf_getdyn(data, i, &dyn) && dyn.d_tag != DT_NULL; i++)
		if (dyn.d_tag == DT_SONAME)
			t->soname = elf_strptr(t->elf, sh.sh_link, dyn.d_un.d_val);
	return 0;
}

int kc_target_open(const char *path, const char *debug_dir, struct kc_target **out,
		   struct kc_err *err)
{
	struct kc_target *t;
	GElf_Shdr sh;
	char b1[32];
	int ret;

	*out = NULL;
	elf_version(EV_CURRENT);
	t = calloc(1, sizeof(*t));
	if (!t || !(t->path = strdup(path))) {
		free(t);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	t->dbg_fd = -1;
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->fd < 0) {
		ret = kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
		goto fail;
	}
	t->elf = elf_begin(t->fd, ELF_C_READ_MMAP, NULL);
	if (!t->elf || elf_kind(t->elf) != ELF_K_ELF || !gelf_getehdr(t->elf, &t->eh) ||
	    gelf_getclass(t->elf) != ELFCLASS64) {
		ret = kc_err_set(err, -ENOEXEC, "target '%s' is not an ELF64 file", path);
		goto fail;
	}
	if (t->eh.e_machine != EM_X86_64) {
		ret = kc_err_set(err, -ENOEXEC, "wrong architecture: target '%s' is for %s", path,
				 kc_patch_machine_name(t->eh.e_machine, b1, sizeof(b1)));
		goto fail;
	}
	if (t->eh.e_type != ET_EXEC && t->eh.e_type != ET_DYN) {
		ret = kc_err_set(err, -ENOEXEC,
				 "target '%s' is not an executable or a shared object", path);
		goto fail;
	}
	if (kc_buildid_from_elf(t->elf, &t->build_id, NULL) < 0) {
		ret = kc_err_set(err, -ENOEXEC, "target '%s' has no GNU build-id", path);
		goto fail;
	}
	if (target_find_scn(t->elf, SHT_SYMTAB, &sh)) {
		ret = target_add_syms(t, t->elf, SHT_SYMTAB, err);
	} else {
		if ((ret = target_add_syms(t, t->elf, SHT_DYNSYM, err)) < 0 ||
		    (ret = target_open_debug(t, debug_dir, err)) < 0)
			goto fail;
		if (t->dbg)
			ret = target_add_syms(t, t->dbg, SHT_SYMTAB, err);
	}
	if (ret < 0 || (ret = target_read_imports(t, err)) < 0 ||
	    (ret = target_read_irel(t, err)) < 0 || (ret = target_read_soname(t)) < 0)
		goto fail;
	qsort(t->syms, t->nsyms, sizeof(*t->syms), target_sym_cmp);
	*out = t;
	return 0;
fail:
	kc_target_close(t);
	return ret;
}

int kc_target_lookup(const struct kc_target *t, const char *name, const struct kc_target_sym **out,
		     struct kc_err *err)
{
	size_t lo = 0, hi = t->nsyms, nlocal = 0;
	const struct kc_target_sym *local = NULL;

	*out = NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->syms[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < t->nsyms && !strcmp(t->syms[i].name, name); i++) {
		const struct kc_target_sym *s = &t->syms[i];

		if (s->bind != STB_LOCAL) {
			*out = s;
			return 0;
		}
		/* the same definition may be listed twice (.dynsym and the debug file) */
		if (!local || local->value != s->value)
			nlocal++;
		local = s;
	}
	if (nlocal > 1)
		return kc_err_set(err, -ENOTUNIQ,
				  "ambiguous static symbol '%s' in target (%zu definitions)", name,
				  nlocal);
	*out = local;
	return local ? 0 : -ENOENT;
}

const struct kc_target_import *kc_target_import(const struct kc_target *t, const char *name)
{
	struct kc_target_import key = {name, NULL, 0};

	return bsearch(&key, t->imports, t->nimports, sizeof(key), target_import_cmp);
}

int kc_target_read(const struct kc_target *t, uint64_t vaddr, void *buf, size_t len,
		   struct kc_err *err)
{
	size_t phnum = 0;

	if (elf_getphdrnum(t->elf, &phnum) < 0)
		phnum = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		ssize_t n;

		if (!gelf_getphdr(t->elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    vaddr < ph.p_vaddr || vaddr - ph.p_vaddr > ph.p_filesz ||
		    len > ph.p_filesz - (vaddr - ph.p_vaddr))
			continue;
		n = pread(t->fd, buf, len, (off_t)(ph.p_offset + (vaddr - ph.p_vaddr)));
		if (n == (ssize_t)len)
			return 0;
		return kc_err_set(err, n < 0 ? -errno : -EIO, "cannot read target '%s' at %#llx",
				  t->path, (unsigned long long)vaddr);
	}
	return kc_err_set(err, -ENOEXEC, "address %#llx is not in a loaded part of target '%s'",
			  (unsigned long long)vaddr, t->path);
}

const char *kc_target_name(const struct kc_target *t)
{
	const char *slash;

	if (t->soname && *t->soname)
		return t->soname;
	slash = strrchr(t->path, '/');
	return slash ? slash + 1 : t->path;
}
