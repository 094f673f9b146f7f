// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ELF objects mapped in a process: grouping /proc/PID/maps entries into
 * objects, computing each one's load bias, build-id, soname and PT_TLS, and
 * answering dynamic symbol / relocation questions from its file. Files are
 * opened through /proc/PID/map_files so that the very inode mapped is read,
 * whatever the mount namespace and even after the file was replaced on disk.
 * Reading the target's memory (beyond the [vdso] image) belongs to resolve.c.
 *
 * Per-object tables (symbol hash, version names, dynamic relocations) are
 * built on first use and kept in obj->priv until kc_objs_release().
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcare/objs.h"

/* One dynamic relocation, decoded once. */
struct obj_rela {
	uint64_t offset;
	int64_t addend;
	uint32_t type;
	uint32_t sym; /* index in the dynsym the section links to; 0: none */
};

/* A symbol table with a name hash built over it (chains through @next, 0 ends a chain). */
struct obj_symtab {
	bool ready;
	Elf_Data *syms;
	size_t strndx; /* section index of its string table */
	size_t n;
	uint32_t *bucket, *next;
	size_t nbucket;
};

/* Relocation type numbers of the object's machine (x86_64 or aarch64). */
struct obj_reltypes {
	uint32_t irelative, glob_dat, jump_slot, dtpmod64, tpoff64;
};

struct obj_priv {
	int fd;	     /* -1 when not open */
	Elf *elf;    /* NULL until opened */
	void *image; /* owned: [vdso] bytes behind elf (elf_memory) */
	size_t image_len;
	struct obj_symtab dyn, sym;
	/* GNU symbol versioning of .dynsym */
	Elf_Data *versym;     /* NULL: unversioned object */
	const char **vername; /* indexed by version index; borrowed from libelf */
	size_t nvername;
	/* dynamic relocations */
	bool relas_ready;
	struct obj_rela *relas;
	size_t nrelas;
	struct obj_reltypes rt;
};

static struct obj_priv *obj_priv(struct kc_obj *obj)
{
	return obj->priv;
}

static int obj_reltypes(uint16_t machine, struct obj_reltypes *rt)
{
	switch (machine) {
	case EM_X86_64:
		*rt =
		    (struct obj_reltypes){R_X86_64_IRELATIVE, R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT,
					  R_X86_64_DTPMOD64, R_X86_64_TPOFF64};
		return 0;
	case EM_AARCH64:
		*rt = (struct obj_reltypes){R_AARCH64_IRELATIVE, R_AARCH64_GLOB_DAT,
					    R_AARCH64_JUMP_SLOT, R_AARCH64_TLS_DTPMOD,
					    R_AARCH64_TLS_TPREL};
		return 0;
	default:
		return -ENOTSUP;
	}
}

/* Opens obj->file (or the [vdso] image already in priv) with libelf into p->elf. */
static int obj_open(struct kc_obj *obj, struct kc_err *err)
{
	struct obj_priv *p = obj_priv(obj);
	GElf_Ehdr eh;
	int ret;

	if (p->elf)
		return 0;
	if (p->image) {
		p->elf = elf_memory(p->image, p->image_len);
	} else {
		p->fd = open(obj->file, O_RDONLY | O_CLOEXEC);
		if (p->fd < 0) {
			ret = -errno;
			return kc_err_set(err, ret, "cannot open '%s' (%s): %s", obj->file,
					  obj->path, strerror(-ret));
		}
		/*
		 * Read on demand rather than mapped: `patch -p all` opens every object of
		 * thousands of processes, and each unmap flushes TLBs on every CPU.
		 */
		p->elf = elf_begin(p->fd, ELF_C_READ, NULL);
	}
	if (!p->elf || elf_kind(p->elf) != ELF_K_ELF || !gelf_getehdr(p->elf, &eh)) {
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not an ELF object", obj->path);
		goto fail;
	}
	if (obj_reltypes(eh.e_machine, &p->rt)) {
		ret = kc_err_set(err, -ENOTSUP, "'%s': unsupported machine %u", obj->path,
				 (unsigned)eh.e_machine);
		goto fail;
	}
	return 0;
fail:
	if (p->elf)
		elf_end(p->elf);
	p->elf = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	return ret;
}

Elf *kc_obj_elf(struct kc_obj *obj, struct kc_err *err)
{
	return obj_open(obj, err) ? NULL : obj_priv(obj)->elf;
}

