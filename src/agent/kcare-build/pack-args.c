// SPDX-License-Identifier: GPL-2.0-or-later
/* Syntax of a patch's metadata on the command line; see pack-args.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kcare-build/pack-args.h"
#include "kcare/exitcodes.h"
#include "kcare/patchset.h"

int kb_usage_error(const char *verb, const char *fmt, const char *arg)
{
	fprintf(stderr, "kcare-build %s: ", verb);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see kcare-build %s --help)\n", verb);
	return KC_EXIT_USAGE;
}

int kb_parse_level(const char *arg, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || v < 1 || v > UINT32_MAX || arg[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int kb_pack_args_init(struct kc_pack_opts *o, int argc)
{
	o->cves = calloc((size_t)argc, sizeof(*o->cves));
	return o->cves ? 0 : -1;
}

int kb_pack_arg(const char *verb, int c, const char *arg, const char *word, struct kc_pack_opts *o)
{
	switch (c) {
	case 'i':
		if (!kc_patchset_id_ok(arg))
			return kb_usage_error(verb, "bad patch id '%s' (want [A-Za-z0-9._-]{1,63})",
					      arg);
		o->id = arg;
		return 0;
	case 'l':
		if (kb_parse_level(arg, &o->level) < 0)
			return kb_usage_error(verb, "bad level '%s' (want a number >= 1)", arg);
		return 0;
	case 'c':
		if (!kc_patchset_cve_ok(arg))
			return kb_usage_error(verb, "bad CVE id '%s' (want CVE-YYYY-NNNN)", arg);
		o->cves[o->ncves++] = arg;
		return 0;
	case 'd':
		o->description = arg;
		return 0;
	case 'D':
		o->debug_dir = arg;
		return 0;
	default:
		return kb_usage_error(verb, "unknown option '%s'", word);
	}
}
