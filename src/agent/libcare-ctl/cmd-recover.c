// SPDX-License-Identifier: GPL-2.0-or-later
/* libcare-ctl recover -p PID|all: finish or roll back operations a killed libcare-ctl left half
 * done. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/libcare-ctl/cmds.h"
#include "kcare/exitcodes.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: libcare-ctl recover -p PID|all [--timeout SECONDS]\n");
}

int cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {{"pid", required_argument, NULL, 'p'},
					     {"timeout", required_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct kc_upatch_opts uo = {.timeout = 5.0, .cancel = &lcctl_cancel};
	const char *spec = NULL;
	pid_t *pids = NULL;
	size_t npids = 0;
	int c, ret, failed = 0;
	bool all;

	while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			spec = optarg;
			break;
		case 't':
			if ((ret = lcctl_parse_timeout(optarg, &uo.timeout)))
				return ret;
			break;
		case 'h':
			usage(stdout);
			return KC_EXIT_OK;
		default:
			usage(stderr);
			return KC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	if ((ret = lcctl_targets(spec, &pids, &npids)))
		return ret;
	all = !strcmp(spec, "all");
	lcctl_catch_signals();
	for (size_t i = 0; i < npids && !lcctl_cancel; i++) {
		struct kc_err err = KC_ERR_INIT;

		if (all && !lcctl_is_candidate(pids[i]))
			continue;
		if (kc_upatch_recover(pids[i], &uo, lcctl_report, NULL, &err) < 0) {
			if (all && err.code == -ESRCH && !lcctl_cancel)
				continue;
			failed++;
			if (lcctl_failed(pids[i], &err))
				break;
		}
	}
	free(pids);
	return failed ? KC_EXIT_ERROR : KC_EXIT_OK;
}
