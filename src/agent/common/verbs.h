/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "PROGRAM <verb> [options]" front ends (libcare-ctl, kcare-build,
 * libcare-cron, kc.eportal): --help lists the verbs, --version prints the
 * version, and the named verb runs with argv starting at its name.
 */
#ifndef KC_AGENT_COMMON_VERBS_H
#define KC_AGENT_COMMON_VERBS_H

#include <stdio.h>

struct kc_verb {
	const char *name;
	int (*fn)(int argc, char **argv); /* returns an exit status of kcare/exitcodes.h */
	const char *summary; /* may hold more lines: "\n" continues it under the first */
};

struct kc_verb_prog {
	const char *name;
	const struct kc_verb *verbs; /* ended by a NULL name */
	const char *options;	     /* global options in the usage line and their lines, or NULL */
	const char *options_help;
	const char *footer; /* printed after the list of verbs, or NULL */
};

/* The usage text: synopsis, global options, the verbs, the footer. */
void kc_verb_usage(const struct kc_verb_prog *p, FILE *f);

/* Runs the verb argv[1] names; usage errors exit 2. */
int kc_verb_run(const struct kc_verb_prog *p, int argc, char **argv);

/* The same for a program with nothing but its verbs. */
int kc_verb_main(const char *prog, const struct kc_verb *verbs, int argc, char **argv);

#endif
