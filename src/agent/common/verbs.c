// SPDX-License-Identifier: GPL-2.0-or-later
/* Verb dispatch of the multi-command front ends; see verbs.h. */
#include <stdio.h>
#include <string.h>

#include "agent/common/verbs.h"
#include "kcare/exitcodes.h"

static void usage(FILE *f, const char *prog, const struct kc_verb *verbs)
{
	fprintf(f, "usage: %s <command> [options]\n\ncommands:\n", prog);
	for (const struct kc_verb *v = verbs; v->name; v++)
		fprintf(f, "  %-10s %s\n", v->name, v->summary);
}

int kc_verb_main(const char *prog, const struct kc_verb *verbs, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout, prog, verbs);
		return argc < 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", prog, KC_VERSION);
		return KC_EXIT_OK;
	}
	for (const struct kc_verb *v = verbs; v->name; v++)
		if (!strcmp(argv[1], v->name))
			return v->fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
	usage(stderr, prog, verbs);
	return KC_EXIT_USAGE;
}
