// SPDX-License-Identifier: GPL-2.0-or-later
/* Syntax of a patch's metadata on the command line; see pack-args.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kcare-build/pack-args.h"
#include "kcare/exitcodes.h"

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

/* CVE-YYYY-NNNN with at least four digits in the sequence number. */
static int is_cve(const char *s)
{
	size_t n;

	if (strncmp(s, "CVE-", 4))
		return 0;
	s += 4;
	if (strspn(s, "0123456789") != 4 || s[4] != '-')
		return 0;
	s += 5;
	n = strspn(s, "0123456789");
	return n >= 4 && s[n] == '\0';
}

/* A patch id ends up in file names and metadata: a short, plain name. */
static int is_id(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	return n >= 1 && n <= 63 && s[n] == '\0';
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
		if (!is_id(arg))
			return kb_usage_error(verb, "bad patch id '%s' (want [A-Za-z0-9._-]{1,63})",
					      arg);
		o->id = arg;
		return 0;
	case 'l':
		if (kb_parse_level(arg, &o->level) < 0)
			return kb_usage_error(verb, "bad level '%s' (want a number >= 1)", arg);
		return 0;
	case 'c':
		if (!is_cve(arg))
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
