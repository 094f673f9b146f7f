// SPDX-License-Identifier: GPL-2.0-or-later
/* libcare-ctl unpatch -p PID|all [--id ID | --build-id HEX]: revert applied patches. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/libcare-ctl/cmds.h"
#include "kcare/exitcodes.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: libcare-ctl unpatch -p PID|all [--id ID | --build-id HEX] "
		   "[--timeout SECONDS] [--stats]\n");
}

int cmd_unpatch(int argc, char **argv)
{
	static const struct option opts[] = {{"pid", required_argument, NULL, 'p'},
					     {"id", required_argument, NULL, 'i'},
					     {"build-id", required_argument, NULL, 'b'},
					     {"timeout", required_argument, NULL, 't'},
					     {"stats", no_argument, NULL, 's'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct kc_upatch_opts uo = {.timeout = 5.0, .cancel = &lcctl_cancel};
	struct lcctl_report_opts ro = {0};
	struct kc_err err = KC_ERR_INIT;
	struct kc_buildid bid, *bidp = NULL;
	const char *spec = NULL, *id = NULL;
	pid_t *pids = NULL;
	size_t npids = 0;
	int c, ret, failed = 0;
	bool all;

	while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			spec = optarg;
			break;
		case 'i':
			id = optarg;
			break;
		case 'b':
			if (kc_buildid_from_hex(optarg, &bid, &err) < 0) {
				fprintf(stderr, "libcare-ctl: %s\n", err.msg);
				return KC_EXIT_USAGE;
			}
			bidp = &bid;
			break;
		case 't':
			if ((ret = lcctl_parse_timeout(optarg, &uo.timeout)))
				return ret;
			break;
		case 's':
			ro.stats = true;
			break;
		case 'h':
			usage(stdout);
			return KC_EXIT_OK;
		default:
			usage(stderr);
			return KC_EXIT_USAGE;
		}
	}
	if (optind < argc || (id && bidp)) {
		fprintf(stderr, "libcare-ctl: unpatch takes --id or --build-id, and no other "
				"arguments\n");
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	if ((ret = lcctl_targets(spec, &pids, &npids)))
		return ret;
	all = !strcmp(spec, "all");
	lcctl_catch_signals();
	for (size_t i = 0; i < npids && !lcctl_cancel; i++) {
		if (all && !lcctl_is_candidate(pids[i]))
			continue;
		kc_err_clear(&err);
		if (kc_upatch_revert(pids[i], id, bidp, &uo, lcctl_report, &ro, &err) < 0) {
			if (all && err.code == -ESRCH && !lcctl_cancel)
				continue;
			failed++;
			if (lcctl_failed(pids[i], &err))
				break;
		}
	}
	free(pids);
	return failed || lcctl_cancel ? KC_EXIT_ERROR : KC_EXIT_OK;
}
