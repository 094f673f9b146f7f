// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A module's .modinfo (NUL-separated "key=value" strings) read with libelf
 * from the bytes of the .ko, and the check that a kcare module was built
 * for the running kernel, done before the kernel ever sees the module:
 * vermagic's release, and the kernel identity that kcare-build kmod wrote
 * into kcare_build_id / kcare_kernel_id (docs/kernel-patches.md).
 */
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/kpatch.h"

bool kc_kpatch_is_ours(const char *name)
{
	return !strncmp(name, KC_KPATCH_PREFIX, strlen(KC_KPATCH_PREFIX));
}

static int copy(char *dst, size_t size, const char *val, size_t len, const char *key,
		struct kc_err *err)
{
	if (len >= size)
		return kc_err_set(err, -EBADMSG, "module .modinfo: '%s' is too long", key);
	memcpy(dst, val, len);
	dst[len] = '\0';
	return 0;
}

static int take(struct kc_modinfo *mi, const char *s, size_t len, struct kc_err *err)
{
	const char *eq = memchr(s, '=', len);
	size_t klen, vlen;
	const char *v;
	char num[16];

	if (!eq)
		return 0;
	klen = (size_t)(eq - s);
	v = eq + 1;
	vlen = len - klen - 1;
#define KEY(k) (klen == strlen(k) && !memcmp(s, k, klen))
	if (KEY("name"))
		return copy(mi->name, sizeof(mi->name), v, vlen, "name", err);
	if (KEY("vermagic"))
		return copy(mi->vermagic, sizeof(mi->vermagic), v, vlen, "vermagic", err);
	if (KEY("kcare_id"))
		return copy(mi->kcare_id, sizeof(mi->kcare_id), v, vlen, "kcare_id", err);
	if (KEY("kcare_build_id"))
		return copy(mi->kcare_build_id, sizeof(mi->kcare_build_id), v, vlen,
			    "kcare_build_id", err);
	if (KEY("kcare_kernel_id"))
		return copy(mi->kcare_kernel_id, sizeof(mi->kcare_kernel_id), v, vlen,
			    "kcare_kernel_id", err);
	if (KEY("kcare_release"))
		return copy(mi->kcare_release, sizeof(mi->kcare_release), v, vlen, "kcare_release",
			    err);
	if (KEY("kcare_effective"))
		return copy(mi->kcare_effective, sizeof(mi->kcare_effective), v, vlen,
			    "kcare_effective", err);
	if (KEY("livepatch")) {
		mi->livepatch = vlen == 1 && (v[0] == 'Y' || v[0] == 'y');
		return 0;
	}
	/* kcare-build kmod writes every tag, empty when it does not know the value */
	if (KEY("kcare_level") && vlen == 0)
		return 0;
	if (KEY("kcare_level")) {
		char *end;
		unsigned long l;

		if (copy(num, sizeof(num), v, vlen, "kcare_level", err) < 0)
			return -EBADMSG;
		l = strtoul(num, &end, 10);
		if (!vlen || *end || l < 1 || l > UINT32_MAX || num[0] == '-' || num[0] == '+')
			return kc_err_set(err, -EBADMSG, "module .modinfo: bad kcare_level '%s'",
					  num);
		mi->kcare_level = (uint32_t)l;
	}
#undef KEY
	return 0;
}

int kc_kpatch_modinfo_parse(const void *buf, size_t len, struct kc_modinfo *mi, struct kc_err *err)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t shstrndx;
	int ret = -ENOEXEC;

	memset(mi, 0, sizeof(*mi));
	elf_version(EV_CURRENT);
	elf = elf_memory((char *)buf, len);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) || eh.e_type != ET_REL ||
	    elf_getshdrstrndx(elf, &shstrndx) < 0) {
		ret = kc_err_set(err, -ENOEXEC,
				 "not a kernel module (not an ELF relocatable object)");
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".modinfo"))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || sh.sh_type == SHT_NOBITS || !d->d_buf) {
			ret = kc_err_set(err, -ENOEXEC, "kernel module: .modinfo cannot be read");
			goto out;
		}
		ret = 0;
		for (size_t off = 0; off < d->d_size && ret == 0;) {
			const char *s = (const char *)d->d_buf + off;
			const char *nul = memchr(s, '\0', d->d_size - off);
			size_t l = nul ? (size_t)(nul - s) : d->d_size - off;

			if (l)
				ret = take(mi, s, l, err);
			off += l + 1;
		}
		goto out;
	}
	ret = kc_err_set(err, -ENOEXEC, "not a kernel module (no .modinfo section)");
out:
	elf_end(elf);
	return ret;
}

int kc_kpatch_modinfo_check(const struct kc_modinfo *mi, const struct kc_kernel_ident *id,
			    struct kc_err *err)
{
	size_t rl = strlen(id->release);

	if (!mi->name[0] || !kc_kpatch_is_ours(mi->name))
		return kc_err_set(err, -EINVAL, "module '%s' is not a kcare live patch (name)",
				  mi->name);
	if (!mi->livepatch)
		return kc_err_set(err, -EINVAL, "module '%s' is not a live patch (no livepatch=Y)",
				  mi->name);
	/* vermagic is "RELEASE SMP preempt mod_unload ..." */
	if (strncmp(mi->vermagic, id->release, rl) || (mi->vermagic[rl] != ' ' && mi->vermagic[rl]))
		return kc_err_set(
		    err, -EXDEV, "module '%s' is built for kernel '%.*s', this kernel is '%s'",
		    mi->name, (int)strcspn(mi->vermagic, " "), mi->vermagic, id->release);
	if (mi->kcare_build_id[0] && id->build_id[0] && strcmp(mi->kcare_build_id, id->build_id))
		return kc_err_set(
		    err, -EXDEV, "module '%s' is built for kernel build-id %s, this kernel's is %s",
		    mi->name, mi->kcare_build_id, id->build_id);
	if (mi->kcare_kernel_id[0] && id->kernel_id[0] &&
	    strcmp(mi->kcare_kernel_id, id->kernel_id))
		return kc_err_set(err, -EXDEV,
				  "module '%s' is built for kernel id %s, this kernel's is %s",
				  mi->name, mi->kcare_kernel_id, id->kernel_id);
	return 0;
}
