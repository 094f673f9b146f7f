/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel modules for unit tests: the smallest ELF64 relocatable object
 * with a .modinfo section, enough for the patchset code
 * (docs/kernel-patches.md tags). Include after cmocka.h and
 * kcare/patchset.h.
 */
#ifndef KC_TEST_KMOD_FIXTURE_H
#define KC_TEST_KMOD_FIXTURE_H

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A minimal kernel module: ELF64 ET_REL whose .modinfo is @modinfo (@mlen bytes). */
static inline void make_module_raw(const char *modinfo, size_t mlen, uint8_t **buf, size_t *len)
{
	static const char shstr[] = "\0.modinfo\0.shstrtab";
	size_t shoff = (64 + mlen + sizeof(shstr) + 7) & ~(size_t)7;
	Elf64_Ehdr eh = {0};
	Elf64_Shdr sh[3] = {{0}};

	*len = shoff + sizeof(sh);
	*buf = calloc(1, *len);
	assert_non_null(*buf);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_shoff = shoff;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 2;
	sh[1] = (Elf64_Shdr){.sh_name = 1,
			     .sh_type = SHT_PROGBITS,
			     .sh_flags = SHF_ALLOC,
			     .sh_offset = 64,
			     .sh_size = mlen,
			     .sh_addralign = 1};
	sh[2] = (Elf64_Shdr){.sh_name = 10,
			     .sh_type = SHT_STRTAB,
			     .sh_offset = 64 + mlen,
			     .sh_size = sizeof(shstr),
			     .sh_addralign = 1};
	memcpy(*buf, &eh, sizeof(eh));
	memcpy(*buf + 64, modinfo, mlen);
	memcpy(*buf + 64 + mlen, shstr, sizeof(shstr));
	memcpy(*buf + shoff, sh, sizeof(sh));
}

/*
 * A kcare module (docs/kernel-patches.md) of series @id, level @level, for
 * the kernel of build-id @bid and kernel id @kid (NULL: no such tag).
 */
static inline void make_module(const char *id, uint32_t level, const char *bid, const char *kid,
			       uint8_t **buf, size_t *len)
{
	char name[64], modinfo[512];
	int n;

	assert_int_equal(kc_patchset_module_name(id, level, name, sizeof(name)), 0);
	n = snprintf(modinfo, sizeof(modinfo),
		     "license=GPL%cname=%s%ckcare_id=%s%ckcare_level=%u%ckcare_build_id=%s%c"
		     "kcare_release=6.1.0-57-amd64%ckcare_effective=%c",
		     0, name, 0, id, 0, level, 0, bid, 0, 0, 0);
	if (kid)
		n += snprintf(modinfo + n, sizeof(modinfo) - (size_t)n, "kcare_kernel_id=%s%c", kid,
			      0);
	make_module_raw(modinfo, (size_t)n, buf, len);
}

#endif
