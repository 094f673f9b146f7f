// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmlinux from Debian's vmlinuz and the facts a livepatch build reads
 * from it. The bzImage boot header gives the payload's place
 * (payload_offset/payload_length, Documentation/x86/boot.rst); the
 * payload is xz (Debian's CONFIG_KERNEL_XZ) followed by the 4-byte
 * decompressed size, which the decoder ignores as trailing data. The
 * symbols are the kernel's own kallsyms (ksyms-kallsyms.c).
 */
#include <fcntl.h>
#include <lzma.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/ksyms-image.h"
#include "kcare/conf.h"

#define KIMAGE_MAX_VMLINUX (512u << 20)

static uint32_t kimage_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Decompresses the xz stream at @in into a malloc'd buffer (*out, *outlen). */
static int kimage_unxz(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen,
		       struct kc_err *err)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = 64u << 20;
	uint8_t *buf = malloc(cap);
	lzma_ret r;

	if (!buf)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) {
		free(buf);
		return kc_err_set(err, -ENOMEM, "cannot start the xz decoder");
	}
	s.next_in = in;
	s.avail_in = inlen;
	s.next_out = buf;
	s.avail_out = cap;
	while ((r = lzma_code(&s, LZMA_FINISH)) == LZMA_OK) {
		if (s.avail_out)
			continue;
		if (cap >= KIMAGE_MAX_VMLINUX) {
			r = LZMA_MEMLIMIT_ERROR;
			break;
		}
		uint8_t *nb = realloc(buf, cap * 2);

		if (!nb) {
			r = LZMA_MEM_ERROR;
			break;
		}
		buf = nb;
		s.next_out = buf + cap;
		s.avail_out = cap;
		cap *= 2;
	}
	*outlen = cap - s.avail_out;
	lzma_end(&s);
	if (r != LZMA_STREAM_END) {
		free(buf);
		return kc_err_set(err, -ENOEXEC, "the kernel image's xz payload is corrupt (%d)",
				  (int)r);
	}
	*out = buf;
	return 0;
}

int kc_kimage_extract(const char *bzimage, const char *out, struct kc_err *err)
{
	char *img = NULL;
	size_t len = 0, start, plen;
	uint8_t *vm = NULL;
	size_t vmlen = 0;
	const uint8_t *b;
	int ret;

	if ((ret = kc_file_read_all(bzimage, 256u << 20, &img, &len, err)) < 0)
		return ret;
	b = (const uint8_t *)img;
	if (len < 0x250 || memcmp(b + 0x202, "HdrS", 4)) {
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not an x86 bzImage", bzimage);
		goto out;
	}
	start = ((size_t)(b[0x1f1] ? b[0x1f1] : 4) + 1) * 512 + kimage_le32(b + 0x248);
	plen = kimage_le32(b + 0x24c);
	if (start >= len || plen > len - start || plen < 6 ||
	    memcmp(b + start,
		   "\xfd"
		   "7zXZ",
		   6)) {
		ret = kc_err_set(err, -ENOEXEC, "'%s': the kernel is not xz-compressed", bzimage);
		goto out;
	}
	if ((ret = kimage_unxz(b + start, plen, &vm, &vmlen, err)) < 0)
		goto out;
	if (vmlen < 4 || memcmp(vm, ELFMAG, SELFMAG)) {
		ret = kc_err_set(err, -ENOEXEC, "'%s': the payload is not an ELF vmlinux", bzimage);
		goto out;
	}
	ret = kc_file_write_atomic(out, vm, vmlen, 0644, err);
out:
	free(vm);
	free(img);
	return ret;
}

void kc_kimage_close(struct kc_kimage *k)
{
	if (!k)
		return;
	kc_ksyms_release(&k->syms);
	if (k->elf)
		elf_end(k->elf);
	if (k->fd >= 0)
		close(k->fd);
	free(k->banner);
	free(k->path);
	free(k);
}

/* The section holding @addr: its file offset for @addr and the bytes left in it. */
static int kimage_locate(const struct kc_kimage *k, uint64_t addr, off_t *off, size_t *avail)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(k->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) ||
		    sh.sh_type != SHT_PROGBITS)
			continue;
		if (addr >= sh.sh_addr && addr - sh.sh_addr < sh.sh_size) {
			*off = (off_t)(sh.sh_offset + (addr - sh.sh_addr));
			*avail = sh.sh_size - (addr - sh.sh_addr);
			return 0;
		}
	}
	return -ERANGE;
}

int kc_kimage_read(const struct kc_kimage *k, uint64_t addr, void *buf, size_t len,
		   struct kc_err *err)
{
	off_t off;
	size_t avail;

	if (kimage_locate(k, addr, &off, &avail) < 0 || avail < len)
		return kc_err_set(err, -ERANGE, "'%s': address %#llx is not in the image", k->path,
				  (unsigned long long)addr);
	if (pread(k->fd, buf, len, off) != (ssize_t)len)
		return kc_err_set(err, -EIO, "cannot read '%s'", k->path);
	return 0;
}

