/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The implementations an IFUNC of the target can resolve to. A fix that
 * defines a function named like an IFUNC of the target (strlen in libc)
 * replaces every implementation its resolver can return, since which one a
 * process bound depends on its CPU: each process then runs the fix, and
 * `info` lists the implementations by name.
 */
#ifndef KC_BUILD_IFUNC_H
#define KC_BUILD_IFUNC_H

#include <stddef.h>

#include "build/target.h"
#include "kcare/err.h"

#define KC_IFUNC_MAX 32 /* implementations of one IFUNC */

/*
 * Fills @impls (KC_IFUNC_MAX entries) with the target's function symbols
 * that the resolver of @ifunc (an STT_GNU_IFUNC of @t) may return, and
 * *@n with their number. The resolver is decoded and followed along every
 * path: the values it may return must all be addresses of code it computes
 * itself (RIP-relative lea, a GOT slot that a relocation of the target
 * fills with one of its functions, or an immediate in a position-dependent
 * executable). Returns 0, or -ENOEXEC with "'NAME' is an IFUNC in TARGET:
 * REASON" (a value it loads or gets from a call, an implementation without
 * a symbol, ...), or -ENOMEM.
 */
int kc_ifunc_impls(const struct kc_target *t, const struct kc_target_sym *ifunc,
		   const struct kc_target_sym **impls, size_t *n, struct kc_err *err);

#endif
