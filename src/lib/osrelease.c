// SPDX-License-Identifier: GPL-2.0-or-later
/* Reading ID and VERSION_ID from an os-release file (osrelease.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/conf.h"
#include "kcare/osrelease.h"

int kc_os_release(const char *path, char id[KC_OS_RELEASE_FIELD],
		  char version_id[KC_OS_RELEASE_FIELD])
{
	char *buf = NULL, *line, *save = NULL;
	size_t len;
	int r;

	id[0] = version_id[0] = '\0';
	r = kc_file_read_all(path, 64 * 1024, &buf, &len, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *dst = !strncmp(line, "ID=", 3)		? id
			    : !strncmp(line, "VERSION_ID=", 11) ? version_id
								: NULL;
		char *v = strchr(line, '=') + 1;

		if (!dst)
			continue;
		v += strspn(v, "\"'");
		snprintf(dst, KC_OS_RELEASE_FIELD, "%.*s", (int)strcspn(v, "\"'"), v);
	}
	free(buf);
	return 0;
}
