// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kc.eportal key and feed: registration keys and feeds. Both take a verb
 * word (add, change, delete, list) or the short flags of the product
 * documents (-a, -c KEY, -d KEY, -l); "list" is the default.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "eportal/cli/cli.h"

enum mode { M_NONE, M_ADD, M_CHANGE, M_DELETE, M_LIST };

static enum mode word_mode(const char *w)
{
	if (!w)
		return M_NONE;
	if (!strcmp(w, "add"))
		return M_ADD;
	if (!strcmp(w, "change"))
		return M_CHANGE;
	if (!strcmp(w, "delete"))
		return M_DELETE;
	if (!strcmp(w, "list"))
		return M_LIST;
	return M_NONE;
}

static void key_help(void)
{
	printf(
	    "usage: kc.eportal key add [--key K] [--server-limit N] [--feed F] [--product P]...\n"
	    "                          [--note TEXT] [--sticky YYYY-MM-DD] [--ip-range CIDR]\n"
	    "       kc.eportal key change KEY [same options]\n"
	    "       kc.eportal key delete KEY\n"
	    "       kc.eportal key list [--json]\n"
	    "  -a/-c KEY/-d KEY/-l are the same as add/change/delete/list.\n"
	    "  add prints the new key. --product may repeat (kernel, libs, qemu, db);\n"
	    "  no --product means every product. --server-limit 0 means no limit.\n");
}

static int add_product(char *list, size_t sz, const char *p)
{
	size_t n = strlen(list);

	if (!kc_ep_product_valid(p))
		return cli_usage("unknown product '%s' (kernel, libs, qemu, db)", p);
	if (strstr(list, p))
		return 0;
	if (n + strlen(p) + 2 > sz)
		return cli_usage("too many products");
	snprintf(list + n, sz - n, "%s%s", n ? "," : "", p);
	return 0;
}