static void obj_priv_free(struct obj_priv *p)
{
	if (!p)
		return;
	free(p->dyn.bucket);
	free(p->dyn.next);
	free(p->sym.bucket);
	free(p->sym.next);
	free(p->vername);
	free(p->relas);
	if (p->elf)
		elf_end(p->elf);
	if (p->fd >= 0)
		close(p->fd);
	free(p->image);
	free(p);
}

/* A classic string hash; only has to spread names over buckets. */
static uint32_t obj_hash(const char *s)
{
	uint32_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static Elf_Scn *obj_find_section(Elf *elf, uint32_t type)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			return scn;
	}
	return NULL;
}

/* Builds the name hash of the symbol table in section type @type (SHT_DYNSYM / SHT_SYMTAB). */
static int obj_symtab_build(Elf *elf, uint32_t type, struct obj_symtab *t)
{
	Elf_Scn *scn = obj_find_section(elf, type);
	GElf_Shdr sh;

	t->ready = true;
	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_entsize == 0)
		return 0; /* no table: every lookup misses */
	t->syms = elf_getdata(scn, NULL);
	if (!t->syms)
		return 0;
	t->strndx = sh.sh_link;
	t->n = sh.sh_size / sh.sh_entsize;
	if (t->n == 0 || t->n > UINT32_MAX)
		return t->n ? -EFBIG : 0;
	t->nbucket = t->n / 2 + 1;
	t->bucket = calloc(t->nbucket, sizeof(*t->bucket));
	t->next = calloc(t->n, sizeof(*t->next));
	if (!t->bucket || !t->next)
		return -ENOMEM;
	/* Insert backwards so that chains list lower indices first, as the table does. */
	for (size_t i = t->n - 1; i > 0; i--) {
		GElf_Sym s;
		const char *name;
		size_t b;

		if (!gelf_getsym(t->syms, (int)i, &s) || s.st_name == 0)
			continue;
		name = elf_strptr(elf, t->strndx, s.st_name);
		if (!name || !*name)
			continue;
		b = obj_hash(name) % t->nbucket;
		t->next[i] = t->bucket[b];
		t->bucket[b] = (uint32_t)i;
	}
	return 0;
}

