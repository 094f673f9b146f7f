// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the whole patchset reader on memory input
 * (kc_patchset_open_mem()): decompression, tar parsing, member checks,
 * patchset.json, hashes and patch parsing. Small limits keep each run
 * fast; an accepted archive must be self-consistent through the accessors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/patchset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kc_patchset_limits lim = {
	    .max_members = 64,
	    .max_member_size = 256 << 10,
	    .max_total_size = 1 << 20,
	    .max_json_size = 64 << 10,
	};
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset *ps = NULL;
	const struct kc_patchset_meta *m;
	size_t jlen = 0;

	if (kc_patchset_open_mem(data, size, &lim, NULL, &ps, &err) < 0) {
		if (!err.code || !err.msg[0] || strchr(err.msg, '\n'))
			abort();
		return 0;
	}
	m = kc_patchset_meta(ps);
	if (!m || !m->npatches || !kc_patchset_json(ps, &jlen) || !jlen)
		abort();
	for (size_t i = 0; i < m->npatches; i++) {
		size_t len = 0;
		const uint8_t *d = kc_patchset_patch_data(ps, i, &len);

		if (!d || len != m->patches[i].length)
			abort();
		/* touch every byte so that a short buffer shows under ASan */
		volatile uint8_t sink = 0;
		for (size_t k = 0; k < len; k++)
			sink ^= d[k];
		(void)sink;
	}
	kc_patchset_free(ps);
	return 0;
}
