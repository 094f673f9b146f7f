// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for kc_doctor_redact_conf(): kcarectl --doctor runs it
 * over a hand-edited kcare.conf before the file leaves the host. Any bytes
 * must be taken without reading out of bounds or leaking, every line must
 * stay a line, and no URL in the output may keep a user:password@ part.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/doctor.h"

static size_t count(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* Every "://" is followed by an authority with no '@' or "<redacted>@" and no other '@'. */
static void check_urls(const char *s, size_t n)
{
	for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), "://", 3)); p++) {
		const char *a = p + 3, *end = a, *at = NULL;

		while (end < s + n && !strchr("/?#\"' \t\n", *end)) {
			if (*end == '@')
				at = at ? at : end;
			end++;
		}
		if (!at)
			continue;
		if ((size_t)(end - a) < 11 || memcmp(a, "<redacted>@", 11) || at != a + 10 ||
		    memchr(a + 11, '@', (size_t)(end - a - 11)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	char *out = NULL;
	int rc;

	rc = kc_doctor_redact_conf((const char *)data, size, &out, &err);
	if (rc) {
		if (out || rc != -ENOMEM)
			abort();
		return 0;
	}
	size_t n = strlen(out);
	/* strlen() stops at a NUL byte of the input: count lines of NUL-free input only */
	if (!memchr(data, 0, size) && count(out, n, '\n') != count((const char *)data, size, '\n'))
		abort();
	check_urls(out, n);
	free(out);
	return 0;
}
