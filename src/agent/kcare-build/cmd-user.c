// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `kcare-build user`: a patch from a source tree and a unified diff.
 * Parses options, checks their syntax, calls kc_differ_run() and prints
 * one line (and, with -v, the functions of the patch). The work is in
 * src/build/differ*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/kcare-build/cmds.h"
#include "agent/kcare-build/outdir.h"
#include "agent/kcare-build/pack-args.h"
#include "build/differ.h"
#include "kcare/exitcodes.h"

#define USER_USAGE                                                                                 \
	"usage: kcare-build user --target FILE --src DIR --diff FIX.patch -o PATCH\n"              \
	"       kcare-build user --target FILE --target FILE... --src DIR --diff FIX.patch -o "    \
	"DIR\n"                                                                                    \
	"                        [--build-cmd CMD] [--reference FILE] [--id ID] [--level N]\n"     \
	"                        [--cve CVE-YYYY-NNNN]... [--description TEXT]\n"                  \
	"                        [--debug-dir DIR] [--keep-work DIR] [--build-dir DIR] [-v]\n"

static void user_on_signal(int sig)
{
	(void)sig;
	kc_differ_interrupted = 1;
}

/* Ctrl-C or a timeout stops the build and removes the work directory (no SA_RESTART). */
static void user_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = user_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static const char *user_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void user_report(const char *output, const struct kc_differ_summary *sum, int verbose)
{
	printf("built %s: id %s level %u for %s (build-id %s), %zu replaced functions, %zu new\n",
	       output, sum->pack.id, sum->pack.level, sum->pack.target_name, sum->pack.build_id,
	       sum->pack.nreplaced, sum->pack.nnew);
	for (size_t i = 0; verbose && i < sum->nfuncs; i++)
		printf("  %s %s (%s)\n", sum->funcs[i].replaced ? "changed" : "new",
		       sum->funcs[i].name, sum->funcs[i].unit);
}

/*
 * Several targets of one tree: one build for all, -o names a directory
 * (made by the caller) that receives BASENAME.kpatch for each target the
 * diff changes; a refusal for any of them leaves none.
 */
static int user_run_many(const struct kc_differ_opts *o, const char **targets, size_t n,
			 int verbose)
{
	struct kc_differ_target *t = calloc(n, sizeof(*t));
	char(*out)[4096] = calloc(n, sizeof(*out));
	struct kc_err err = KC_ERR_INIT;
	int ret = KC_EXIT_ERROR;

	if (!t || !out) {
		fprintf(stderr, "kcare-build: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *base = user_basename(targets[i]);

		for (size_t j = 0; j < i; j++)
			if (!strcmp(user_basename(targets[j]), base)) {
				ret = kb_usage_error("user", "two targets named '%s'", base);
				goto out;
			}
		snprintf(out[i], sizeof(out[i]), "%s/%s.kpatch", o->output, base);
		t[i].target = targets[i];
		t[i].output = out[i];
	}
	if (kc_differ_run_many(o, t, n, &err) < 0 || kc_differ_verdict(t, n, &err) < 0) {
		fprintf(stderr, "kcare-build: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (t[i].ret == 0)
			user_report(out[i], &t[i].sum, verbose);
		else
			printf("unchanged %s: %s\n", t[i].target, t[i].err.msg);
	ret = KC_EXIT_OK;
out:
	for (size_t i = 0; t && i < n; i++)
		kc_differ_summary_release(&t[i].sum);
	free(t);
	free(out);
	return ret;
}

int cmd_user(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"target", required_argument, NULL, 't'},
	    {"src", required_argument, NULL, 's'},
	    {"diff", required_argument, NULL, 'p'},
	    {"build-cmd", required_argument, NULL, 'b'},
	    {"reference", required_argument, NULL, 'r'},
	    {"output", required_argument, NULL, 'o'},
	    KB_PACK_LONGOPTS,
	    {"debug-dir", required_argument, NULL, 'D'},
	    {"keep-work", required_argument, NULL, 'k'},
	    {"build-dir", required_argument, NULL, 'B'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_differ_opts o = {0};
	struct kc_differ_summary sum = {0};
	struct kc_err err = KC_ERR_INIT;
	const char **targets = calloc((size_t)argc, sizeof(*targets));
	struct kb_outdir od = {0};
	char *outdir = NULL;
	size_t ntargets = 0;
	int c, ret, verbose = 0;

	if (!targets || kb_pack_args_init(&o.pack, argc) < 0) {
		free(targets);
		fprintf(stderr, "kcare-build: out of memory\n");
		return KC_EXIT_ERROR;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			targets[ntargets++] = o.target = optarg;
			break;
		case 's':
			o.src = optarg;
			break;
		case 'p':
			o.diff = optarg;
			break;
		case 'b':
			o.build_cmd = optarg;
			break;
		case 'r':
			o.reference = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case 'k':
			o.work_dir = optarg;
			break;
		case 'B':
			o.build_path = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(USER_USAGE, stdout);
			ret = KC_EXIT_OK;
			goto out;
		case ':':
			ret = kb_usage_error("user", "option '%s' needs an argument",
					     argv[optind - 1]);
			goto out;
		default:
			if ((ret = kb_pack_arg("user", c, optarg, argv[optind - 1], &o.pack)))
				goto out;
			break;
		}
	}
	if (optind < argc) {
		ret = kb_usage_error("user", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!o.target || !o.src || !o.diff || !o.output) {
		ret = kb_usage_error("user", "%s is required",
				     !o.target ? "--target"
				     : !o.src  ? "--src"
				     : !o.diff ? "--diff"
					       : "-o");
		goto out;
	}
	if (o.build_cmd && !*o.build_cmd) {
		ret = kb_usage_error("user", "%s", "--build-cmd is empty");
		goto out;
	}
	if (ntargets > 1 && o.reference) {
		ret = kb_usage_error("user", "%s", "--reference goes with a single --target");
		goto out;
	}
	/* -o DIR with several targets, else the directory of -o PATCH: made when missing */
	if ((outdir = strdup(o.output)) == NULL ||
	    kb_outdir_make(ntargets > 1 ? outdir : dirname(outdir), &od, &err) < 0) {
		fprintf(stderr, "kcare-build: %s\n", outdir ? err.msg : "out of memory");
		ret = KC_EXIT_ERROR;
		goto out;
	}
	user_catch_signals();
	if (ntargets > 1) {
		ret = user_run_many(&o, targets, ntargets, verbose);
		goto out;
	}
	if (kc_differ_run(&o, &sum, &err) < 0) {
		fprintf(stderr, "kcare-build: %s\n", err.msg);
		ret = KC_EXIT_ERROR;
		goto out;
	}
	user_report(o.output, &sum, verbose);
	ret = KC_EXIT_OK;
out:
	if (ret != KC_EXIT_OK)
		kb_outdir_undo(&od);
	kb_outdir_release(&od);
	free(outdir);
	kc_differ_summary_release(&sum);
	free(o.pack.cves);
	free(targets);
	return ret;
}
