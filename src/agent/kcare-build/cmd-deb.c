// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `kcare-build deb`: patches for an installed Debian package from a
 * source diff. Parses options, calls kc_deb_build(), prints its stages
 * on stderr and one line per patch written on stdout. The work is in
 * src/build/deb*.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kcare-build/cmds.h"
#include "agent/kcare-build/outdir.h"
#include "agent/kcare-build/pack-args.h"
#include "build/deb.h"
#include "kcare/exitcodes.h"

#define DEB_USAGE                                                                                  \
	"usage: kcare-build deb --package PKG --diff FIX.patch -o OUTDIR [--cache DIR]\n"          \
	"                       [--libs-only | --full] [--fresh] [--id ID] [--level N]\n"          \
	"                       [--cve CVE-YYYY-NNNN]... [--description TEXT] [-q]\n"              \
	"       kcare-build deb --package PKG --rebuild-only [--cache DIR] [--full] [--fresh]\n"

static void deb_progress(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "kcare-build deb: %s\n", line);
}

int cmd_deb(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"package", required_argument, NULL, 'P'},
	    {"diff", required_argument, NULL, 'p'},
	    {"cache", required_argument, NULL, 'C'},
	    {"libs-only", no_argument, NULL, 'L'},
	    {"full", no_argument, NULL, 'F'},
	    {"fresh", no_argument, NULL, 'R'},
	    {"rebuild-only", no_argument, NULL, 'B'},
	    {"output", required_argument, NULL, 'o'},
	    KB_PACK_LONGOPTS,
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_deb_opts o = {.progress = deb_progress};
	struct kc_deb_summary sum;
	struct kc_err err = KC_ERR_INIT;
	struct kb_outdir od = {0};
	int c, ret, nmodes = 0;

	if (kb_pack_args_init(&o.pack, argc) < 0) {
		fprintf(stderr, "kcare-build: out of memory\n");
		return KC_EXIT_ERROR;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'P':
			o.package = optarg;
			break;
		case 'p':
			o.diff = optarg;
			break;
		case 'C':
			o.cache_dir = optarg;
			break;
		case 'L':
			o.mode = KC_DEB_LIBS_ONLY, nmodes++;
			break;
		case 'F':
			o.mode = KC_DEB_FULL, nmodes++;
			break;
		case 'R':
			o.fresh = 1;
			break;
		case 'B':
			o.no_patch = 1;
			break;
		case 'o':
			o.out_dir = optarg;
			break;
		case 'q':
			o.progress = NULL;
			break;
		case 'h':
			fputs(DEB_USAGE, stdout);
			ret = KC_EXIT_OK;
			goto out;
		case ':':
			ret = kb_usage_error("deb", "option '%s' needs an argument",
					     argv[optind - 1]);
			goto out;
		default:
			if ((ret = kb_pack_arg("deb", c, optarg, argv[optind - 1], &o.pack)))
				goto out;
			break;
		}
	}
	if (optind < argc) {
		ret = kb_usage_error("deb", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (nmodes > 1) {
		ret = kb_usage_error("deb", "%s", "--libs-only and --full exclude each other");
		goto out;
	}
	if (!o.package || (!o.no_patch && (!o.diff || !o.out_dir))) {
		ret = kb_usage_error("deb", "%s is required",
				     !o.package ? "--package"
				     : !o.diff	? "--diff"
						: "-o");
		goto out;
	}
	if (!o.no_patch && kb_outdir_make(o.out_dir, &od, &err) < 0) {
		fprintf(stderr, "kcare-build: %s\n", err.msg);
		ret = KC_EXIT_ERROR;
		goto out;
	}
	if (kc_deb_build(&o, &sum, &err) < 0) {
		fprintf(stderr, "kcare-build: %s\n", err.msg);
		kb_outdir_undo(&od);
		ret = KC_EXIT_ERROR;
		goto out;
	}
	printf("rebuild of %s %s: %s, %zu shared objects identical to the installed ones\n",
	       sum.source, sum.version, sum.cached ? "cached" : "new", sum.nobjects);
	for (size_t i = 0; i < sum.npatches; i++)
		printf("wrote %s for %s (build-id %s), %zu replaced functions, %zu new\n",
		       sum.patches[i].output, sum.patches[i].target, sum.patches[i].build_id,
		       sum.patches[i].nreplaced, sum.patches[i].nnew);
	kc_deb_summary_release(&sum);
	ret = KC_EXIT_OK;
out:
	kb_outdir_release(&od);
	free(o.pack.cves);
	return ret;
}
