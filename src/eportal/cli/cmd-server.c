// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kc.eportal server and list-servers: registered servers, their last
 * check-ins (kernel, applied patch level, whether it is the latest their
 * feed has), and cleaning out the ones that stopped checking in.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "eportal/cli/cli.h"

int cmd_server(int argc, char **argv)
{
	struct kc_err err = KC_ERR_INIT;
	int64_t days = 30, r;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf(
		    "usage: kc.eportal server list [--hostname H] [--ip IP] [--feed F] [--key K]\n"
		    "                              [--tag T] [--json]\n"
		    "       kc.eportal server clean --inactive [DAYS]\n"
		    "       kc.eportal server delete SERVER_ID\n"
		    "  list is list-servers: kernel id, applied patch level, effective version\n"
		    "  and whether the level is the highest the server's feed has for its kernel.\n"
		    "  clean removes servers that have not checked in for DAYS (default 30).\n");
		return argc < 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	if (!strcmp(argv[1], "list"))
		return cmd_list_servers(argc - 1, argv + 1);
	if (!strcmp(argv[1], "clean")) {
		if (argc < 3 || strcmp(argv[2], "--inactive"))
			return cli_usage("server clean needs --inactive [DAYS]");
		if (argc > 4)
			return cli_usage("unexpected argument '%s'", argv[4]);
		if (argc == 4 && (days = cli_num(argv[3])) < 0)
			return cli_usage("--inactive takes a number of days");
		struct kc_ep *ep = cli_open();
		if (!ep)
			return KC_EXIT_ERROR;
		r = kc_ep_server_clean(ep, ep->now() - days * 86400, &err);
		if (r >= 0)
			printf("%lld servers removed\n", (long long)r);
		kc_ep_close(ep);
		return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
	}
	if (!strcmp(argv[1], "delete")) {
		if (argc != 3)
			return cli_usage("server delete takes one SERVER_ID");
		struct kc_ep *ep = cli_open();
		if (!ep)
			return KC_EXIT_ERROR;
		r = kc_ep_server_delete(ep, argv[2], &err);
		kc_ep_close(ep);
		return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
	}
	return cli_usage("unknown server command '%s'", argv[1]);
}

int cmd_list_servers(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"hostname", required_argument, NULL, 'H'}, {"ip", required_argument, NULL, 'i'},
	    {"feed", required_argument, NULL, 'f'},	{"key", required_argument, NULL, 'k'},
	    {"tag", required_argument, NULL, 't'},	{"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	struct kc_ep_server_filter f = KC_EP_SERVER_FILTER_INIT;
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_server *s = NULL;
	size_t n = 0;
	int json = 0, c, r;
	char t[32];

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			f.hostname = optarg;
			break;
		case 'i':
			f.ip = optarg;
			break;
		case 'f':
			f.feed = optarg;
			break;
		case 'k':
			f.key = optarg;
			break;
		case 't':
			f.tag = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			printf(
			    "usage: kc.eportal list-servers [--hostname H] [--ip IP] [--feed F]\n"
			    "                               [--key K] [--tag T] [--json]\n");
			return KC_EXIT_OK;
		default:
			return KC_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage("unexpected argument '%s'", argv[optind]);
	struct kc_ep *ep = cli_open();
	if (!ep)
		return KC_EXIT_ERROR;
	r = kc_ep_server_list(ep, &f, &s, &n, NULL, &err);
	if (r == 0 && json) {
		cli_print_records(s, n, sizeof(*s), kc_ep_server_json);
	} else if (r == 0) {
		printf("%-32s %-24s %-15s %-10s %-40s %5s %6s %-20s %-7s %s\n", "SERVER",
		       "HOSTNAME", "IP", "FEED", "KERNEL ID", "LEVEL", "LATEST", "EFFECTIVE",
		       "UPDATED", "LAST SEEN");
		for (size_t i = 0; i < n; i++)
			printf("%-32s %-24s %-15s %-10s %-40s %5lld %6lld %-20s %-7s %s\n",
			       s[i].server_id, s[i].hostname, s[i].ip, s[i].feed,
			       s[i].kernel_id[0] ? s[i].kernel_id : "-",
			       (long long)s[i].patch_level, (long long)s[i].latest_level,
			       s[i].effective_version[0] ? s[i].effective_version : "-",
			       s[i].is_updated ? "yes" : "no", cli_time(s[i].last_seen, t));
	}
	free(s);
	kc_ep_close(ep);
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}
