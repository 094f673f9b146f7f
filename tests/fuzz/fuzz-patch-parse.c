// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for kc_patch_parse(), the only reader of patch files
 * (which arrive from outside). Beyond "no crash, no leak": whatever the
 * parser accepts must serialize, and the serialized form must parse to
 * the same bytes again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/patch.h"
#include "lib/patchfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patch *p = NULL, *q = NULL;
	uint8_t *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;

	if (kc_patch_parse(data, size, &p, &err) < 0)
		return 0;
	if (kc_patch_serialize(p, NULL, 0, &out, &len, &err) < 0)
		abort();
	if (kc_patch_parse(out, len, &q, &err) < 0)
		abort();
	if (kc_patch_serialize(q, NULL, 0, &out2, &len2, &err) < 0 || len != len2 ||
	    memcmp(out, out2, len))
		abort();
	free(out);
	free(out2);
	kc_patch_free(q);
	kc_patch_free(p);
	return 0;
}