int kc_kimage_ftrace_skip(const uint8_t *e, size_t len)
{
	static const uint8_t endbr[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	static const uint8_t nop5[5] = {0x0f, 0x1f, 0x44, 0x00, 0x00};
	int skip = 0;

	if (len >= 4 && !memcmp(e, endbr, 4)) {
		skip = 4;
		e += 4;
		len -= 4;
	}
	if (len >= 5 && (e[0] == 0xe8 || !memcmp(e, nop5, 5)))
		return skip + 5;
	return -1;
}

/* kallsyms from .rodata; the relative base is the start of .text. */
static int kimage_read_kallsyms(struct kc_kimage *k, struct kc_err *err)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh, rodata = {0};
	uint64_t text = 0;
	size_t shstrndx;
	void *map;
	int ret;

	if (elf_getshdrstrndx(k->elf, &shstrndx) < 0)
		return kc_err_set(err, -ENOEXEC, "'%s': not an ELF object", k->path);
	while ((scn = elf_nextscn(k->elf, scn)) != NULL) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(k->elf, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(name, ".text"))
			text = sh.sh_addr;
		else if (!strcmp(name, ".rodata"))
			rodata = sh;
	}
	if (!rodata.sh_size || !text)
		return kc_err_set(err, -ENOEXEC, "'%s' has no .text or .rodata", k->path);
	map = mmap(NULL, rodata.sh_size, PROT_READ, MAP_PRIVATE, k->fd, (off_t)rodata.sh_offset);
	if (map == MAP_FAILED)
		return kc_err_set(err, -errno, "cannot map '%s'", k->path);
	ret = kc_kallsyms_decode(map, rodata.sh_size, text, &k->syms, err);
	munmap(map, rodata.sh_size);
	return ret < 0 ? kc_err_prefix(err, "'%s'", k->path) : 0;
}

static int kimage_read_banner(struct kc_kimage *k, struct kc_err *err)
{
	struct kc_ksym_match m;
	char buf[1024];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	const char *rel;
	size_t rlen;
	off_t off;
	size_t avail;
	ssize_t got;

	if (kc_ksyms_find(&k->syms, "linux_banner", 0, 0, &m) < 0 ||
	    kimage_locate(k, m.sym->addr, &off, &avail) < 0)
		return kc_err_set(err, -ENOENT, "'%s' has no linux_banner", k->path);
	got = pread(k->fd, buf, sizeof(buf) - 1, off);
	if (got <= 0)
		return kc_err_set(err, -EIO, "cannot read '%s'", k->path);
	buf[got] = 0;
	if (strlen(buf) == sizeof(buf) - 1 || strncmp(buf, "Linux version ", 14))
		return kc_err_set(err, -ENOEXEC, "'%s': linux_banner is not a version line",
				  k->path);
	k->banner = strdup(buf);
	if (!k->banner)
		return kc_err_set(err, -ENOMEM, "out of memory");
	rel = buf + 14;
	rlen = strcspn(rel, " ");
	if (!rlen || rlen >= sizeof(k->release))
		return kc_err_set(err, -ENOEXEC, "'%s': no release in linux_banner", k->path);
	memcpy(k->release, rel, rlen);
	k->release[rlen] = 0;
	/* /proc/version prints linux_proc_banner with the same uts fields, i.e. this text */
	if (!EVP_Digest(k->banner, strlen(k->banner), md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
		return kc_err_set(err, -EIO, "sha1 failed");
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(k->kernel_id + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int kc_kimage_open(const char *vmlinux, struct kc_kimage **out, struct kc_err *err)
{
	struct kc_kimage *k = calloc(1, sizeof(*k));
	struct kc_buildid id;
	int ret;

	if (!k || !(k->path = strdup(vmlinux))) {
		free(k);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	kc_ksyms_init(&k->syms);
	k->fd = open(vmlinux, O_RDONLY | O_CLOEXEC);
	if (k->fd < 0) {
		ret = kc_err_set(err, -errno, "cannot open '%s': %s", vmlinux, strerror(errno));
		goto fail;
	}
	elf_version(EV_CURRENT);
	k->elf = elf_begin(k->fd, ELF_C_READ_MMAP, NULL);
	if (!k->elf || elf_kind(k->elf) != ELF_K_ELF) {
		ret = kc_err_set(err, -ENOEXEC, "'%s' is not an ELF vmlinux", vmlinux);
		goto fail;
	}
	if ((ret = kc_buildid_from_elf(k->elf, &id, err)) < 0)
		goto fail;
	kc_buildid_to_hex(&id, k->build_id, sizeof(k->build_id));
	if ((ret = kimage_read_kallsyms(k, err)) < 0 || (ret = kimage_read_banner(k, err)) < 0)
		goto fail;
	*out = k;
	return 0;
fail:
	kc_kimage_close(k);
	return ret;
}
