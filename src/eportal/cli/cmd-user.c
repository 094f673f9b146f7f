// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kc.eportal user, api-key, root-key and keys: who may use the admin API,
 * and the server's signing keys.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "eportal/cli/cli.h"
#include "eportal/keys.h"

int cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"password", required_argument, NULL, 'p'},
	    {"role", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_err err = KC_ERR_INIT;
	const char *name = NULL, *password = NULL;
	int mode = 'l', readonly = 0, c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "a:c:d:lp:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
		case 'c':
		case 'd':
			mode = c;
			name = optarg;
			break;
		case 'l':
			mode = 'l';
			break;
		case 'p':
			password = optarg;
			break;
		case 'r':
			if (strcmp(optarg, "readonly") && strcmp(optarg, "admin"))
				return cli_usage("-r takes readonly or admin");
			readonly = !strcmp(optarg, "readonly");
			break;
		case 'h':
			printf("usage: kc.eportal user -a NAME -p PASSWORD [-r readonly|admin]\n"
			       "       kc.eportal user -c NAME -p PASSWORD   (new password)\n"
			       "       kc.eportal user -d NAME\n"
			       "       kc.eportal user -l\n"
			       "  users log in to the admin API with HTTP basic auth;\n"
			       "  readonly users may only read.\n");
			return KC_EXIT_OK;
		default:
			return KC_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage("unexpected argument '%s'", argv[optind]);
	if ((mode == 'a' || mode == 'c') && !password)
		return cli_usage("user -%c needs -p PASSWORD", mode);
	struct kc_ep *ep = cli_open();
	if (!ep)
		return KC_EXIT_ERROR;
	if (mode == 'a') {
		r = kc_ep_user_add(ep, name, password, readonly, &err);
	} else if (mode == 'c') {
		r = kc_ep_user_passwd(ep, name, password, &err);
	} else if (mode == 'd') {
		r = kc_ep_user_delete(ep, name, &err);
	} else {
		struct kc_ep_user *u = NULL;
		size_t n = 0;
		char t[32];
		r = kc_ep_user_list(ep, &u, &n, &err);
		if (r == 0) {
			printf("%-24s %-9s %s\n", "USER", "ROLE", "CREATED");
			for (size_t i = 0; i < n; i++)
				printf("%-24s %-9s %s\n", u[i].name,
				       u[i].readonly ? "readonly" : "admin",
				       cli_time(u[i].created, t));
		}
		free(u);
	}
	kc_ep_close(ep);
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}

int cmd_api_key(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"readonly", no_argument, NULL, 'R'},
	    {"note", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_err err = KC_ERR_INIT;
	const char *note = NULL;
	int64_t id = -1;
	int mode = 'l', readonly = 0, c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ad:lh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
		case 'l':
			mode = c;
			break;
		case 'd':
			mode = 'd';
			id = cli_num(optarg);
			if (id < 0)
				return cli_usage("-d needs the numeric id shown by -l");
			break;
		case 'R':
			readonly = 1;
			break;
		case 'n':
			note = optarg;
			break;
		case 'h':
			printf("usage: kc.eportal api-key -a [--readonly] [--note TEXT]\n"
			       "       kc.eportal api-key -d ID\n"
			       "       kc.eportal api-key -l\n"
			       "  -a prints a new key for the X-Api-Key header; only its hash is "
			       "kept.\n");
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
	if (mode == 'a') {
		char token[KC_EP_APIKEY_LEN + 1];
		r = kc_ep_apikey_add(ep, readonly, note, token, &err);
		if (r == 0)
			printf("%s\n", token);
	} else if (mode == 'd') {
		r = kc_ep_apikey_delete(ep, id, &err);
	} else {
		struct kc_ep_apikey *a = NULL;
		size_t n = 0;
		char t[32];
		r = kc_ep_apikey_list(ep, &a, &n, &err);
		if (r == 0) {
			printf("%-6s %-10s %-9s %-20s %s\n", "ID", "PREFIX", "ROLE", "CREATED",
			       "NOTE");
			for (size_t i = 0; i < n; i++)
				printf("%-6" PRId64 " %-10s %-9s %-20s %s\n", a[i].id, a[i].prefix,
				       a[i].readonly ? "readonly" : "admin",
				       cli_time(a[i].created, t), a[i].note);
		}
		free(a);
	}
	kc_ep_close(ep);
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}

int cmd_root_key(int argc, char **argv)
{
	struct kc_err err = KC_ERR_INIT;
	char path[4096];
	int r;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: kc.eportal root-key\n"
		       "  prints the path of the public root key file; agents import it with\n"
		       "  kcarectl --import-key before their first update.\n");
		return KC_EXIT_OK;
	}
	if (argc > 1)
		return cli_usage("unexpected argument '%s'", argv[1]);
	struct kc_ep *ep = cli_open();
	if (!ep)
		return KC_EXIT_ERROR;
	r = kc_ep_root_pub_path(ep, path, sizeof(path), &err);
	if (r == 0)
		printf("%s\n", path);
	kc_ep_close(ep);
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}

int cmd_keys(int argc, char **argv)
{
	struct kc_err err = KC_ERR_INIT;
	uint64_t version = 0;
	int root = 0, r;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: kc.eportal keys rotate [--root]\n"
		       "  new online signing keys (and with --root a new root key), announced\n"
		       "  in a new root version signed by the old root key (and the new one).\n"
		       "  The root key must be in DATA/keys/root.key for the time of the call.\n");
		return argc < 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	if (strcmp(argv[1], "rotate"))
		return cli_usage("unknown keys command '%s'", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--root"))
			root = 1;
		else
			return cli_usage("unexpected argument '%s'", argv[i]);
	}
	struct kc_ep *ep = cli_open();
	if (!ep)
		return KC_EXIT_ERROR;
	r = kc_ep_keys_rotate(ep, root, &version, &err);
	if (r == 0)
		printf("root version %" PRIu64 "\n", version);
	kc_ep_close(ep);
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}
