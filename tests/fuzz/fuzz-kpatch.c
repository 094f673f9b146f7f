// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the kernel side's parsers of bytes it did not make:
 * kc_kpatch_modinfo_parse() (a downloaded module, read before the kernel
 * sees it) and kc_kpatch_notes_buildid() (/sys/kernel/notes). Any input is
 * either accepted with NUL-terminated fields within their buffers or
 * refused with one of the codes the contract lists.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/kpatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_modinfo mi;
	char hex[129];
	int rc;

	rc = kc_kpatch_modinfo_parse(data, size, &mi, &err);
	if (rc && rc != -ENOEXEC && rc != -EBADMSG)
		abort();
	if (rc == 0 &&
	    (strlen(mi.name) >= sizeof(mi.name) || strlen(mi.vermagic) >= sizeof(mi.vermagic) ||
	     strlen(mi.kcare_build_id) >= sizeof(mi.kcare_build_id)))
		abort();
	rc = kc_kpatch_notes_buildid(data, size, hex, sizeof(hex), &err);
	if (rc && rc != -ENOENT && rc != -EBADMSG)
		abort();
	if (rc == 0 && (strlen(hex) % 2 || strlen(hex) > 128))
		abort();
	return 0;
}
