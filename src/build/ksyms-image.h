/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The target kernel's image: vmlinux taken out of a bzImage (its xz
 * payload), and what a livepatch build needs from it: the GNU build-id,
 * linux_banner (the text /proc/version shows; its sha1 is the kernel id),
 * the release, the kallsyms table, and the bytes at an address (the
 * entry of a function that a switch jumps into).
 */
#ifndef KC_BUILD_KSYMS_IMAGE_H
#define KC_BUILD_KSYMS_IMAGE_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "build/ksyms.h"
#include "kcare/buildid.h"
#include "kcare/err.h"

struct kc_kimage {
	char *path; /* owned */
	int fd;
	Elf *elf;
	char build_id[2 * KC_BUILDID_MAX + 1];
	char *banner;	      /* owned: linux_banner, with its final newline */
	char kernel_id[41];   /* sha1 of banner, hex */
	char release[65];     /* uname -r, from the banner */
	struct kc_ksyms syms; /* kallsyms, in kallsyms order */
};

/*
 * Writes the vmlinux inside the bzImage @bzimage to @out (atomically).
 * -ENOEXEC when it is not an xz-compressed x86 bzImage.
 */
int kc_kimage_extract(const char *bzimage, const char *out, struct kc_err *err);

/*
 * Opens a vmlinux ELF and reads its identity and kallsyms. Caller owns
 * *out; free with kc_kimage_close().
 */
int kc_kimage_open(const char *vmlinux, struct kc_kimage **out, struct kc_err *err);

void kc_kimage_close(struct kc_kimage *k);

/* Copies @len bytes of the image at run-time address @addr; -ERANGE if not in a section. */
int kc_kimage_read(const struct kc_kimage *k, uint64_t addr, void *buf, size_t len,
		   struct kc_err *err);

/*
 * Decodes the kallsyms tables found in @b (vmlinux's .rodata) into @t.
 * @text_base: the relative base to expect (the lowest text address), 0
 * to accept any kernel address. -ENOENT when no table is found.
 */
int kc_kallsyms_decode(const uint8_t *b, size_t len, uint64_t text_base, struct kc_ksyms *t,
		       struct kc_err *err);

/* The ftrace call site length at a function entry: 5 (call/nop5), 9 after endbr64, -1 if none. */
int kc_kimage_ftrace_skip(const uint8_t *entry, size_t len);

#endif
