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
#include "agent/kcare-build/pack-args.h"
#include "build/pack.h"
#include "kcare/exitcodes.h"

#define PACK_USAGE                                                                                 \
	"usage: kcare-build pack --target FILE --object OBJ.o -o PATCH [--id ID] [--level N]\n"    \
	"                        [--cve CVE-YYYY-NNNN]... [--description TEXT] [--debug-dir "      \
	"DIR]\n"

int cmd_pack(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"target", required_argument, NULL, 't'},
	    {"object", required_argument, NULL, 'O'},
	    {"output", required_argument, NULL, 'o'},
	    KB_PACK_LONGOPTS,
	    {"debug-dir", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_pack_opts o = {0};
	struct kc_pack_summary sum;
	struct kc_err err = KC_ERR_INIT;
	int c, ret;

	if (kb_pack_args_init(&o, argc) < 0) {
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
		case 'h':
			fputs(PACK_USAGE, stdout);
			ret = KC_EXIT_OK;
			goto out;
		case ':':
			ret = kb_usage_error("pack", "option '%s' needs an argument",
					     argv[optind - 1]);
			goto out;
		default:
			if ((ret = kb_pack_arg("pack", c, optarg, argv[optind - 1], &o)))
				goto out;
			break;
		}
	}
	if (optind < argc) {
		ret = kb_usage_error("pack", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!o.target || !o.object || !o.output) {
		ret = kb_usage_error("pack", "%s is required",
				     !o.target	 ? "--target"
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
