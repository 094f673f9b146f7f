// SPDX-License-Identifier: GPL-2.0-or-later
/* kc.eportal backup, restore and upstream: copies of the data directory, and mirroring. */
#include <stdio.h>
#include <string.h>

#include "eportal/cli/cli.h"

int cmd_backup(int argc, char **argv)
{
	struct kc_err err = KC_ERR_INIT;
	int r;

	if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: kc.eportal backup FILE\n"
		       "  writes the database (a consistent copy), keys and repository to FILE\n"
		       "  (.tar.gz); the server may keep running.\n");
		return argc != 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	struct kc_ep *ep = cli_open();
	if (!ep)
		return KC_EXIT_ERROR;
	r = kc_ep_backup(ep, argv[1], &err);
	kc_ep_close(ep);
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}

int cmd_restore(int argc, char **argv)
{
	struct kc_err err = KC_ERR_INIT;
	int r;

	if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: kc.eportal --data DIR restore FILE\n"
		       "  unpacks a backup into DIR, which must not hold a database yet;\n"
		       "  start the server on DIR afterwards.\n");
		return argc != 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	r = kc_ep_restore(cli_data, argv[1], &err);
	if (r == 0) {
		struct kc_ep *ep = cli_open(); /* checks the result opens and migrates */
		if (!ep)
			return KC_EXIT_ERROR;
		kc_ep_close(ep);
	}
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}

int cmd_upstream(int argc, char **argv)
{
	struct kc_err err = KC_ERR_INIT;
	char url[1024];
	int r;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: kc.eportal upstream set URL --root-key FILE\n"
		       "       kc.eportal upstream show\n"
		       "       kc.eportal upstream clear\n"
		       "  URL is the repository of another eportal (http://HOST:PORT/repo/);\n"
		       "  FILE its public root key (kc.eportal root-key there). update and\n"
		       "  auto-update then fetch new patchsets from it.\n");
		return argc < 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	if (!strcmp(argv[1], "set")) {
		if (argc != 5 || strcmp(argv[3], "--root-key"))
			return cli_usage("upstream set takes URL --root-key FILE");
		struct kc_ep *ep = cli_open();
		if (!ep)
			return KC_EXIT_ERROR;
		r = kc_ep_mirror_set(ep, argv[2], argv[4], &err);
		kc_ep_close(ep);
	} else if (!strcmp(argv[1], "show") || !strcmp(argv[1], "clear")) {
		if (argc != 2)
			return cli_usage("unexpected argument '%s'", argv[2]);
		struct kc_ep *ep = cli_open();
		if (!ep)
			return KC_EXIT_ERROR;
		if (!strcmp(argv[1], "show")) {
			r = kc_ep_setting_get(ep, "upstream_url", url, sizeof(url), &err);
			if (r == 0)
				printf("%s\n", url[0] ? url : "(none)");
		} else {
			r = kc_ep_setting_set(ep, "upstream_url", NULL, &err);
		}
		kc_ep_close(ep);
	} else {
		return cli_usage("unknown upstream command '%s'", argv[1]);
	}
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}
