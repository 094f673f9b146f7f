// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for kc_kmod_fix_parse(): the header comment of a fix
 * source is the author's text. Whatever the bytes, the parser stays in
 * bounds, frees what it built, and what it accepts is what the module
 * generator relies on (CVE ids, a switch name of [a-z0-9_]).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build/kmod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_kmod_fix f = {0};

	if (kc_kmod_fix_parse((const char *)data, size, &f, &err) < 0) {
		if (err.code >= 0 || !err.msg[0])
			abort();
	} else {
		for (size_t i = 0; i < f.ncves; i++)
			if (strncmp(f.cves[i], "CVE-", 4))
				abort();
		if (f.sw && strspn(f.sw, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(f.sw))
			abort();
	}
	kc_kmod_fix_release(&f);
	return 0;
}
