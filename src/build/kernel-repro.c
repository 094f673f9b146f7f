// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Does a rebuilt kernel object hold the code the target runs? Each
 * function of the object is looked up by name in the target's kallsyms
 * (a static name may be there several times: any one may match) and its
 * bytes compared with the image's, the bytes the object's relocations
 * will fill masked on both sides. Objects here are built without
 * -ffunction-sections, as in the kernel's own build, and objtool has
 * already run on them, so nothing else changes at link time (no IBT
 * sealing in Debian's 6.1 config).
 */
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/kernel-int.h"

struct repro_sec {
	Elf_Data *data;
	uint8_t *mask; /* owned: 1 where a relocation writes */
};

/* How many bytes an x86-64 relocation of @type writes. */
static size_t repro_reloc_size(unsigned type)
{
	switch (type) {
	case R_X86_64_64:
	case R_X86_64_PC64:
	case R_X86_64_GOTOFF64:
		return 8;
	case R_X86_64_NONE:
		return 0;
	default:
		return 4;
	}
}

static int repro_masks(Elf *elf, struct repro_sec *secs, size_t nsecs)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		struct repro_sec *s;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || sh.sh_info >= nsecs)
			continue;
		s = &secs[sh.sh_info];
		if (!s->data || !(d = elf_getdata(scn, NULL)))
			continue;
		if (!s->mask && !(s->mask = calloc(1, s->data->d_size + 8)))
			return -ENOMEM;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			size_t sz;

			if (!gelf_getrela(d, (int)i, &r))
				break;
			sz = repro_reloc_size((unsigned)GELF_R_TYPE(r.r_info));
			if (r.r_offset + sz <= s->data->d_size)
				memset(s->mask + r.r_offset, 1, sz);
		}
	}
	return 0;
}

static int repro_same(const uint8_t *a, const uint8_t *b, const uint8_t *mask, size_t len,
		      size_t *at)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i] && !(mask && mask[i])) {
			*at = i;
			return 0;
		}
	return 1;
}

/* 1 when one of the vmlinux functions named @name holds @code; 0 none; -ENOENT absent. */
static int repro_func(const struct kc_ktarget *t, const char *name, const uint8_t *code,
		      const uint8_t *mask, size_t len, size_t *at)
{
	struct kc_ksym_match m;
	uint8_t *buf = malloc(len ? len : 1);
	int found = -ENOENT;

	if (!buf)
		return -ENOMEM;
	if (kc_ksyms_find(&t->image->syms, name, 1, 1, &m) == 0)
		for (size_t pos = 1; pos <= m.count && found != 1; pos++) {
			struct kc_ksym_match one;

			if (kc_ksyms_find(&t->image->syms, name, pos, 1, &one) < 0 || !one.sym ||
			    !kc_ksym_is_func(one.sym->type) ||
			    kc_kimage_read(t->image, one.sym->addr, buf, len, NULL) < 0)
				continue;
			found = repro_same(code, buf, mask, len, at);
		}
	free(buf);
	return found;
}

int kc_krepro_check(const struct kc_ktarget *t, const char *obj, size_t *nsame, struct kc_err *err)
{
	int fd = open(obj, O_RDONLY | O_CLOEXEC), ret = 0;
	struct repro_sec *secs = NULL;
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	size_t nsecs = 0;
	GElf_Shdr sh;

	*nsame = 0;
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", obj, strerror(errno));
	elf_version(EV_CURRENT);
	if (!(elf = elf_begin(fd, ELF_C_READ, NULL)) || elf_getshdrnum(elf, &nsecs) < 0 ||
	    !(secs = calloc(nsecs, sizeof(*secs)))) {
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not an ELF object", obj);
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_PROGBITS &&
		    (sh.sh_flags & SHF_EXECINSTR))
			secs[elf_ndxscn(scn)].data = elf_getdata(scn, NULL);
	if (repro_masks(elf, secs, nsecs) < 0) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 1; i < sh.sh_size / sh.sh_entsize && !ret; i++) {
			GElf_Sym s;
			const char *name;
			struct repro_sec *sec;
			size_t at = 0;
			int r;

			/* a weak definition is overridden elsewhere: kallsyms names the other */
			if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    GELF_ST_BIND(s.st_info) == STB_WEAK || !s.st_size ||
			    s.st_shndx >= nsecs || !secs[s.st_shndx].data)
				continue;
			sec = &secs[s.st_shndx];
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || s.st_value + s.st_size > sec->data->d_size)
				continue;
			r = repro_func(t, name, (const uint8_t *)sec->data->d_buf + s.st_value,
				       sec->mask ? sec->mask + s.st_value : NULL, s.st_size, &at);
			if (r == 1)
				(*nsame)++;
			else if (r == 0)
				ret = kc_err_set(err, -ENOEXEC,
						 "'%s': function '%s' differs from the target's "
						 "vmlinux at +%#zx",
						 obj, name, at);
			else if (r == -ENOMEM)
				ret = kc_err_set(err, -ENOMEM, "out of memory");
		}
	}
out:
	for (size_t i = 0; secs && i < nsecs; i++)
		free(secs[i].mask);
	free(secs);
	elf_end(elf);
	close(fd);
	return ret;
}
