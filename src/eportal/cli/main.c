// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kc.eportal: the patch server's administration command. A verb table; each
 * verb lives in cmd-*.c and works on the data directory given by --data
 * (default /var/lib/eportal) and the database given by --db, which main()
 * takes out of argv wherever they appear.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/common/verbs.h"
#include "eportal/cli/cli.h"

const char *cli_data = "/var/lib/eportal";
const char *cli_db;

static const struct kc_verb verbs[] = {
    {"root-key", cmd_root_key, "print the path of the public root key agents import"},
    {"keys", cmd_keys, "keys rotate [--root]: new signing keys and root version"},
    {"user", cmd_user, "admin API users: -a NAME -p PASSWORD [-r readonly], -c, -d, -l"},
    {"api-key", cmd_api_key, "admin API keys: -a [--readonly] [--note T], -d ID, -l"},
    {"key", cmd_key, "registration keys: add|change|delete|list (-a/-c/-d/-l)"},
    {"feed", cmd_feed, "feeds: add|change|delete|list (-a/-c/-d/-l)"},
    {"kcare", cmd_product, "kernel patchsets: deploy|update|auto-update|unroll|list|..."},
    {"libcare", cmd_product, "LibraryCare patchsets (same verbs)"},
    {"qemu", cmd_product, "QEMUCare patchsets (same verbs)"},
    {"db", cmd_product, "DBCare patchsets (same verbs)"},
    {"server", cmd_server,
     "server list [FILTERS], server clean --inactive [DAYS], server delete ID"},
    {"list-servers", cmd_list_servers, "list registered servers"},
    {"upstream", cmd_upstream, "upstream set URL --root-key FILE | show | clear (mirroring)"},
    {"backup", cmd_backup, "write a consistent copy of the data directory to FILE"},
    {"restore", cmd_restore, "restore a backup FILE into an empty data directory"},
    {"doctor", cmd_doctor, "agent diagnostic reports: -l [--json], --get ID -o FILE, -d ID"},
    {"oval", cmd_oval, "OVAL definitions for scanners: [--out FILE] [--distro ID --release V]"},
    {NULL, NULL, NULL},
};

static const struct kc_verb_prog prog = {
    .name = "kc.eportal",
    .verbs = verbs,
    .options = "[--data DIR] [--db URL]",
    .options_help = "  --data DIR  the server's data directory (default /var/lib/eportal)\n"
		    "  --db URL    postgresql://... (default: DIR/eportal.db, SQLite)\n",
    .footer = "'kc.eportal COMMAND --help' describes a command.",
};

int cli_fail(const struct kc_err *err)
{
	fprintf(stderr, "kc.eportal: %s\n", err->msg[0] ? err->msg : "failed");
	return KC_EXIT_ERROR;
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kc.eportal: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	return KC_EXIT_USAGE;
}

int64_t cli_num(const char *s)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno || v < 0)
		return -1;
	return v;
}

void cli_print_records(const void *records, size_t n, size_t size, kc_ep_json_encoder *encode)
{
	struct json_object *a = kc_ep_json_array(records, n, size, encode);

	printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY));
	json_object_put(a);
}

const char *cli_time(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || !gmtime_r(&tt, &tm))
		return "-";
	strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

struct kc_ep *cli_open(void)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep *ep = NULL;

	if (kc_ep_open(cli_data, cli_db, 0, &ep, &err) < 0) {
		cli_fail(&err);
		return NULL;
	}
	return ep;
}

/* Takes --data/--db (and --opt=value forms) out of argv; returns the new argc or -1. */
static int take_globals(int argc, char **argv)
{
	int n = 1;

	for (int i = 1; i < argc; i++) {
		const char **dst = NULL;
		const char *val = NULL;

		if (!strcmp(argv[i], "--")) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], "--data") || !strcmp(argv[i], "--db")) {
			dst = argv[i][3] == 'a' ? &cli_data : &cli_db;
			if (i + 1 >= argc)
				return -1;
			val = argv[++i];
		} else if (!strncmp(argv[i], "--data=", 7)) {
			dst = &cli_data;
			val = argv[i] + 7;
		} else if (!strncmp(argv[i], "--db=", 5)) {
			dst = &cli_db;
			val = argv[i] + 5;
		}
		if (dst)
			*dst = val;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return n;
}

int main(int argc, char **argv)
{
	argc = take_globals(argc, argv);
	if (argc < 0)
		return cli_usage("--data and --db need a value");
	if (!*cli_data)
		return cli_usage("--data needs a directory");
	return kc_verb_run(&prog, argc, argv);
}