/* Records @name for version index @ndx (from a verdef or a verneed entry). */
static int obj_vername_set(struct obj_priv *p, size_t ndx, const char *name)
{
	if (ndx >= p->nvername) {
		size_t nn = ndx + 1;
		const char **nv = reallocarray(p->vername, nn, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		memset(nv + p->nvername, 0, (nn - p->nvername) * sizeof(*nv));
		p->vername = nv;
		p->nvername = nn;
	}
	p->vername[ndx] = name;
	return 0;
}

/* Version definitions: vd_ndx -> the name of its first verdaux. */
static int obj_verdefs_read(Elf *elf, Elf_Scn *vd, struct obj_priv *p)
{
	GElf_Shdr sh;
	Elf_Data *d;
	size_t off = 0;
	int ret;

	if (!vd || !gelf_getshdr(vd, &sh) || !(d = elf_getdata(vd, NULL)))
		return 0;
	for (size_t cnt = 0; cnt < sh.sh_info; cnt++) {
		GElf_Verdef def;
		GElf_Verdaux aux;

		if (!gelf_getverdef(d, (int)off, &def))
			break;
		if (def.vd_cnt && gelf_getverdaux(d, (int)(off + def.vd_aux), &aux) &&
		    (ret = obj_vername_set(p, def.vd_ndx,
					   elf_strptr(elf, sh.sh_link, aux.vda_name))) < 0)
			return ret;
		if (def.vd_next == 0)
			break;
		off += def.vd_next;
	}
	return 0;
}

/* Versions needed from other objects: vna_other -> vna_name. */
static int obj_verneeds_read(Elf *elf, Elf_Scn *vn, struct obj_priv *p)
{
	GElf_Shdr sh;
	Elf_Data *d;
	size_t off = 0;
	int ret;

	if (!vn || !gelf_getshdr(vn, &sh) || !(d = elf_getdata(vn, NULL)))
		return 0;
	for (size_t cnt = 0; cnt < sh.sh_info; cnt++) {
		GElf_Verneed need;
		GElf_Vernaux aux;
		size_t aoff;

		if (!gelf_getverneed(d, (int)off, &need))
			break;
		aoff = off + need.vn_aux;
		for (unsigned k = 0; k < need.vn_cnt && gelf_getvernaux(d, (int)aoff, &aux); k++) {
			ret = obj_vername_set(p, aux.vna_other & 0x7fff,
					      elf_strptr(elf, sh.sh_link, aux.vna_name));
			if (ret < 0)
				return ret;
			if (aux.vna_next == 0)
				break;
			aoff += aux.vna_next;
		}
		if (need.vn_next == 0)
			break;
		off += need.vn_next;
	}
	return 0;
}

/*
 * Version index -> name, as ld.so's l_versions: definitions and also needed versions, because a
 * program's copy of a library's variable (R_X86_64_COPY) is a definition whose index names the
 * version it needed.
 */
static int obj_versions_build(Elf *elf, struct obj_priv *p)
{
	Elf_Scn *vs = obj_find_section(elf, SHT_GNU_versym);
	int ret;

	if (!vs)
		return 0;
	p->versym = elf_getdata(vs, NULL);
	ret = obj_verdefs_read(elf, obj_find_section(elf, SHT_GNU_verdef), p);
	if (ret == 0)
		ret = obj_verneeds_read(elf, obj_find_section(elf, SHT_GNU_verneed), p);
	return ret;
}

static int obj_dyn_ready(struct kc_obj *obj, struct kc_err *err)
{
	struct obj_priv *p = obj_priv(obj);
	Elf *elf;
	int ret;

	if (p->dyn.ready)
		return 0;
	ret = obj_open(obj, err);
	if (ret)
		return ret;
	elf = p->elf;
	ret = obj_symtab_build(elf, SHT_DYNSYM, &p->dyn);
	if (!ret)
		ret = obj_versions_build(elf, p);
	if (ret)
		return kc_err_set(err, ret, "'%s': cannot index dynamic symbols: %s", obj->path,
				  strerror(-ret));
	return 0;
}

/* Does dynsym entry @i carry the requested version (see kc_obj_dynsym())? */
static bool obj_version_matches(struct obj_priv *p, size_t i, const char *version)
{
	GElf_Versym vs;
	unsigned ndx;
	bool hidden;

	if (!p->versym) /* unversioned object: its definitions satisfy any reference */
		return true;
	if (!gelf_getversym(p->versym, (int)i, &vs))
		return false;
	ndx = vs & 0x7fff;
	hidden = vs & 0x8000;
	if (!version || !*version)
		return !hidden || ndx <= 1;
	/*
	 * Index 0 is local. An index that names no version (1 in an object without version
	 * definitions, a program's unversioned copy say) satisfies a versioned reference unless
	 * hidden, as in ld.so; 1 in an object with definitions is its base version (the soname).
	 */
	if (ndx == 0)
		return false;
	if (ndx >= p->nvername || !p->vername[ndx])
		return ndx == 1 && !hidden;
	return strcmp(p->vername[ndx], version) == 0;
}

int kc_obj_dynsym(struct kc_obj *obj, const char *name, const char *version, GElf_Sym *sym,
		  struct kc_err *err)
{
	struct obj_priv *p = obj_priv(obj);
	int ret;

	ret = obj_dyn_ready(obj, err);
	if (ret)
		return ret;
	if (p->dyn.nbucket) {
		for (uint32_t i = p->dyn.bucket[obj_hash(name) % p->dyn.nbucket]; i;
		     i = p->dyn.next[i]) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(p->dyn.syms, (int)i, &s) || s.st_shndx == SHN_UNDEF)
				continue;
			n = elf_strptr(p->elf, p->dyn.strndx, s.st_name);
			if (!n || strcmp(n, name) != 0 || !obj_version_matches(p, i, version))
				continue;
			*sym = s;
			return 0;
		}
	}
	return kc_err_set(err, -ENOENT, "no symbol '%s%s%s' in '%s'", name,
			  version && *version ? "@" : "", version ? version : "", obj->path);
}

