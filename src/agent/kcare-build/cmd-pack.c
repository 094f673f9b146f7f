// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `kcare-build pack`: parses options, checks their syntax (patch id, CVE
 * ids, level), calls kc_pack() and prints one line. The packing itself
 * is in src/build/pack.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kcare-build/cmds.h"
#include "build/pack.h"
#include "kcare/exitcodes.h"

#define PACK_USAGE                                                                                 \
	"usage: kcare-build pack --target FILE --object OBJ.o -o PATCH [--id ID] [--level N]\n"    \
	"                        [--cve CVE-YYYY-NNNN]... [--description TEXT] [--debug-dir "      \
	"DIR]\n"

static int pack_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "kcare-build pack: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see kcare-build pack --help)\n");
	return KC_EXIT_USAGE;
}

/* CVE-YYYY-NNNN with at least four digits in the sequence number. */
static int pack_is_cve(const char *s)
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

static int pack_is_id(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	return n >= 1 && n <= 63 && s[n] == '\0';
}

int cmd_pack(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"target", required_argument, NULL, 't'},
	    {"object", required_argument, NULL, 'O'},
	    {"output", required_argument, NULL, 'o'},
	    {"id", required_argument, NULL, 'i'},
	    {"level", required_argument, NULL, 'l'},
	    {"cve", required_argument, NULL, 'c'},
	    {"description", required_argument, NULL, 'd'},
	    {"debug-dir", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_pack_opts o = {0};
	struct kc_pack_summary sum;
	struct kc_err err = KC_ERR_INIT;
	int c, ret;
	char *end;
	unsigned long lvl;

	o.cves = calloc((size_t)argc, sizeof(*o.cves));
	if (!o.cves) {
		fprintf(stderr, "kcare-build: out of memory\n");
		return KC_EXIT_ERROR;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o.target = optarg;
			break;
		case 'O':
			o.object = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case 'i':
			if (!pack_is_id(optarg)) {
				ret = pack_usage_error(
				    "bad patch id '%s' (want [A-Za-z0-9._-]{1,63})", optarg);
				goto out;
			}
			o.id = optarg;
			break;
		case 'l':
			errno = 0;
			lvl = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || lvl < 1 || lvl > UINT32_MAX ||
			    optarg[0] == '-') {
				ret =
				    pack_usage_error("bad level '%s' (want a number >= 1)", optarg);
				goto out;
			}
			o.level = (uint32_t)lvl;
			break;
		case 'c':
			if (!pack_is_cve(optarg)) {
				ret = pack_usage_error("bad CVE id '%s' (want CVE-YYYY-NNNN)",
						       optarg);
				goto out;
			}
			o.cves[o.ncves++] = optarg;
			break;
		case 'd':
			o.description = optarg;
			break;
		case 'D':
			o.debug_dir = optarg;
			break;
		case 'h':
			fputs(PACK_USAGE, stdout);
			ret = KC_EXIT_OK;
			goto out;
		case ':':
			ret = pack_usage_error("option '%s' needs an argument", argv[optind - 1]);
			goto out;
		default:
			ret = pack_usage_error("unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		ret = pack_usage_error("unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!o.target || !o.object || !o.output) {
		ret = pack_usage_error("%s is required", !o.target   ? "--target"
							 : !o.object ? "--object"
								     : "-o");
		goto out;
	}
	if (kc_pack(&o, &sum, &err) < 0) {
		fprintf(stderr, "kcare-build: %s\n", err.msg);
		ret = KC_EXIT_ERROR;
		goto out;
	}
	printf("packed %s: id %s level %u for %s (build-id %s), %zu replaced functions, %zu new\n",
	       o.output, sum.id, sum.level, sum.target_name, sum.build_id, sum.nreplaced, sum.nnew);
	ret = KC_EXIT_OK;
out:
	free(o.cves);
	return ret;
}
