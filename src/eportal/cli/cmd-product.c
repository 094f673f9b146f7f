// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kc.eportal kcare|libcare|qemu|db: the patchsets of one product. deploy
 * reads an archive; update and auto-update take new patchsets from the
 * upstream (when one is set) and enable them per feed policy; unroll and
 * the state verbs change what a feed serves; list shows the states.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "eportal/cli/cli.h"

static const char *product_of(const char *cmd)
{
	if (!strcmp(cmd, "kcare"))
		return "kernel";
	if (!strcmp(cmd, "libcare"))
		return "libs";
	return cmd; /* qemu, db */
}

static void help(const char *cmd, const char *sub)
{
	if (sub && !strcmp(sub, "deploy")) {
		printf("usage: kc.eportal %s deploy [-h] [--feed FEED] [--disabled] archive\n\n"
		       "positional arguments:\n"
		       "  archive      path to a patchset archive (NAME.tar.bz2)\n\n"
		       "options:\n"
		       "  -h, --help   show this help message and exit\n"
		       "  --feed FEED  feed to deploy the archive to (default main)\n"
		       "  --disabled   keep the patchset disabled after deploy\n",
		       cmd);
		return;
	}
	printf("usage: kc.eportal %s deploy [--feed FEED] [--disabled] ARCHIVE\n"
	       "       kc.eportal %s update [--feed FEED]\n"
	       "       kc.eportal %s auto-update\n"
	       "       kc.eportal %s unroll PATCHSET [--feed FEED]\n"
	       "       kc.eportal %s list [--feed FEED] [--json]\n"
	       "       kc.eportal %s enable|disable|block|enable-up-to|undeploy-down-to PATCHSET"
	       " [--feed FEED]\n\n"
	       "  update: fetch new patchsets from the upstream (if set) and enable every\n"
	       "          patchset not blocked or disabled in FEED (default main).\n"
	       "  auto-update: the same for every feed with auto-update, for patchsets\n"
	       "          older than the feed's deploy-after hours.\n"
	       "  unroll: undeploy PATCHSET and every later one from FEED.\n",
	       cmd, cmd, cmd, cmd, cmd, cmd);
}

static int list(struct kc_ep *ep, const char *product, const char *feed, int json,
		struct kc_err *err)
{
	struct kc_ep_patchset *ps = NULL;
	size_t n = 0;
	char t[32];
	int r = kc_ep_patchset_list(ep, feed, product, &ps, &n, err);

	if (r < 0)
		return r;
	if (json) {
		cli_print_records(ps, n, sizeof(*ps), kc_ep_patchset_json);
	} else {
		printf("%-24s %-11s %-20s %7s\n", "PATCHSET", "STATE", "RELEASED", "PATCHES");
		for (size_t i = 0; i < n; i++)
			printf("%-24s %-11s %-20s %7lld\n", ps[i].name, ps[i].state,
			       cli_time(ps[i].released, t), (long long)ps[i].npatches);
	}
	free(ps);
	return 0;
}

int cmd_product(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"feed", required_argument, NULL, 'f'},
	    {"disabled", no_argument, NULL, 'D'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_err err = KC_ERR_INIT;
	const char *cmd = argv[0], *product = product_of(cmd), *sub, *feed = NULL;
	enum kc_ep_ps_action action;
	int disabled = 0, json = 0, c, r;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		help(cmd, NULL);
		return argc < 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	sub = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			feed = optarg;
			break;
		case 'D':
			disabled = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			help(cmd, sub);
			return KC_EXIT_OK;
		default:
			return KC_EXIT_USAGE;
		}
	}
	int nargs = argc - optind;
	int want =
	    !strcmp(sub, "update") || !strcmp(sub, "auto-update") || !strcmp(sub, "list") ? 0 : 1;
	if (strcmp(sub, "deploy") && strcmp(sub, "update") && strcmp(sub, "auto-update") &&
	    strcmp(sub, "unroll") && strcmp(sub, "list") && kc_ep_ps_action_parse(sub, &action))
		return cli_usage("unknown %s command '%s'", cmd, sub);
	if (nargs != want)
		return cli_usage("%s %s takes %s", cmd, sub,
				 want ? (strcmp(sub, "deploy") ? "one PATCHSET" : "one archive")
				      : "no argument");
	if (disabled && strcmp(sub, "deploy"))
		return cli_usage("--disabled is an option of deploy");
	if (feed && !strcmp(sub, "auto-update"))
		return cli_usage("auto-update works on every auto-update feed; no --feed");
	struct kc_ep *ep = cli_open();
	if (!ep)
		return KC_EXIT_ERROR;
	const char *arg = want ? argv[optind] : NULL;
	if (!strcmp(sub, "deploy")) {
		char name[KC_EP_NAME_MAX + 1];
		r = kc_ep_deploy(ep, arg, product, feed, disabled, name, &err);
		if (r == 0)
			printf("%s deployed to feed '%s' (%s)\n", name, feed ? feed : "main",
			       disabled ? "disabled" : "enabled");
	} else if (!strcmp(sub, "update")) {
		int64_t n = 0;
		r = kc_ep_update(ep, product, feed, &n, &err);
		if (r == 0)
			printf("%lld patchsets enabled in feed '%s'\n", (long long)n,
			       feed ? feed : "main");
	} else if (!strcmp(sub, "auto-update")) {
		int64_t n = 0;
		r = kc_ep_auto_update(ep, product, &n, &err);
		if (r == 0)
			printf("%lld patchsets enabled in auto-update feeds\n", (long long)n);
	} else if (!strcmp(sub, "unroll")) {
		r = kc_ep_patchset_action(ep, feed, arg, KC_EP_UNDEPLOY_DOWN_TO, &err);
		if (r == 0)
			r = kc_ep_patchset_action(ep, feed, arg, KC_EP_UNDEPLOY, &err);
	} else if (!strcmp(sub, "list")) {
		r = list(ep, product, feed, json, &err);
	} else {
		r = kc_ep_patchset_action(ep, feed, arg, action, &err);
	}
	kc_ep_close(ep);
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}
