/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The error channel of every fallible library function: a negative errno
 * plus one line of text, held in a fixed buffer so that reporting an error
 * never allocates. Front ends print err->msg; library code never prints.
 */
#ifndef KCARE_ERR_H
#define KCARE_ERR_H

#include <errno.h>
#include <stdio.h>

struct kc_err {
	int code;      /* negative errno of the first failure, 0 if none */
	char msg[512]; /* lowercase, no final full stop, failure first */
};

#define KC_ERR_INIT                                                                                \
	{                                                                                          \
		0,                                                                                 \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

/*
 * Records @code (a negative errno; a positive one is negated) and the
 * formatted message, and returns the negative code so that a failure is
 * one line: return kc_err_set(err, -ESRCH, "process %d exited", pid);
 * @err may be NULL, in which case only the code is returned.
 */
int kc_err_set(struct kc_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Prefixes the message already in @err with context ("patch 'x': ...")
 * and returns err->code. Use on the way up when the callee set the error.
 */
int kc_err_prefix(struct kc_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Forgets a previous error (for callers that retry). */
void kc_err_clear(struct kc_err *err);

/*
 * Programmer errors: warn and return -EINVAL in release builds, abort in
 * debug builds (NDEBUG unset) so that tests catch them.
 */
void kc_bug(const char *file, int line, const char *cond);
#define KC_BUG_ON(cond)                                                                            \
	do {                                                                                       \
		if (__builtin_expect(!!(cond), 0)) {                                               \
			kc_bug(__FILE__, __LINE__, #cond);                                         \
			return -EINVAL;                                                            \
		}                                                                                  \
	} while (0)

#endif
