// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Who the running kernel is: uname, the KernelCare kernel id (sha1 of the
 * bytes of /proc/version) and the GNU build-id of vmlinux that the kernel
 * exports as a raw sequence of ELF notes in /sys/kernel/notes. Patches are
 * matched to a kernel by either id (docs/kernel-patches.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kcare/kpatch.h"

#define NOTE_GNU_BUILD_ID 3
#define NOTES_MAX	  (64 * 1024)

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	/* notes are in the kernel's own byte order, which is ours */
	memcpy(&v, p, 4);
	return v;
}

int kc_kpatch_notes_buildid(const void *buf, size_t len, char *out, size_t size, struct kc_err *err)
{
	const unsigned char *p = buf;
	size_t off = 0;

	while (len - off >= 12) {
		uint32_t namesz = get32(p + off), descsz = get32(p + off + 4);
		uint32_t type = get32(p + off + 8);
		size_t name_al = ((size_t)namesz + 3) & ~(size_t)3;
		size_t desc_al = ((size_t)descsz + 3) & ~(size_t)3;
		const unsigned char *name = p + off + 12;

		if (name_al > len - off - 12 || desc_al > len - off - 12 - name_al)
			return kc_err_set(err, -EBADMSG, "kernel notes: a note runs past the end");
		if (type == NOTE_GNU_BUILD_ID && namesz == 4 && !memcmp(name, "GNU", 4)) {
			if (descsz == 0 || descsz > 64 || 2 * (size_t)descsz + 1 > size)
				return kc_err_set(err, -EBADMSG,
						  "kernel notes: build-id of %u bytes", descsz);
			hex(name + name_al, descsz, out);
			return 0;
		}
		off += 12 + name_al + desc_al;
	}
	return kc_err_set(err, -ENOENT, "kernel notes: no GNU build-id");
}

static int read_bytes(const char *sysroot, const char *abs, unsigned char *buf, size_t size,
		      size_t *len)
{
	char path[4096];
	ssize_t n;
	int fd;

	if (kc_kpatch_path(sysroot, abs, path, sizeof(path), NULL) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*len = 0;
	while (*len < size) {
		n = read(fd, buf + *len, size - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return 0;
}

static void kernel_id(const char *sysroot, char out[41])
{
	unsigned char buf[4096], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t len;

	out[0] = '\0';
	if (read_bytes(sysroot, "/proc/version", buf, sizeof(buf), &len) < 0 || len == 0)
		return;
	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha1(), NULL) == 1 && mdlen == 20)
		hex(md, 20, out);
}

static void build_id(const char *sysroot, char *out, size_t size)
{
	unsigned char *buf = malloc(NOTES_MAX);
	size_t len;

	out[0] = '\0';
	if (buf && read_bytes(sysroot, "/sys/kernel/notes", buf, NOTES_MAX, &len) == 0 &&
	    kc_kpatch_notes_buildid(buf, len, out, size, NULL) < 0)
		out[0] = '\0';
	free(buf);
}

int kc_kpatch_ident(const char *sysroot, struct kc_kernel_ident *id, struct kc_err *err)
{
	struct utsname u;

	memset(id, 0, sizeof(*id));
	if (uname(&u) < 0)
		return kc_err_set(err, -errno, "uname: %s", strerror(errno));
	snprintf(id->sysname, sizeof(id->sysname), "%s", u.sysname);
	snprintf(id->nodename, sizeof(id->nodename), "%s", u.nodename);
	snprintf(id->release, sizeof(id->release), "%s", u.release);
	snprintf(id->version, sizeof(id->version), "%s", u.version);
	snprintf(id->machine, sizeof(id->machine), "%s", u.machine);
	/* the same values as uname(2) on a real root; a fake tree names its own kernel */
	if (sysroot && *sysroot) {
		char v[257];

		if (kc_kpatch_read(sysroot, "/proc/sys/kernel/osrelease", v, sizeof(v), NULL) > 0)
			snprintf(id->release, sizeof(id->release), "%.64s", v);
		if (kc_kpatch_read(sysroot, "/proc/sys/kernel/version", v, sizeof(v), NULL) > 0)
			snprintf(id->version, sizeof(id->version), "%s", v);
	}
	kernel_id(sysroot, id->kernel_id);
	build_id(sysroot, id->build_id, sizeof(id->build_id));
	return 0;
}