int kc_obj_symtab(struct kc_obj *obj, const char *name, GElf_Sym *sym, struct kc_err *err)
{
	struct obj_priv *p = obj_priv(obj);
	Elf *elf;
	int ret;

	ret = obj_open(obj, err);
	if (ret)
		return ret;
	elf = p->elf;
	if (!p->sym.ready) {
		ret = obj_symtab_build(elf, SHT_SYMTAB, &p->sym);
		if (ret)
			return kc_err_set(err, ret, "'%s': cannot index symbols: %s", obj->path,
					  strerror(-ret));
	}
	if (p->sym.nbucket) {
		for (uint32_t i = p->sym.bucket[obj_hash(name) % p->sym.nbucket]; i;
		     i = p->sym.next[i]) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(p->sym.syms, (int)i, &s) || s.st_shndx == SHN_UNDEF)
				continue;
			n = elf_strptr(elf, p->sym.strndx, s.st_name);
			if (n && strcmp(n, name) == 0) {
				*sym = s;
				return 0;
			}
		}
	}
	return kc_obj_dynsym(obj, name, NULL, sym, err);
}

/* Decodes every allocated SHT_RELA section (.rela.dyn, .rela.plt) once. */
static int obj_relas_ready(struct kc_obj *obj, struct kc_err *err)
{
	struct obj_priv *p = obj_priv(obj);
	Elf_Scn *scn = NULL;
	size_t cap = 0;
	Elf *elf;
	int ret;

	if (p->relas_ready)
		return 0;
	ret = obj_dyn_ready(obj, err);
	if (ret)
		return ret;
	elf = p->elf;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !(sh.sh_flags & SHF_ALLOC) || sh.sh_entsize == 0 ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Rela r;

			if (!gelf_getrela(d, (int)i, &r))
				break;
			if (p->nrelas == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct obj_rela *nv = reallocarray(p->relas, ncap, sizeof(*nv));

				if (!nv)
					return kc_err_set(err, -ENOMEM, "out of memory");
				p->relas = nv;
				cap = ncap;
			}
			p->relas[p->nrelas++] = (struct obj_rela){
			    .offset = r.r_offset,
			    .addend = r.r_addend,
			    .type = (uint32_t)GELF_R_TYPE(r.r_info),
			    .sym = (uint32_t)GELF_R_SYM(r.r_info),
			};
		}
	}
	p->relas_ready = true;
	return 0;
}

static bool obj_dynsym_get(struct obj_priv *p, uint32_t i, GElf_Sym *s)
{
	return p->dyn.syms && i < p->dyn.n && gelf_getsym(p->dyn.syms, (int)i, s);
}

int kc_obj_irelative_slot(struct kc_obj *obj, uint64_t resolver, uint64_t *slot, struct kc_err *err)
{
	struct obj_priv *p = obj_priv(obj);
	int ret = obj_relas_ready(obj, err);

	if (ret)
		return ret;
	for (size_t i = 0; i < p->nrelas; i++) {
		if (p->relas[i].type == p->rt.irelative &&
		    (uint64_t)p->relas[i].addend == resolver) {
			*slot = p->relas[i].offset;
			return 0;
		}
	}
	return kc_err_set(err, -ENOENT, "no irelative relocation for resolver %#llx in '%s'",
			  (unsigned long long)resolver, obj->path);
}

int kc_obj_import_slot(struct kc_obj *obj, const char *name, uint64_t *slot, struct kc_err *err)
{
	struct obj_priv *p = obj_priv(obj);
	int ret = obj_relas_ready(obj, err);

	if (ret)
		return ret;
	for (size_t i = 0; i < p->nrelas; i++) {
		const struct obj_rela *r = &p->relas[i];
		const char *n;
		GElf_Sym s;

		if ((r->type != p->rt.glob_dat && r->type != p->rt.jump_slot) || !r->sym ||
		    !obj_dynsym_get(p, r->sym, &s))
			continue;
		n = elf_strptr(p->elf, p->dyn.strndx, s.st_name);
		if (n && strcmp(n, name) == 0) {
			*slot = r->offset;
			return 0;
		}
	}
	return kc_err_set(err, -ENOENT, "no import slot for '%s' in '%s'", name, obj->path);
}

/* A TLS relocation counts only if it refers to the object's own module: no symbol, or a defined
 * one. */
static bool obj_rela_own_tls(struct obj_priv *p, const struct obj_rela *r, GElf_Sym *s)
{
	memset(s, 0, sizeof(*s));
	if (!r->sym)
		return true;
	return obj_dynsym_get(p, r->sym, s) && s->st_shndx != SHN_UNDEF;
}

