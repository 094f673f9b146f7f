// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for kc_patchset_meta_parse(), the parser of the
 * patchset.json that uploaded archives carry. Beyond "no crash, no leak":
 * whatever it accepts must encode, and the encoding must parse back and
 * encode to the same bytes (the writer and the reader share this code).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/patchset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_meta *m = NULL, *m2 = NULL;
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;

	if (kc_patchset_meta_parse(data, size, &m, &err) < 0)
		return 0;
	if (kc_patchset_meta_encode(m, &out, &len, &err) < 0)
		abort();
	if (kc_patchset_meta_parse(out, len, &m2, &err) < 0)
		abort();
	if (kc_patchset_meta_encode(m2, &out2, &len2, &err) < 0 || len != len2 ||
	    memcmp(out, out2, len))
		abort();
	free(out);
	free(out2);
	kc_patchset_meta_free(m2);
	kc_patchset_meta_free(m);
	return 0;
}
