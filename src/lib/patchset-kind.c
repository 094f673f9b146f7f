// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a patch file of a patchset is: a userspace patch (whatever
 * kc_patch_parse() accepts; its metadata fills or checks the patchset's)
 * or a kernel module (an ELF relocatable object whose .modinfo carries the
 * kcare tags of docs/kernel-patches.md: series id, level, the target
 * kernel's identity). Loading modules is the kernel agent's business; here
 * we only make sure the file is of the kind its product carries and read
 * what it says about itself, so the metadata can be held to it.
 */
#include <gelf.h>
#include <stddef.h>
#include <stdio.h>
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

/* The .modinfo tags kcare reads (docs/kernel-patches.md); strings owned. */
struct ps_modinfo {
	char *name, *id, *level, *build_id, *kernel_id, *release, *effective;
};

static void ps_modinfo_free(struct ps_modinfo *mi)
{
	if (!mi)
		return;
	free(mi->name);
	free(mi->id);
	free(mi->level);
	free(mi->build_id);
	free(mi->kernel_id);
	free(mi->release);
	free(mi->effective);
	free(mi);
}

/* The slot of @key in @mi, or NULL for a tag kcare does not read. */
static char **ps_modinfo_slot(struct ps_modinfo *mi, const char *key, size_t klen)
{
	static const struct {
		const char *key;
		size_t off;
	} tags[] = {
	    {"name", offsetof(struct ps_modinfo, name)},
	    {"kcare_id", offsetof(struct ps_modinfo, id)},
	    {"kcare_level", offsetof(struct ps_modinfo, level)},
	    {"kcare_build_id", offsetof(struct ps_modinfo, build_id)},
	    {"kcare_kernel_id", offsetof(struct ps_modinfo, kernel_id)},
	    {"kcare_release", offsetof(struct ps_modinfo, release)},
	    {"kcare_effective", offsetof(struct ps_modinfo, effective)},
	};

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strlen(tags[i].key) == klen && !memcmp(key, tags[i].key, klen))
			return (char **)((char *)mi + tags[i].off);
	return NULL;
}

/*
 * The tags of a kernel module: its .modinfo section is a run of
 * NUL-terminated key=value strings. A tag given twice is refused (which
 * one would the kernel or the agent believe?). Returns NULL, with the
 * reason in @why, if @buf is not a module at all.
 */
static struct ps_modinfo *ps_modinfo_read(const void *buf, size_t len, const char **why)
{
	struct ps_modinfo *mi = NULL;
	struct ps_elf pe;
	GElf_Ehdr eh;
	Elf_Data *d;

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
	*why = "out of memory";
	mi = calloc(1, sizeof(*mi));
	if (!mi)
		goto out;
	for (size_t off = 0; off < d->d_size;) {
		const char *s = (const char *)d->d_buf + off;
		const char *nul = memchr(s, '\0', d->d_size - off);
		const char *eq = nul ? memchr(s, '=', (size_t)(nul - s)) : NULL;
		char **slot = eq ? ps_modinfo_slot(mi, s, (size_t)(eq - s)) : NULL;

		if (!nul)
			break;
		if (slot && *slot) {
			*why = "a kcare tag or name= appears twice in .modinfo";
			goto bad;
		}
		if (slot && !(*slot = strdup(eq + 1))) {
			*why = "out of memory";
			goto bad;
		}
		off += (size_t)(nul - s) + 1;
	}
	*why = "no name= in .modinfo";
	if (!mi->name)
		goto bad;
	/* kcare-build kmod writes every tag; an empty one says "not known" */
	char **tags[] = {&mi->id,	 &mi->level,   &mi->build_id,
			 &mi->kernel_id, &mi->release, &mi->effective};
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (*tags[i] && !**tags[i]) {
			free(*tags[i]);
			*tags[i] = NULL;
		}
	goto out;
bad:
	ps_modinfo_free(mi);
	mi = NULL;
out:
	ps_elf_close(&pe);
	return mi;
}

