// SPDX-License-Identifier: GPL-2.0-or-later
/* kcare-build: the patch toolchain front end. A verb table; each verb lives in cmd-<verb>.c. */
#include <stdio.h>
#include <string.h>

#include "agent/kcare-build/cmds.h"
#include "kcare/exitcodes.h"

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
    {"pack", cmd_pack, "make a patch file from a target and a fix object"},
    {"user", cmd_user, "make a patch file from a source tree and a diff"},
    {"deb", cmd_deb, "make patches for an installed Debian package from a diff"},
    {"patchset", cmd_patchset, "pack patches and their metadata into a patchset archive"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kcare-build <command> [options]\n\ncommands:\n");
	for (const struct verb *v = verbs; v->name; v++)
		fprintf(f, "  %-10s %s\n", v->name, v->summary);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("kcare-build %s\n", KC_VERSION);
		return KC_EXIT_OK;
	}
	for (const struct verb *v = verbs; v->name; v++)
		if (!strcmp(argv[1], v->name))
			return v->fn(argc - 1, argv + 1);
	fprintf(stderr, "kcare-build: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return KC_EXIT_USAGE;
}
