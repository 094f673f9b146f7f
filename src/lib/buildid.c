// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * GNU build-id reading through libelf. Looks at PT_NOTE segments first
 * (what a loaded object carries) and falls back to SHT_NOTE sections, so
 * it works on executables, shared objects and relocatable objects alike.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kcare/buildid.h"

static int buildid_scan_notes(Elf_Data *data, struct kc_buildid *id)
{
	GElf_Nhdr nhdr;
	size_t off = 0, name_off, desc_off;

	while (data && (off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
		if (nhdr.n_type != NT_GNU_BUILD_ID || nhdr.n_namesz != 4 ||
		    memcmp((char *)data->d_buf + name_off, "GNU", 4) != 0)
			continue;
		if (nhdr.n_descsz == 0 || nhdr.n_descsz > KC_BUILDID_MAX)
			continue;
		memcpy(id->bytes, (char *)data->d_buf + desc_off, nhdr.n_descsz);
		id->len = nhdr.n_descsz;
		return 0;
	}
	return -ENOENT;
}

int kc_buildid_from_elf(Elf *elf, struct kc_buildid *id, struct kc_err *err)
{
	size_t phnum = 0;
	Elf_Scn *scn = NULL;

	id->len = 0;
	if (elf_getphdrnum(elf, &phnum) == 0) {
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;
			Elf_Data *data;

			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
				continue;
			data = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz,
						    ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
			if (buildid_scan_notes(data, id) == 0)
				return 0;
		}
	}
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		if (buildid_scan_notes(elf_getdata(scn, NULL), id) == 0)
			return 0;
	}
	return kc_err_set(err, -ENOENT, "no GNU build-id note");
}

int kc_buildid_from_file(const char *path, struct kc_buildid *id, struct kc_err *err)
{
	Elf *elf;
	int fd, ret;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not an ELF file", path);
		goto out;
	}
	ret = kc_buildid_from_elf(elf, id, err);
	if (ret < 0)
		kc_err_prefix(err, "'%s'", path);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

char *kc_buildid_to_hex(const struct kc_buildid *id, char *buf, size_t bufsz)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (bufsz == 0)
		return buf;
	for (i = 0; i < id->len && 2 * i + 2 < bufsz; i++) {
		buf[2 * i] = digits[id->bytes[i] >> 4];
		buf[2 * i + 1] = digits[id->bytes[i] & 15];
	}
	buf[2 * i] = '\0';
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int kc_buildid_from_hex(const char *hex, struct kc_buildid *id, struct kc_err *err)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 || n / 2 > KC_BUILDID_MAX)
		return kc_err_set(err, -EINVAL, "invalid build-id '%s'", hex);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return kc_err_set(err, -EINVAL, "invalid build-id '%s'", hex);
		id->bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	id->len = n / 2;
	return 0;
}

int kc_buildid_equal(const struct kc_buildid *a, const struct kc_buildid *b)
{
	return a->len && a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}
