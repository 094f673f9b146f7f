/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "PROGRAM <verb> [options]" front ends (libcare-ctl, kcare-build):
 * --help lists the verbs, --version prints the version, and the named
 * verb runs with argv starting at its name.
 */
#ifndef KC_AGENT_COMMON_VERBS_H
#define KC_AGENT_COMMON_VERBS_H

struct kc_verb {
	const char *name;
	int (*fn)(int argc, char **argv); /* returns an exit status of kcare/exitcodes.h */
	const char *summary;
};

/* Runs the verb argv[1] names from the table (ended by a NULL name); usage errors exit 2. */
int kc_verb_main(const char *prog, const struct kc_verb *verbs, int argc, char **argv);

#endif
