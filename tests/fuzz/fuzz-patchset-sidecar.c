// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the reader of a kernel module's sidecar
 * (kcare_<id>_<level>.json from kcare-build kmod), which `kcare-build
 * patchset --product kernel` turns into CVEs, a description and kpatch-*
 * fields. Beyond "no crash, no leak": what it accepts has an id and a level
 * of at least 1, a sorted CVE list without duplicates, and kpatch fields
 * that are strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/patchset-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct ps_sidecar sc;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ps_sidecar_parse_text(text, "fuzz.json", &sc, &err) == 0) {
		if (!sc.found || !sc.id || sc.level < 1)
			abort();
		for (size_t i = 1; i < sc.ncves; i++)
			if (strcmp(sc.cves[i - 1], sc.cves[i]) >= 0)
				abort();
		for (int f = 0; f < KC_KPATCH_NFIELDS; f++)
			if (sc.kpatch[f] && !*sc.kpatch[f])
				abort();
		ps_sidecar_release(&sc);
	}
	free(text);
	return 0;
}
