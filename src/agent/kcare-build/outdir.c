// SPDX-License-Identifier: GPL-2.0-or-later
/* -o directories of the build verbs: mkdir -p, and its undo after a failure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/kcare-build/outdir.h"

int kb_outdir_make(const char *dir, struct kb_outdir *od, struct kc_err *err)
{
	struct stat st;
	char *p;

	memset(od, 0, sizeof(*od));
	if (!*dir)
		return kc_err_set(err, -EINVAL, "empty output directory");
	od->path = strdup(dir);
	if (!od->path)
		return kc_err_set(err, -ENOMEM, "out of memory");
	/* each prefix in turn, so that the first one we make is known for the undo */
	for (p = od->path + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(od->path, 0755) == 0) {
			if (!od->made && !(od->made = strdup(od->path))) {
				*p = c;
				return kc_err_set(err, -ENOMEM, "out of memory");
			}
		} else if (errno != EEXIST) {
			int e = errno;

			*p = c;
			kb_outdir_undo(od);
			return kc_err_set(err, -e, "cannot create output directory '%s': %s", dir,
					  strerror(e));
		}
		*p = c;
		if (!c)
			break;
	}
	if (stat(od->path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		kb_outdir_undo(od);
		return kc_err_set(err, -ENOTDIR, "output directory '%s' is not a directory", dir);
	}
	return 0;
}

void kb_outdir_undo(struct kb_outdir *od)
{
	size_t top;
	char *p;

	if (!od->made || !od->path)
		return;
	top = strlen(od->made);
	/* from the deepest up to the first one made; a non-empty one stops it */
	for (p = od->path + strlen(od->path); p > od->path + top;) {
		if (rmdir(od->path) < 0 && errno != ENOENT)
			goto done;
		while (p > od->path && *p != '/')
			p--;
		while (p > od->path && p[-1] == '/')
			p--;
		*p = '\0';
	}
	(void)rmdir(od->made);
done:
	free(od->made);
	od->made = NULL;
}

void kb_outdir_release(struct kb_outdir *od)
{
	free(od->path);
	free(od->made);
	od->path = od->made = NULL;
}
