// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `kcare-build kmod`: a kernel livepatch module (one patch level) from
 * fix sources. Parses options, calls kc_kmod_build() (src/build/kmod.c)
 * and prints one line.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kcare-build/cmds.h"
#include "agent/kcare-build/pack-args.h"
#include "build/kmod.h"
#include "kcare/exitcodes.h"
#include "kcare/patchset.h"

#define KMOD_USAGE                                                                                 \
	"usage: kcare-build kmod --kernel ABI|HEADERS_DIR [--kernel-tree DIR] --source FIX.c...\n" \
	"                        [--object FIX.o]...\n"                                            \
	"                        -o DIR --id ID --level N [--cve CVE-YYYY-NNNN]...\n"              \
	"                        [--description TEXT] [--cvss SCORE] [--patch-url URL]\n"          \
	"                        [--cve-url URL] [--effective-version RELEASE]\n"                  \
	"                        [--sign-key KEY --sign-cert CERT] [--keep-work DIR]\n"

static void kmod_on_signal(int sig)
{
	(void)sig;
	kc_kmod_interrupted = 1;
}

/* ^C or a timeout stops the build and removes its work directory (no SA_RESTART). */
static void kmod_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kmod_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int cmd_kmod(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"kernel", required_argument, NULL, 'K'},
	    {"kernel-tree", required_argument, NULL, 'T'},
	    {"source", required_argument, NULL, 's'},
	    {"object", required_argument, NULL, 'O'},
	    {"output", required_argument, NULL, 'o'},
	    {"id", required_argument, NULL, 'i'},
	    {"level", required_argument, NULL, 'l'},
	    {"cve", required_argument, NULL, 'c'},
	    {"description", required_argument, NULL, 'd'},
	    {"cvss", required_argument, NULL, 'S'},
	    {"patch-url", required_argument, NULL, 'P'},
	    {"cve-url", required_argument, NULL, 'U'},
	    {"effective-version", required_argument, NULL, 'E'},
	    {"sign-key", required_argument, NULL, 'k'},
	    {"sign-cert", required_argument, NULL, 'C'},
	    {"keep-work", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_kmod_opts o = {0};
	struct kc_kmod_result res;
	struct kc_err err = KC_ERR_INIT;
	const char **sources = calloc((size_t)argc, sizeof(*sources));
	const char **cves = calloc((size_t)argc, sizeof(*cves));
	const char **objects = calloc((size_t)argc, sizeof(*objects));
	int c, ret = KC_EXIT_USAGE;

	if (!sources || !cves || !objects) {
		fprintf(stderr, "kcare-build: out of memory\n");
		ret = KC_EXIT_ERROR;
		goto out;
	}
	o.sources = sources;
	o.objects = objects;
	o.cves = cves;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'K':
			o.kernel = optarg;
			break;
		case 'T':
			o.kernel_tree = optarg;
			break;
		case 's':
			sources[o.nsources++] = optarg;
			break;
		case 'O':
			objects[o.nobjects++] = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case 'i':
			o.id = optarg;
			break;
		case 'l':
			if (kb_parse_level(optarg, &o.level) < 0) {
				kb_usage_error("kmod", "bad level '%s' (want a number >= 1)",
					       optarg);
				goto out;
			}
			break;
		case 'c':
			if (!kc_patchset_cve_ok(optarg)) {
				kb_usage_error("kmod", "bad CVE id '%s' (want CVE-YYYY-NNNN)",
					       optarg);
				goto out;
			}
			cves[o.ncves++] = optarg;
			break;
		case 'd':
			o.description = optarg;
			break;
		case 'S':
			o.cvss = optarg;
			break;
		case 'P':
			o.patch_url = optarg;
			break;
		case 'U':
			o.cve_url = optarg;
			break;
		case 'E':
			o.effective = optarg;
			break;
		case 'k':
			o.sign_key = optarg;
			break;
		case 'C':
			o.sign_cert = optarg;
			break;
		case 'w':
			o.keep_work = optarg;
			break;
		case 'h':
			fputs(KMOD_USAGE, stdout);
			ret = KC_EXIT_OK;
			goto out;
		case ':':
			kb_usage_error("kmod", "option '%s' needs an argument", argv[optind - 1]);
			goto out;
		default:
			kb_usage_error("kmod", "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		kb_usage_error("kmod", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!o.kernel || !(o.nsources + o.nobjects) || !o.output || !o.id || !o.level) {
		kb_usage_error("kmod", "%s is required",
			       !o.kernel		    ? "--kernel"
			       : !(o.nsources + o.nobjects) ? "--source (or --object)"
			       : !o.output		    ? "-o"
			       : !o.id			    ? "--id"
							    : "--level");
		goto out;
	}
	if (!o.sign_key != !o.sign_cert) {
		kb_usage_error("kmod", "%s", "--sign-key and --sign-cert go together");
		goto out;
	}
	kmod_catch_signals();
	if (kc_kmod_build(&o, &res, &err) < 0) {
		fprintf(stderr, "kcare-build: %s\n", err.msg);
		ret = KC_EXIT_ERROR;
		goto out;
	}
	printf("built %s: %s level %u for %s (build-id %s), %zu functions, %zu klp symbols, "
	       "%zu klp relocations%s\n",
	       res.ko, o.id, o.level, res.release, res.build_id, res.nfuncs, res.nklp_syms,
	       res.nklp_relas, res.signed_ ? ", signed" : "");
	ret = KC_EXIT_OK;
out:
	free(sources);
	free(cves);
	free(objects);
	return ret;
}
