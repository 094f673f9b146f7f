// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for kc_blacklist_parse(): the admin's blacklist file is
 * text anyone with root may have mistyped. Whatever the bytes, the parser
 * must stay in bounds, free what it built on failure, and every rule it
 * accepts must be usable by kc_blacklist_match().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/blacklist.h"

static const char *const probes[] = {
    "/usr/bin/bash",
    "/opt/Symantec/bin/rtvscand",
    "smcd",
    "",
    "/",
    "/usr/libexec/docker/docker-proxy",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_blacklist *b = NULL;

	if (kc_blacklist_parse((const char *)data, size, &b, &err) != 0) {
		if (b != NULL || err.code >= 0 || err.msg[0] == '\0')
			abort();
		return 0;
	}
	if (!b || kc_blacklist_count(b) > KC_BLACKLIST_MAX_RULES)
		abort();
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const char *rule = kc_blacklist_match(b, probes[i]);

		if (rule && !strchr(rule, ':'))
			abort();
	}
	kc_blacklist_free(b);
	return 0;
}