/* The first relocation of @type against the object's own TLS; NULL if none. */
static const struct obj_rela *obj_own_tls_rela(struct obj_priv *p, uint32_t type, GElf_Sym *s)
{
	for (size_t i = 0; i < p->nrelas; i++)
		if (p->relas[i].type == type && obj_rela_own_tls(p, &p->relas[i], s))
			return &p->relas[i];
	return NULL;
}

/*
 * The TPOFF (@tpoff) or DTPMOD relocation against a TLS symbol of @obj
 * itself (the relocation types are known once the object is read).
 */
static int obj_own_tls_slot(struct kc_obj *obj, int tpoff, const struct obj_rela **r, GElf_Sym *s,
			    struct kc_err *err)
{
	struct obj_priv *p = obj_priv(obj);
	int ret = obj_relas_ready(obj, err);

	if (ret)
		return ret;
	*r = obj_own_tls_rela(p, tpoff ? p->rt.tpoff64 : p->rt.dtpmod64, s);
	if (!*r)
		return kc_err_set(err, -ENOENT, "no %s slot in '%s'",
				  tpoff ? "tp offset" : "module id", obj->path);
	return 0;
}

int kc_obj_dtpmod_slot(struct kc_obj *obj, uint64_t *slot, struct kc_err *err)
{
	const struct obj_rela *r;
	GElf_Sym s;
	int ret = obj_own_tls_slot(obj, 0, &r, &s, err);

	if (ret)
		return ret;
	*slot = r->offset;
	return 0;
}

int kc_obj_tpoff_slot(struct kc_obj *obj, uint64_t *slot, uint64_t *sym_off, struct kc_err *err)
{
	const struct obj_rela *r;
	GElf_Sym s;
	int ret = obj_own_tls_slot(obj, 1, &r, &s, err);

	if (ret)
		return ret;
	*slot = r->offset;
	*sym_off = s.st_value + (uint64_t)r->addend;
	return 0;
}

int kc_obj_dt_debug_slot(struct kc_obj *obj, uint64_t *slot, struct kc_err *err)
{
	size_t phnum = 0;
	int ret = obj_open(obj, err);
	Elf *elf = obj_priv(obj)->elf;

	if (ret)
		return ret;
	if (elf_getphdrnum(elf, &phnum) != 0)
		phnum = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		Elf_Data *d;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_DYNAMIC)
			continue;
		d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_DYN);
		for (size_t k = 0; d && k < ph.p_filesz / sizeof(Elf64_Dyn); k++) {
			GElf_Dyn dyn;

			if (!gelf_getdyn(d, (int)k, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag == DT_DEBUG) {
				*slot =
				    ph.p_vaddr + k * sizeof(Elf64_Dyn) + offsetof(Elf64_Dyn, d_un);
				return 0;
			}
		}
	}
	return kc_err_set(err, -ENOENT, "no DT_DEBUG in '%s'", obj->path);
}

/*
 * Reads the per-object facts kept in struct kc_obj (bias, type, TLS, build-id, soname).
 * @map is the group's first mapping. -ENOEXEC for a file that is not a loadable ELF object.
 */
