// SPDX-License-Identifier: GPL-2.0-or-later
/* libcare-ctl unpatch -p PID|all [--id ID | --build-id HEX]: revert applied patches. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/libcare-ctl/cmds.h"
#include "kcare/exitcodes.h"

struct unpatch_args {
	const char *id;
	struct kc_buildid bid;
	bool by_bid;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: libcare-ctl unpatch -p PID|all [--id ID | --build-id HEX] "
		   "[--timeout SECONDS] [--stats]\n");
}

static int unpatch_one(pid_t pid, struct lcctl_common *c, void *ctx, struct kc_err *err)
{
	struct unpatch_args *a = ctx;

	return kc_upatch_revert(pid, a->id, a->by_bid ? &a->bid : NULL, &c->uo, lcctl_report,
				&c->ro, err);
}

int cmd_unpatch(int argc, char **argv)
{
	static const struct option opts[] = {LCCTL_COMMON_LONGOPTS,
					     {"id", required_argument, NULL, 'i'},
					     {"build-id", required_argument, NULL, 'b'},
					     {NULL, 0, NULL, 0}};
	struct unpatch_args a = {0};
	struct lcctl_common c;
	struct kc_err err = KC_ERR_INIT;
	int opt, st = -1;

	lcctl_common_init(&c);
	while ((opt = getopt_long(argc, argv, LCCTL_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		if (lcctl_common_opt(&c, opt, optarg, usage, &st)) {
			if (st >= 0)
				return st;
		} else if (opt == 'i') {
			a.id = optarg;
		} else if (opt == 'b') {
			if (kc_buildid_from_hex(optarg, &a.bid, &err) < 0) {
				fprintf(stderr, "libcare-ctl: %s\n", err.msg);
				return KC_EXIT_USAGE;
			}
			a.by_bid = true;
		} else {
			usage(stderr);
			return KC_EXIT_USAGE;
		}
	}
	if (optind < argc || (a.id && a.by_bid)) {
		fprintf(stderr, "libcare-ctl: unpatch takes --id or --build-id, and no other "
				"arguments\n");
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	return lcctl_run(&c, unpatch_one, &a);
}
