// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `kcare-build kernel`: kernel live patches from a source diff. Today the
 * first two stages: --prepare-only (the cached, checked kernel tree,
 * src/build/kernel-prep.c) and --objects-only (the objects the diffs
 * change, rebuilt original and patched, src/build/kernel-objs.c). Stage
 * names go to stderr as they start.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kcare-build/cmds.h"
#include "agent/kcare-build/outdir.h"
#include "agent/kcare-build/pack-args.h"
#include "build/kernel-prep.h"
#include "build/kmod.h"
#include "kcare/exitcodes.h"

#define KERNEL_USAGE                                                                               \
	"usage: kcare-build kernel --kernel ABI|HEADERS_DIR [--source DIR] [--cache DIR]\n"        \
	"                          --prepare-only\n"                                               \
	"       kcare-build kernel --kernel ABI|HEADERS_DIR [--source DIR] [--cache DIR]\n"        \
	"                          --diff FIX.patch [--diff FIX.patch]... -o DIR --objects-only\n" \
	"                          [--keep-work DIR]\n"                                            \
	"  --prepare-only  prepare (or reuse) the kernel tree and check that it reproduces\n"      \
	"                  the target's code\n"                                                    \
	"  --objects-only  also rebuild the objects the diffs change into DIR/orig and\n"          \
	"                  DIR/patched, listed in DIR/objects.tsv\n"

static void kernel_on_signal(int sig)
{
	(void)sig;
	kc_kmod_interrupted = 1;
}

/* ^C or a timeout stops make and removes the working trees (no SA_RESTART). */
static void kernel_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kernel_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void kernel_progress(void *arg, const char *stage)
{
	(void)arg;
	fprintf(stderr, "kcare-build: %s\n", stage);
}

static int kernel_objects(const struct kc_kprep *p, const char **diffs, size_t ndiffs,
			  const char *output, const char *keep)
{
	struct kc_kobjs_opts o = {.prep = p,
				  .diffs = diffs,
				  .ndiffs = ndiffs,
				  .output = output,
				  .keep_work = keep,
				  .progress = kernel_progress};
	struct kb_outdir od = {0};
	struct kc_err err = KC_ERR_INIT;
	struct kc_kobjs objs;
	int ret = KC_EXIT_OK;

	if (kb_outdir_make(output, &od, &err) < 0 || kc_kobjs_build(&o, &objs, &err) < 0) {
		fprintf(stderr, "kcare-build: %s\n", err.msg);
		kb_outdir_undo(&od);
		kb_outdir_release(&od);
		return KC_EXIT_ERROR;
	}
	for (size_t i = 0; i < objs.n; i++)
		printf("%s\t%s\n", objs.v[i].obj, objs.v[i].target);
	printf("rebuilt %zu objects original and patched into %s (objects.tsv)\n", objs.n, output);
	kc_kobjs_release(&objs);
	kb_outdir_release(&od);
	return ret;
}

int cmd_kernel(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"kernel", required_argument, NULL, 'K'}, {"source", required_argument, NULL, 's'},
	    {"cache", required_argument, NULL, 'c'},  {"diff", required_argument, NULL, 'd'},
	    {"output", required_argument, NULL, 'o'}, {"prepare-only", no_argument, NULL, 'P'},
	    {"objects-only", no_argument, NULL, 'O'}, {"keep-work", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	struct kc_kprep_opts o = {.progress = kernel_progress};
	struct kc_kprep *p = NULL;
	struct kc_err err = KC_ERR_INIT;
	const char **diffs = calloc((size_t)argc + 1, sizeof(*diffs));
	const char *output = NULL, *keep = NULL;
	size_t ndiffs = 0;
	int c, prepare_only = 0, objects_only = 0, ret = KC_EXIT_USAGE;

	if (!diffs) {
		fprintf(stderr, "kcare-build: out of memory\n");
		return KC_EXIT_ERROR;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'K':
			o.kernel = optarg;
			break;
		case 's':
			o.source = optarg;
			break;
		case 'c':
			o.cache = optarg;
			break;
		case 'd':
			diffs[ndiffs++] = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'P':
			prepare_only = 1;
			break;
		case 'O':
			objects_only = 1;
			break;
		case 'w':
			keep = optarg;
			break;
		case 'h':
			fputs(KERNEL_USAGE, stdout);
			ret = KC_EXIT_OK;
			goto out;
		case ':':
			kb_usage_error("kernel", "option '%s' needs an argument", argv[optind - 1]);
			goto out;
		default:
			kb_usage_error("kernel", "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		kb_usage_error("kernel", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!o.kernel) {
		kb_usage_error("kernel", "%s is required", "--kernel");
		goto out;
	}
	if (prepare_only == objects_only) {
		kb_usage_error("kernel", "%s",
			       "give --prepare-only or --objects-only (building the module from "
			       "the objects is the next stage, not there yet)");
		goto out;
	}
	if (objects_only && (!ndiffs || !output)) {
		kb_usage_error("kernel", "%s is required with --objects-only",
			       !ndiffs ? "--diff" : "-o");
		goto out;
	}
	if (prepare_only && (ndiffs || output)) {
		kb_usage_error("kernel", "%s", "--prepare-only takes no --diff and no -o");
		goto out;
	}
	kernel_catch_signals();
	if (kc_kprep_open(&o, &p, &err) < 0) {
		fprintf(stderr, "kcare-build: %s\n", err.msg);
		ret = KC_EXIT_ERROR;
		goto out;
	}
	if (prepare_only) {
		printf("prepared kernel %s (Debian %s, %s) in %s: %s%s\n", p->abi, p->version,
		       p->cc, p->tree, p->as_is ? "used as it is" : "reproduces the target",
		       p->reused ? ", from the cache" : "");
		ret = KC_EXIT_OK;
	} else {
		ret = kernel_objects(p, diffs, ndiffs, output, keep);
	}
out:
	kc_kprep_free(p);
	free(diffs);
	return ret;
}