static int obj_describe(struct kc_obj *obj, const struct kc_proc_map *map, struct kc_err *err)
{
	size_t phnum = 0, pagesz = (size_t)sysconf(_SC_PAGESIZE);
	bool have_bias = false;
	GElf_Ehdr eh;
	Elf_Scn *scn;
	Elf *elf;
	int ret;

	ret = obj_open(obj, err);
	if (ret)
		return ret;
	elf = obj_priv(obj)->elf;
	if (!gelf_getehdr(elf, &eh) || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
	    elf_getphdrnum(elf, &phnum) != 0)
		return kc_err_set(err, -ENOEXEC, "'%s' is not a loadable ELF object", obj->path);
	obj->e_type = eh.e_type;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		uint64_t off0;

		if (!gelf_getphdr(elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_TLS) {
			obj->has_tls = true;
			obj->tls_vaddr = ph.p_vaddr;
			obj->tls_memsz = ph.p_memsz;
			obj->tls_filesz = ph.p_filesz;
			obj->tls_align = ph.p_align ? ph.p_align : 1;
		}
		if (ph.p_type != PT_LOAD || have_bias)
			continue;
		/*
		 * p_vaddr and p_offset are congruent modulo the page size, so the mapping at
		 * file offset o of this segment sits at bias + p_vaddr - p_offset + o.
		 */
		off0 = ph.p_offset & ~(uint64_t)(pagesz - 1);
		if (obj->is_vdso) {
			obj->bias = map->start - (ph.p_vaddr & ~(uint64_t)(pagesz - 1));
			have_bias = true;
		} else if (map->offset >= off0 && map->offset < ph.p_offset + ph.p_filesz) {
			obj->bias = map->start - map->offset - (ph.p_vaddr - ph.p_offset);
			have_bias = true;
		}
	}
	if (!have_bias)
		return kc_err_set(err, -ENOEXEC, "'%s': no PT_LOAD matches its mapping", obj->path);
	if (eh.e_type == ET_EXEC)
		obj->bias = 0;
	kc_buildid_from_elf(elf, &obj->build_id, NULL);
	scn = obj_find_section(elf, SHT_DYNAMIC);
	if (scn) {
		GElf_Shdr sh;
		Elf_Data *d = elf_getdata(scn, NULL);

		gelf_getshdr(scn, &sh);
		for (size_t k = 0; d && sh.sh_entsize && k < sh.sh_size / sh.sh_entsize; k++) {
			GElf_Dyn dyn;
			const char *s;

			if (!gelf_getdyn(d, (int)k, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_SONAME)
				continue;
			s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			if (s && !(obj->soname = strdup(s)))
				return kc_err_set(err, -ENOMEM, "out of memory");
			break;
		}
	}
	return 0;
}

static bool objs_is_file_map(const struct kc_proc_map *m)
{
	return m->path[0] == '/' && m->inode != 0;
}

/* Picks the path to open the mapped file: map_files when we may read it, else through the target's
 * root. */
static char *objs_file_path(pid_t pid, const struct kc_proc_map *m)
{
	char *s = NULL;
	int fd;

	if (asprintf(&s, "/proc/%d/map_files/%llx-%llx", (int)pid, (unsigned long long)m->start,
		     (unsigned long long)m->end) < 0)
		return NULL;
	fd = open(s, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return s;
	}
	free(s);
	if (asprintf(&s, "/proc/%d/root%s", (int)pid, m->path) < 0)
		return NULL;
	return s;
}

/* Reads the [vdso] image out of the process: it exists only in memory. */
static int objs_read_vdso(pid_t pid, const struct kc_proc_map *m, struct obj_priv *p,
			  struct kc_err *err)
{
	char path[64];
	size_t len = m->end - m->start, done = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kc_err_set(err, errno == ENOENT ? -ESRCH : -errno, "cannot open '%s': %m",
				  path);
	p->image = malloc(len);
	if (!p->image) {
		close(fd);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	while (done < len) {
		ssize_t r =
		    pread(fd, (char *)p->image + done, len - done, (off_t)(m->start + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? -errno : -EIO;

			close(fd);
			return kc_err_set(err, e, "cannot read [vdso] of process %d: %s", (int)pid,
					  strerror(-e));
		}
		done += (size_t)r;
	}
	close(fd);
	p->image_len = len;
	return 0;
}

void kc_objs_release(struct kc_objs *objs)
{
	if (!objs)
		return;
	for (size_t i = 0; i < objs->n; i++) {
		free(objs->v[i].path);
		free(objs->v[i].file);
		free(objs->v[i].soname);
		obj_priv_free(objs->v[i].priv);
	}
	free(objs->v);
	objs->v = NULL;
	objs->n = 0;
}

/* Builds one object from maps [first, last] (all of one file, or the [vdso]); -ENOEXEC: not ELF,
 * skip it. */
static int objs_add(struct kc_objs *out, size_t *cap, const struct kc_proc_maps *maps, size_t first,
		    size_t last, struct kc_err *err)
{
	const struct kc_proc_map *m = &maps->v[first];
	struct kc_obj *obj;
	struct obj_priv *p;
	int ret;

	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct kc_obj *nv = reallocarray(out->v, ncap, sizeof(*nv));

		if (!nv)
			return kc_err_set(err, -ENOMEM, "out of memory");
		out->v = nv;
		*cap = ncap;
	}
	obj = &out->v[out->n];
	memset(obj, 0, sizeof(*obj));
	p = calloc(1, sizeof(*p));
	if (!p)
		return kc_err_set(err, -ENOMEM, "out of memory");
	p->fd = -1;
	obj->priv = p;
	obj->lo = m->start;
	obj->hi = maps->v[last].end;
	obj->is_vdso = strcmp(m->path, "[vdso]") == 0;
	obj->path = strdup(m->path);
	if (obj->is_vdso) {
		obj->file = strdup(m->path);
		ret = obj->path && obj->file
			  ? objs_read_vdso(maps->tid ? maps->tid : out->pid, m, p, err)
			  : -ENOMEM;
	} else {
		struct stat st;

		obj->file = objs_file_path(maps->tid ? maps->tid : out->pid, m);
		ret = obj->path && obj->file ? 0 : -ENOMEM;
		/* Mapped devices (GPU, /dev/zero): opening them can have side effects; never ELF.
		 */
		if (!ret && (stat(obj->file, &st) != 0 || !S_ISREG(st.st_mode)))
			ret = kc_err_set(err, -ENOEXEC, "'%s' is not a regular file", obj->path);
	}
	if (ret == -ENOMEM)
		kc_err_set(err, ret, "out of memory");
	if (!ret)
		ret = obj_describe(obj, m, err);
	if (!ret && !obj->is_vdso) {
		/* Keep no fd per object between calls; lookups reopen lazily. */
		elf_end(p->elf);
		p->elf = NULL;
		close(p->fd);
		p->fd = -1;
	}
	if (ret) {
		free(obj->path);
		free(obj->file);
		free(obj->soname);
		obj_priv_free(p);
		return ret;
	}
	out->n++;
	return 0;
}

int kc_objs_read(pid_t pid, const struct kc_proc_maps *maps, struct kc_objs *out,
		 struct kc_err *err)
{
	uint64_t phdr = 0, entry = 0;
	size_t cap = 0, i = 0;
	int ret;

	out->v = NULL;
	out->n = 0;
	out->pid = pid;
	elf_version(EV_CURRENT);
	if (kc_proc_auxv(pid, AT_PHDR, &phdr, NULL) == -ESRCH)
		return kc_err_set(err, -ESRCH, "process %d exited", (int)pid);
	kc_proc_auxv(pid, AT_ENTRY, &entry, NULL);
	while (i < maps->n) {
		const struct kc_proc_map *m = &maps->v[i];
		size_t last = i, j;

		if (strcmp(m->path, "[vdso]") == 0) {
			ret = objs_add(out, &cap, maps, i, i, err);
			if (ret && ret != -ENOEXEC)
				goto fail;
			i++;
			continue;
		}
		if (!objs_is_file_map(m)) {
			i++;
			continue;
		}
		/*
		 * Group the file's mappings: following ones of the same inode, across anonymous
		 * gaps (.bss, alignment holes), until another file, or the same file starting
		 * over at offset 0 (mapped a second time).
		 */
		for (j = i + 1; j < maps->n; j++) {
			const struct kc_proc_map *n = &maps->v[j];

			if (n->path[0] == '\0' && n->inode == 0)
				continue;
			if (n->inode != m->inode || n->dev_major != m->dev_major ||
			    n->dev_minor != m->dev_minor || strcmp(n->path, m->path) != 0 ||
			    n->offset == 0)
				break;
			last = j;
		}
		ret = objs_add(out, &cap, maps, i, last, err);
		if (ret == -ESRCH || ret == -ENOMEM)
			goto fail;
		kc_err_clear(
		    err); /* anything else (not ELF, unreadable file) just skips the file */
		i = last + 1;
	}
	/* The program first, the rest stays in address order. */
	for (i = 0; i < out->n; i++) {
		struct kc_obj *o = &out->v[i];

		if (o->is_vdso)
			continue;
		if ((phdr && phdr >= o->lo && phdr < o->hi) ||
		    (!phdr && entry && entry >= o->lo && entry < o->hi)) {
			struct kc_obj tmp = *o;

			tmp.is_main = true;
			memmove(&out->v[1], &out->v[0], i * sizeof(*o));
			out->v[0] = tmp;
			break;
		}
	}
	return 0;
fail:
	kc_objs_release(out);
	return ret;
}

struct kc_obj *kc_objs_find_addr(struct kc_objs *objs, uint64_t addr)
{
	for (size_t i = 0; i < objs->n; i++)
		if (addr >= objs->v[i].lo && addr < objs->v[i].hi)
			return &objs->v[i];
	return NULL;
}
