// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for kc_conf_parse(): kcare.conf is edited by hand, so the
 * parser must take any bytes without reading out of bounds or leaking, fail
 * only with the codes its contract lists, and leave every known key readable
 * with a value that passed its type check (or the default).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/conf.h"

static void count_warning(void *ctx, unsigned line, const char *msg)
{
	if (line == 0 || !msg)
		abort();
	(*(unsigned *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_conf *c = NULL;
	unsigned warnings = 0;
	int rc;

	rc = kc_conf_parse((const char *)data, size, count_warning, &warnings, &c, &err);
	if (rc) {
		if (c || (rc != -EBADMSG && rc != -EFBIG && rc != -ENOMEM) || err.code != rc)
			abort();
		return 0;
	}
	for (const struct kc_conf_key *k = kc_conf_keys; k->name; k++) {
		const char *v = kc_conf_get(c, k->name);
		if (!v)
			abort();
		(void)strlen(v);
		(void)kc_conf_is_set(c, k->name);
		(void)kc_conf_get_bool(c, k->name, false);
	}
	/* an unknown key: whatever the file set, or NULL */
	(void)kc_conf_get(c, "KC_FUZZ_UNKNOWN");
	kc_conf_free(c);
	return 0;
}
