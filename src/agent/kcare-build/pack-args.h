/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command-line side of a patch's metadata, shared by the verbs that
 * write patches (pack, user, deb) and patchset's --level: the syntax
 * checks and the usage error every verb prints the same way.
 */
#ifndef KC_AGENT_KCARE_BUILD_PACK_ARGS_H
#define KC_AGENT_KCARE_BUILD_PACK_ARGS_H

#include <getopt.h>
#include <stdint.h>

#include "build/pack.h"

/* getopt_long entries for --id, --level, --cve and --description. */
// clang-format off
#define KB_PACK_LONGOPTS                                \
	{"id", required_argument, NULL, 'i'},           \
	{"level", required_argument, NULL, 'l'},        \
	{"cve", required_argument, NULL, 'c'},          \
	{"description", required_argument, NULL, 'd'}
// clang-format on

/*
 * Prints "kcare-build VERB: " + fmt (with arg) + a pointer to --help on
 * stderr; returns KC_EXIT_USAGE.
 */
int kb_usage_error(const char *verb, const char *fmt, const char *arg);

/* A level: a whole number from 1 to UINT32_MAX. */
int kb_parse_level(const char *arg, uint32_t *out);

/* Room for every --cve of argv in o->cves; -1 when out of memory. */
int kb_pack_args_init(struct kc_pack_opts *o, int argc);

/*
 * Takes option c (one of KB_PACK_LONGOPTS, or 'D' for --debug-dir) with
 * its argument into o: 0. Any other option, or a refused argument, is a
 * usage error (word is the option as typed): KC_EXIT_USAGE, said on stderr.
 */
int kb_pack_arg(const char *verb, int c, const char *arg, const char *word, struct kc_pack_opts *o);

#endif
