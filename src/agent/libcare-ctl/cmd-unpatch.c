// SPDX-License-Identifier: GPL-2.0-or-later
/* libcare-ctl unpatch -p PID|all [--id ID | --build-id HEX]: revert applied patches. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/libcare-ctl/cmds.h"
#include "kcare/exitcodes.h"

struct unpatch_args {
	const char *id;
	struct kc_buildid bid;
	bool by_bid;
	const char *bid_arg;
	struct lcctl_common *c;
	size_t removed_here; /* in the process at hand */
	size_t removed;	     /* in every process */
};

/* What was asked for, for "no process carries ..." and "no ... is applied". */
static void describe(const struct unpatch_args *a, char *buf, size_t size)
{
	if (a->id)
		snprintf(buf, size, "patch '%s'", a->id);
	else if (a->by_bid)
		snprintf(buf, size, "patch for build-id %s", a->bid_arg);
	else
		snprintf(buf, size, "patch");
}

/* Whether @ev is about a patch this request names. */
static bool asked_for(const struct unpatch_args *a, const struct kc_upatch_event *ev)
{
	if (a->id && (!ev->id || strcmp(ev->id, a->id)))
		return false;
	if (a->by_bid && (!ev->build_id || strcasecmp(ev->build_id, a->bid_arg)))
		return false;
	return true;
}

/*
 * Counts what was removed, so that a request which removed nothing can
 * fail. Finishing a revert that a killed patcher left half done removes
 * the patch too: the request did what it asked for.
 */
static void unpatch_report(void *ctx, const struct kc_upatch_event *ev)
{
	struct unpatch_args *a = ctx;

	if (ev->outcome == KC_UPATCH_UNPATCHED ||
	    (ev->outcome == KC_UPATCH_RECOVERED_REVERT && asked_for(a, ev))) {
		a->removed_here++;
		a->removed++;
	}
	lcctl_report(&a->c->ro, ev);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: libcare-ctl unpatch -p PID|all [--id ID | --build-id HEX] "
		   "[--timeout SECONDS] [--stats]\n");
}

static int unpatch_one(pid_t pid, struct lcctl_common *c, void *ctx, struct kc_err *err)
{
	struct unpatch_args *a = ctx;
	char what[160];
	int ret;

	a->c = c;
	a->removed_here = 0;
	ret = kc_upatch_revert(pid, a->id, a->by_bid ? &a->bid : NULL, &c->uo, unpatch_report, a,
			       err);
	/* a typo, or a patch someone else removed: not a silent success */
	if (ret >= 0 && !c->all && !a->removed_here) {
		describe(a, what, sizeof(what));
		return kc_err_set(err, -ENOENT, "no %s is applied", what);
	}
	return ret;
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
	char what[160];
	int opt, st = -1, ret;

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
			a.bid_arg = optarg;
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
	ret = lcctl_run(&c, unpatch_one, &a);
	if (ret == KC_EXIT_OK && c.all && !a.removed) {
		describe(&a, what, sizeof(what));
		fprintf(stderr, "libcare-ctl: no process carries %s%s\n", a.id ? "" : "a ", what);
		return KC_EXIT_ERROR;
	}
	return ret;
}
