// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzzes the apt source list parser of kcare-build deb (deb-src.c): the
 * input is split at its first NUL into two files, the first read as a
 * deb822 .sources file and the second as a one-line .list file, and the
 * deb-src entries derived from them must be produced without a fault.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build/deb-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2), *second, *out = NULL;
	struct kc_deb_aptfile f[2];

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	second = buf + strlen(buf) + 1;
	f[0] = (struct kc_deb_aptfile){"a.sources", buf, 1};
	f[1] = (struct kc_deb_aptfile){"b.list", second, 0};
	if (kc_deb_src_derive(f, 2, "bookworm", &out, NULL) == 0)
		free(out);
	free(buf);
	return 0;
}
