// SPDX-License-Identifier: GPL-2.0-or-later
/* Verb dispatch of the multi-command front ends; see verbs.h. */
#include <stdio.h>
#include <string.h>

#include "agent/common/verbs.h"
#include "kcare/exitcodes.h"

#define NAME_WIDTH 13

void kc_verb_usage(const struct kc_verb_prog *p, FILE *f)
{
	fprintf(f, "usage: %s %s%s<command> [options]\n\n", p->name, p->options ? p->options : "",
		p->options ? " " : "");
	if (p->options_help)
		fprintf(f, "%s\n", p->options_help);
	fprintf(f, "commands:\n");
	for (const struct kc_verb *v = p->verbs; v->name; v++) {
		fprintf(f, "  %-*s ", NAME_WIDTH, v->name);
		for (const char *s = v->summary; *s; s++) {
			fputc(*s, f);
			if (*s == '\n')
				fprintf(f, "  %-*s ", NAME_WIDTH, "");
		}
		fputc('\n', f);
	}
	if (p->footer)
		fprintf(f, "\n%s\n", p->footer);
}

int kc_verb_run(const struct kc_verb_prog *p, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "%s: no command given (see %s --help)\n", p->name, p->name);
		return KC_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		kc_verb_usage(p, stdout);
		return KC_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", p->name, KC_VERSION);
		return KC_EXIT_OK;
	}
	for (const struct kc_verb *v = p->verbs; v->name; v++)
		if (!strcmp(argv[1], v->name))
			return v->fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n", p->name, argv[1], p->name);
	return KC_EXIT_USAGE;
}

int kc_verb_main(const char *prog, const struct kc_verb *verbs, int argc, char **argv)
{
	const struct kc_verb_prog p = {.name = prog, .verbs = verbs};

	return kc_verb_run(&p, argc, argv);
}
