/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Symbol binding of the fix object: whether a symbol a relocation names
 * is defined in the fix (internal), in the target (KC_PF_SYM_TARGET) or
 * elsewhere in the process (KC_PF_SYM_EXTERN, with its version), and the
 * deduplicated table of patch symbols that results.
 */
#ifndef KC_BUILD_BIND_H
#define KC_BUILD_BIND_H

#include "build/packctx.h"

/*
 * Binds symbol @sym of the fix once (later calls return at once). Refuses
 * common and absolute symbols, symbols in dropped sections and ambiguous
 * static symbols of the target (-ENOTUNIQ).
 */
int kc_bind_sym(struct kc_pack_ctx *c, size_t sym, struct kc_err *err);

/* Whether a bound symbol is known to be a function (its type in the fix or the target). */
int kc_bind_is_func(const struct kc_pack_ctx *c, size_t sym);

#endif
