// SPDX-License-Identifier: GPL-2.0-or-later
/* libcare-ctl recover -p PID|all: finish or roll back operations a killed libcare-ctl left half
 * done. */
#include <getopt.h>
#include <stdio.h>

#include "agent/libcare-ctl/cmds.h"
#include "kcare/exitcodes.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: libcare-ctl recover -p PID|all [--timeout SECONDS]\n");
}

static int recover_one(pid_t pid, struct lcctl_common *c, void *ctx, struct kc_err *err)
{
	(void)ctx;
	return kc_upatch_recover(pid, &c->uo, lcctl_report, &c->ro, err);
}

int cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {LCCTL_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
	struct lcctl_common c;
	int opt, st = -1;

	lcctl_common_init(&c);
	while ((opt = getopt_long(argc, argv, LCCTL_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		if (!lcctl_common_opt(&c, opt, optarg, usage, &st)) {
			usage(stderr);
			return KC_EXIT_USAGE;
		}
		if (st >= 0)
			return st;
	}
	if (optind < argc) {
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	return lcctl_run(&c, recover_one, NULL);
}