int cmd_key(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server-limit", required_argument, NULL, 'L'},
	    {"feed", required_argument, NULL, 'f'},
	    {"product", required_argument, NULL, 'P'},
	    {"note", required_argument, NULL, 'n'},
	    {"sticky", required_argument, NULL, 's'},
	    {"ip-range", required_argument, NULL, 'i'},
	    {"key", required_argument, NULL, 'k'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_key k = {0};
	unsigned mask = 0;
	enum mode mode = word_mode(argc > 1 ? argv[1] : NULL);
	const char *target = NULL;
	int json = 0, c, r;

	if (mode != M_NONE) {
		argc--;
		argv++;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "ac:d:lh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
		case 'l':
			mode = c == 'a' ? M_ADD : M_LIST;
			break;
		case 'c':
		case 'd':
			mode = c == 'c' ? M_CHANGE : M_DELETE;
			target = optarg;
			break;
		case 'L':
			k.server_limit = cli_num(optarg);
			if (k.server_limit < 0)
				return cli_usage("--server-limit needs a number >= 0");
			mask |= KC_EP_KEY_LIMIT;
			break;
		case 'f':
			snprintf(k.feed, sizeof(k.feed), "%s", optarg);
			mask |= KC_EP_KEY_FEED;
			break;
		case 'P':
			if (add_product(k.products, sizeof(k.products), optarg))
				return KC_EXIT_USAGE;
			mask |= KC_EP_KEY_PRODUCTS;
			break;
		case 'n':
			snprintf(k.note, sizeof(k.note), "%s", optarg);
			mask |= KC_EP_KEY_NOTE;
			break;
		case 's':
			snprintf(k.sticky, sizeof(k.sticky), "%s", optarg);
			mask |= KC_EP_KEY_STICKY;
			break;
		case 'i':
			snprintf(k.ip_range, sizeof(k.ip_range), "%s", optarg);
			mask |= KC_EP_KEY_IPRANGE;
			break;
		case 'k':
			snprintf(k.key, sizeof(k.key), "%s", optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			key_help();
			return KC_EXIT_OK;
		default:
			return KC_EXIT_USAGE;
		}
	}
	if ((mode == M_CHANGE || mode == M_DELETE) && !target) {
		if (optind >= argc)
			return cli_usage("key %s needs a KEY",
					 mode == M_CHANGE ? "change" : "delete");
		target = argv[optind++];
	}
	if (optind < argc)
		return cli_usage("unexpected argument '%s'", argv[optind]);
	if (mode == M_NONE)
		mode = M_LIST;
	if (mode == M_CHANGE && !mask)
		return cli_usage("key change needs an option to change");
	struct kc_ep *ep = cli_open();
	if (!ep)
		return KC_EXIT_ERROR;
	switch (mode) {
	case M_ADD:
		r = kc_ep_key_add(ep, &k, &err);
		if (r == 0)
			printf("%s\n", k.key);
		break;
	case M_CHANGE:
		snprintf(k.key, sizeof(k.key), "%s", target);
		r = kc_ep_key_change(ep, &k, mask, &err);
		break;
	case M_DELETE:
		r = kc_ep_key_delete(ep, target, &err);
		break;
	default: {
		struct kc_ep_key *keys = NULL;
		size_t n = 0;
		r = kc_ep_key_list(ep, &keys, &n, &err);
		if (r < 0)
			break;
		if (json) {
			cli_print_records(keys, n, sizeof(*keys), kc_ep_key_json);
		} else {
			printf("%-32s %-12s %7s %7s %-16s %-10s %s\n", "KEY", "FEED", "SERVERS",
			       "LIMIT", "PRODUCTS", "STICKY", "NOTE");
			for (size_t i = 0; i < n; i++)
				printf("%-32s %-12s %7lld %7lld %-16s %-10s %s\n", keys[i].key,
				       keys[i].feed, (long long)keys[i].servers,
				       (long long)keys[i].server_limit,
				       keys[i].products[0] ? keys[i].products : "all",
				       keys[i].sticky[0] ? keys[i].sticky : "-", keys[i].note);
		}
		free(keys);
	}
	}
	kc_ep_close(ep);
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}

static void feed_help(void)
{
	printf("usage: kc.eportal feed add NAME [--auto-update yes|no] [--deploy-after HOURS]\n"
	       "                               [--channel default|test|unstable]\n"
	       "       kc.eportal feed change NAME [same options]\n"
	       "       kc.eportal feed delete NAME\n"
	       "       kc.eportal feed list [--json]\n"
	       "  -a NAME/-c NAME/-d NAME/-l are the same. 'main' always exists.\n");
}

int cmd_feed(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"auto-update", required_argument, NULL, 'u'},
	    {"deploy-after", required_argument, NULL, 'D'},
	    {"channel", required_argument, NULL, 'C'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_feed f = {.auto_update = -1, .deploy_after_hours = -1};
	enum mode mode = word_mode(argc > 1 ? argv[1] : NULL);
	const char *name = NULL;
	int json = 0, c, r, changes = 0;

	if (mode != M_NONE) {
		argc--;
		argv++;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:c:d:lh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
		case 'c':
		case 'd':
			mode = c == 'a' ? M_ADD : c == 'c' ? M_CHANGE : M_DELETE;
			name = optarg;
			break;
		case 'l':
			mode = M_LIST;
			break;
		case 'u':
			if (strcmp(optarg, "yes") && strcmp(optarg, "no") && strcmp(optarg, "1") &&
			    strcmp(optarg, "0"))
				return cli_usage("--auto-update takes yes or no");
			f.auto_update = !strcmp(optarg, "yes") || !strcmp(optarg, "1");
			changes++;
			break;
		case 'D':
			f.deploy_after_hours = cli_num(optarg);
			if (f.deploy_after_hours < 0)
				return cli_usage("--deploy-after needs a number of hours");
			changes++;
			break;
		case 'C':
			snprintf(f.channel, sizeof(f.channel), "%s", optarg);
			changes++;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			feed_help();
			return KC_EXIT_OK;
		default:
			return KC_EXIT_USAGE;
		}
	}
	if (mode == M_NONE)
		mode = M_LIST;
	if (mode != M_LIST && !name) {
		if (optind >= argc)
			return cli_usage("feed needs a NAME");
		name = argv[optind++];
	}
	if (optind < argc)
		return cli_usage("unexpected argument '%s'", argv[optind]);
	if (mode == M_CHANGE && !changes)
		return cli_usage("feed change needs an option to change");
	if (name)
		snprintf(f.name, sizeof(f.name), "%s", name);
	struct kc_ep *ep = cli_open();
	if (!ep)
		return KC_EXIT_ERROR;
	switch (mode) {
	case M_ADD:
		if (f.auto_update < 0)
			f.auto_update = 0;
		if (f.deploy_after_hours < 0)
			f.deploy_after_hours = 0;
		r = kc_ep_feed_add(ep, &f, &err);
		break;
	case M_CHANGE:
		r = kc_ep_feed_change(ep, &f, &err);
		break;
	case M_DELETE:
		r = kc_ep_feed_delete(ep, name, &err);
		break;
	default: {
		struct kc_ep_feed *fs = NULL;
		size_t n = 0;
		r = kc_ep_feed_list(ep, &fs, &n, &err);
		if (r < 0)
			break;
		if (json) {
			cli_print_records(fs, n, sizeof(*fs), kc_ep_feed_json);
		} else {
			printf("%-20s %-11s %-12s %s\n", "FEED", "AUTO-UPDATE", "DEPLOY-AFTER",
			       "CHANNEL");
			for (size_t i = 0; i < n; i++)
				printf("%-20s %-11s %-12lld %s\n", fs[i].name,
				       fs[i].auto_update ? "yes" : "no",
				       (long long)fs[i].deploy_after_hours, fs[i].channel);
		}
		free(fs);
	}
	}
	kc_ep_close(ep);
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}
