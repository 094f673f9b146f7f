// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for kc_proc_maps_parse(): /proc/PID/maps text comes from
 * the kernel, but the parser must never read out of bounds, leak or accept
 * an inconsistent entry whatever bytes it is given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_proc_maps m;

	if (kc_proc_maps_parse((const char *)data, size, &m, &err) != 0) {
		if (m.n != 0 || m.v != NULL || err.code >= 0)
			abort();
		return 0;
	}
	for (size_t i = 0; i < m.n; i++) {
		if (m.v[i].end < m.v[i].start || !m.v[i].path)
			abort();
		(void)strlen(m.v[i].path);
		/* Input need not be sorted, so find() may miss; it must only stay in bounds. */
		(void)kc_proc_maps_find(&m, m.v[i].start);
	}
	kc_proc_maps_release(&m);
	return 0;
}
