// SPDX-License-Identifier: GPL-2.0-or-later
/* The kc_err error channel: formatting and prefixing of one-line messages. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/err.h"

int kc_err_set(struct kc_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (code > 0)
		code = -code;
	if (code == 0)
		code = -EINVAL;
	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int kc_err_prefix(struct kc_err *err, const char *fmt, ...)
{
	char head[256];
	char old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* truncation of an over-long message is accepted: it stays one line */
	size_t n = strnlen(head, sizeof(head) - 1);
	memcpy(err->msg, head, n);
	if (n + 2 < sizeof(err->msg)) {
		memcpy(err->msg + n, ": ", 2);
		n += 2;
	}
	size_t rest = strnlen(old, sizeof(old));
	if (rest > sizeof(err->msg) - 1 - n)
		rest = sizeof(err->msg) - 1 - n;
	memcpy(err->msg + n, old, rest);
	err->msg[n + rest] = '\0';
	if (err->code == 0)
		err->code = -EINVAL;
	return err->code;
}

void kc_err_clear(struct kc_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

void kc_bug(const char *file, int line, const char *cond)
{
	fprintf(stderr, "kcare: BUG at %s:%d: %s\n", file, line, cond);
#ifndef NDEBUG
	abort();
#endif
}
