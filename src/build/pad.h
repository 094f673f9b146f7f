/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether the entry jump of a function shorter than the jump may spill into
 * the alignment padding after it. A compiler pads functions to 16 bytes with
 * no-ops that nothing executes, so `return x + 1;` (4 bytes) still has room
 * for a 5-byte jump, provided nothing else uses those bytes: no symbol
 * starts or lies there, no relocation writes them or takes their address,
 * and no instruction of the target branches into them or computes their
 * address. Anything else keeps the refusal, with the reason.
 */
#ifndef KC_BUILD_PAD_H
#define KC_BUILD_PAD_H

#include <stdint.h>

#include "build/target.h"
#include "kcare/err.h"

/*
 * Checks that the @need bytes at link-time address @value may be taken by
 * the entry jump of function @name, @size (< @need) bytes long: the bytes
 * from @size to @need are unused padding. Returns 0, -ENOEXEC with a
 * message "function 'NAME' is too short for the entry jump (SIZE < NEED
 * bytes): REASON", or -ENOMEM.
 */
int kc_pad_check(const struct kc_target *t, const char *name, uint64_t value, uint64_t size,
		 uint64_t need, struct kc_err *err);

#endif
