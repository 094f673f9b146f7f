// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for kc_kdiff_files(): the diffs given to kcare-build
 * kernel are outside input. Whatever the bytes, the parser stays in
 * bounds, frees what it built, and every name it returns is one that
 * cannot leave the kernel tree (relative, no ".." component).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build/kernel-prep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	char **files = NULL;
	size_t n = 0;

	if (kc_kdiff_files((const char *)data, size, &files, &n, &err) < 0) {
		if (err.code >= 0 || !err.msg[0])
			abort();
	} else {
		if (!n)
			abort();
		for (size_t i = 0; i < n; i++)
			if (!files[i][0] || files[i][0] == '/' || !strncmp(files[i], "../", 3) ||
			    strstr(files[i], "/../") ||
			    (strlen(files[i]) >= 3 &&
			     !strcmp(files[i] + strlen(files[i]) - 3, "/..")))
				abort();
	}
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return 0;
}
