// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a patch file of a patchset is: a userspace patch (whatever
 * kc_patch_parse() accepts; its metadata fills or checks the patchset's)
 * or a kernel module (an ELF relocatable object with a .modinfo section
 * naming the module). Loading modules is the kernel agent's business; here
 * we only make sure the file is of the kind its product carries.
 */
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/patch.h"
#include "lib/patchset-int.h"

/* Elf handle over a copy of @buf: libelf wants a writable image. */
struct ps_elf {
	Elf *elf;
	char *copy;
};

static int ps_elf_open(const void *buf, size_t len, struct ps_elf *pe)
{
	pe->elf = NULL;
	pe->copy = NULL;
	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG))
		return -1;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -1;
	pe->copy = malloc(len);
	if (!pe->copy)
		return -1;
	memcpy(pe->copy, buf, len);
	pe->elf = elf_memory(pe->copy, len);
	if (!pe->elf || elf_kind(pe->elf) != ELF_K_ELF) {
		if (pe->elf)
			elf_end(pe->elf);
		free(pe->copy);
		pe->elf = NULL;
		pe->copy = NULL;
		return -1;
	}
	return 0;
}

static void ps_elf_close(struct ps_elf *pe)
{
	if (pe->elf)
		elf_end(pe->elf);
	free(pe->copy);
}

/* The data of section @name, or NULL. */
static Elf_Data *ps_elf_section(Elf *elf, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			return NULL;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name))
			return sh.sh_type == SHT_NOBITS ? NULL : elf_getdata(scn, NULL);
	}
	return NULL;
}

/*
 * The module name of a kernel module: the "name=" entry of .modinfo, a
 * run of NUL-terminated key=value strings. Returns a malloc'd copy or NULL
 * (and a reason in @why) if @buf is not a module.
 */
static char *ps_module_name(const void *buf, size_t len, const char **why)
{
	struct ps_elf pe;
	GElf_Ehdr eh;
	Elf_Data *d;
	char *name = NULL;

	*why = "not an ELF file";
	if (ps_elf_open(buf, len, &pe) < 0)
		return NULL;
	*why = "not an ELF relocatable object";
	if (!gelf_getehdr(pe.elf, &eh) || eh.e_type != ET_REL)
		goto out;
	*why = "no .modinfo section";
	d = ps_elf_section(pe.elf, ".modinfo");
	if (!d || !d->d_buf)
		goto out;
	*why = "no name= in .modinfo";
	for (size_t off = 0; off < d->d_size;) {
		const char *s = (const char *)d->d_buf + off;
		const char *nul = memchr(s, '\0', d->d_size - off);
		size_t n = nul ? (size_t)(nul - s) : d->d_size - off;

		if (nul && !strncmp(s, "name=", 5)) {
			name = strdup(s + 5);
			if (!name)
				*why = "out of memory";
			break;
		}
		off += n + 1;
	}
out:
	ps_elf_close(&pe);
	return name;
}

/* Whether @buf has the .kcare.meta section of a userspace patch. */
static int ps_looks_user(const void *buf, size_t len)
{
	struct ps_elf pe;
	int r;

	if (ps_elf_open(buf, len, &pe) < 0)
		return 0;
	r = ps_elf_section(pe.elf, KC_PF_SEC_META) != NULL;
	ps_elf_close(&pe);
	return r;
}

static int ps_inspect_user(const void *buf, size_t len, struct ps_inspect *out, struct kc_err *err)
{
	struct kc_patch *p;
	const char *why;
	char *mod;
	int ret;

	ret = kc_patch_parse(buf, len, &p, err);
	if (ret < 0) {
		mod = ps_module_name(buf, len, &why);
		if (mod) {
			free(mod);
			return kc_err_set(err, -EBADMSG, "a kernel module, not a userspace patch");
		}
		if (!err)
			return -EBADMSG;
		err->code = -EBADMSG;
		return kc_err_prefix(err, "not a valid userspace patch");
	}
	out->owner = p;
	kc_buildid_to_hex(&p->build_id, out->build_id, sizeof(out->build_id));
	out->target_name = p->target_name;
	out->id = p->id;
	out->level = p->level;
	out->cves = p->cves;
	out->ncves = p->ncves;
	out->description = p->description;
	return 0;
}

static int ps_inspect_module(const void *buf, size_t len, struct ps_inspect *out,
			     struct kc_err *err)
{
	const char *why;
	char *name;

	if (ps_looks_user(buf, len))
		return kc_err_set(err, -EBADMSG, "a userspace patch, not a kernel module");
	name = ps_module_name(buf, len, &why);
	if (!name)
		return kc_err_set(err, -EBADMSG, "not a kernel module (%s)", why);
	out->owner = name;
	out->id = name;
	out->target_name = "vmlinux";
	out->level = 0;
	out->description = "";
	return 0;
}

int ps_inspect(enum kc_patchset_kind kind, const void *buf, size_t len, struct ps_inspect *out,
	       struct kc_err *err)
{
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	if (kind == KC_PATCHSET_USER)
		return ps_inspect_user(buf, len, out, err);
	return ps_inspect_module(buf, len, out, err);
}

void ps_inspect_release(struct ps_inspect *in)
{
	if (!in->owner)
		return;
	if (in->kind == KC_PATCHSET_USER)
		kc_patch_free(in->owner);
	else
		free(in->owner);
	in->owner = NULL;
}
