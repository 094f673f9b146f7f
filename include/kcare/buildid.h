/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GNU build-id of ELF objects: the identity that matches a patch to its
 * target. Reading from an open libelf handle or a file, and hex forms.
 */
#ifndef KCARE_BUILDID_H
#define KCARE_BUILDID_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "kcare/err.h"

#define KC_BUILDID_MAX 64

struct kc_buildid {
	uint8_t bytes[KC_BUILDID_MAX];
	size_t len; /* 0: the object has no build-id */
};

/* Reads the NT_GNU_BUILD_ID note. Returns 0, or -ENOENT if there is none. */
int kc_buildid_from_elf(Elf *elf, struct kc_buildid *id, struct kc_err *err);

/* Same from a file path. -ENOENT: no note; -ENOEXEC: not ELF; -errno: open. */
int kc_buildid_from_file(const char *path, struct kc_buildid *id, struct kc_err *err);

/* Writes lowercase hex into @buf (at least 2 * KC_BUILDID_MAX + 1 bytes). */
char *kc_buildid_to_hex(const struct kc_buildid *id, char *buf, size_t bufsz);

/* Parses hex; returns -EINVAL on odd length, bad digits or too long. */
int kc_buildid_from_hex(const char *hex, struct kc_buildid *id, struct kc_err *err);

int kc_buildid_equal(const struct kc_buildid *a, const struct kc_buildid *b);

#endif