int kc_patchset_module_name(const char *id, uint32_t level, char *buf, size_t bufsz)
{
	char tmp[128];
	int n;

	if (!kc_patchset_id_ok(id))
		return -EINVAL;
	n = snprintf(tmp, sizeof(tmp), "kcare_%s_%u", id, level);
	if (n < 0 || n > 55 || (size_t)n >= bufsz)
		return -ENAMETOOLONG;
	for (char *p = tmp + 6; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			*p = '_';
	memcpy(buf, tmp, (size_t)n + 1);
	return 0;
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
	struct ps_modinfo *mi;
	struct kc_patch *p;
	const char *why;
	int ret;

	ret = kc_patch_parse(buf, len, &p, err);
	if (ret < 0) {
		mi = ps_modinfo_read(buf, len, &why);
		if (mi) {
			ps_modinfo_free(mi);
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

/* kcare_level: a decimal number from 1, no sign, no leading zero. */
static int ps_level_parse(const char *s, uint32_t *level)
{
	unsigned long long v = 0;

	if (!*s || *s == '0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return -1;
	for (; *s; s++)
		v = v * 10 + (unsigned)(*s - '0');
	if (v > UINT32_MAX)
		return -1;
	*level = (uint32_t)v;
	return 0;
}

/* The kcare tags of a module, each checked; -EBADMSG naming the first bad one. */
static int ps_modinfo_check(const struct ps_modinfo *mi, struct ps_inspect *out, struct kc_err *err)
{
	char q[PS_QUOTE_MAX + 8], want[64];

	ps_quote(mi->name, q, sizeof(q));
	if (strncmp(mi->name, "kcare_", 6))
		return kc_err_set(err, -EBADMSG,
				  "module '%s' is not a kcare module (its name does not start "
				  "with kcare_)",
				  q);
	if (!mi->id || !mi->level || !mi->build_id)
		return kc_err_set(
		    err, -EBADMSG,
		    "module '%s' has no %s in .modinfo (not made by kcare-build kmod?)", q,
		    !mi->id	 ? "kcare_id"
		    : !mi->level ? "kcare_level"
				 : "kcare_build_id");
	if (!kc_patchset_id_ok(mi->id))
		return kc_err_set(err, -EBADMSG,
				  "module '%s': bad kcare_id (want [A-Za-z0-9._-]{1,63})", q);
	if (ps_level_parse(mi->level, &out->level) < 0)
		return kc_err_set(err, -EBADMSG, "module '%s': bad kcare_level (want 1 or more)",
				  q);
	if (!ps_hex_ok(mi->build_id, PS_HEXID_MAX))
		return kc_err_set(err, -EBADMSG,
				  "module '%s': kcare_build_id is not lowercase hex (2-128 digits)",
				  q);
	if (mi->kernel_id &&
	    (strlen(mi->kernel_id) != PS_KERNEL_ID_HEX || !ps_hex_ok(mi->kernel_id, 40)))
		return kc_err_set(err, -EBADMSG,
				  "module '%s': kcare_kernel_id is not 40 lowercase hex digits", q);
	if ((mi->release && !ps_release_ok(mi->release)) ||
	    (mi->effective && *mi->effective && !ps_release_ok(mi->effective)))
		return kc_err_set(err, -EBADMSG,
				  "module '%s': kcare_release or kcare_effective is not a kernel "
				  "release",
				  q);
	if (kc_patchset_module_name(mi->id, out->level, want, sizeof(want)) < 0)
		return kc_err_set(err, -EBADMSG,
				  "module '%s': kcare_<id>_<level> is longer than 55 characters",
				  q);
	if (strcmp(mi->name, want))
		return kc_err_set(err, -EBADMSG,
				  "module '%s': its kcare_id and kcare_level make the name %s", q,
				  want);
	return 0;
}

static int ps_inspect_module(const void *buf, size_t len, struct ps_inspect *out,
			     struct kc_err *err)
{
	struct ps_modinfo *mi;
	const char *why;
	int ret;

	if (ps_looks_user(buf, len))
		return kc_err_set(err, -EBADMSG, "a userspace patch, not a kernel module");
	mi = ps_modinfo_read(buf, len, &why);
	if (!mi)
		return kc_err_set(err, -EBADMSG, "not a kernel module (%s)", why);
	ret = ps_modinfo_check(mi, out, err);
	if (ret < 0) {
		ps_modinfo_free(mi);
		return ret;
	}
	out->owner = mi;
	snprintf(out->build_id, sizeof(out->build_id), "%s", mi->build_id);
	out->kernel_id = mi->kernel_id;
	out->id = mi->id;
	out->module = mi->name;
	out->release = mi->release;
	out->effective = mi->effective && *mi->effective ? mi->effective : NULL;
	out->target_name = "vmlinux";
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
		ps_modinfo_free(in->owner);
	in->owner = NULL;
}
