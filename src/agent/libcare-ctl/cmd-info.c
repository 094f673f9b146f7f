// SPDX-License-Identifier: GPL-2.0-or-later
/* libcare-ctl info -p PID|all [--json]: mapped objects and applied patches per process. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/libcare-ctl/cmds.h"
#include "kcare/exitcodes.h"

static void print_text(json_object *proc, bool all)
{
	json_object *objs = json_object_object_get(proc, "objects");
	size_t npatched = 0;

	for (size_t i = 0; i < json_object_array_length(objs); i++) {
		json_object *o = json_object_array_get_idx(objs, i);

		npatched += json_object_array_length(json_object_object_get(o, "patches")) +
			    json_object_array_length(json_object_object_get(o, "retired"));
	}
	if (all && !npatched)
		return; /* "all" lists only processes with patches (or code kept from them) */
	printf("%d %s\n", json_object_get_int(json_object_object_get(proc, "pid")),
	       json_object_get_string(json_object_object_get(proc, "comm")));
	for (size_t i = 0; i < json_object_array_length(objs); i++) {
		json_object *o = json_object_array_get_idx(objs, i);
		json_object *ps = json_object_object_get(o, "patches");

		printf("  %s build-id %s\n",
		       json_object_get_string(json_object_object_get(o, "path")),
		       json_object_get_string(json_object_object_get(o, "build_id")));
		for (size_t k = 0; k < json_object_array_length(ps); k++) {
			json_object *p = json_object_array_get_idx(ps, k), *a;
			time_t when =
			    (time_t)json_object_get_int64(json_object_object_get(p, "applied"));
			char ts[32];
			struct tm tm;

			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&when, &tm));
			printf("    patch %s level %d applied %s\n",
			       json_object_get_string(json_object_object_get(p, "id")),
			       json_object_get_int(json_object_object_get(p, "level")), ts);
			a = json_object_object_get(p, "cves");
			if (json_object_array_length(a)) {
				printf("      cves:");
				for (size_t j = 0; j < json_object_array_length(a); j++)
					printf(" %s", json_object_get_string(
							  json_object_array_get_idx(a, j)));
				printf("\n");
			}
			printf("      description: %s\n",
			       json_object_get_string(json_object_object_get(p, "description")));
			a = json_object_object_get(p, "functions");
			printf("      functions:");
			for (size_t j = 0; j < json_object_array_length(a); j++)
				printf(" %s",
				       json_object_get_string(json_object_array_get_idx(a, j)));
			printf("\n");
		}
		ps = json_object_object_get(o, "retired");
		for (size_t k = 0; k < json_object_array_length(ps); k++) {
			json_object *p = json_object_array_get_idx(ps, k);
			int64_t size = json_object_get_int64(json_object_object_get(p, "size"));

			printf("    retired %s level %d: %lld KiB kept mapped, a suspended stack "
			       "returns into it\n",
			       json_object_get_string(json_object_object_get(p, "id")),
			       json_object_get_int(json_object_object_get(p, "level")),
			       (long long)(size + 1023) / 1024);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: libcare-ctl info -p PID|all [--json]\n");
}

struct info_args {
	bool json;
	json_object *all; /* the array printed with --json */
};

static int info_one(pid_t pid, struct lcctl_common *c, void *ctx, struct kc_err *err)
{
	struct info_args *a = ctx;
	json_object *proc;
	int ret = kc_upatch_info(pid, &proc, err);

	if (ret < 0)
		return c->all ? 0 : ret; /* "all": exited, or not ours to read */
	if (a->json) {
		json_object_array_add(a->all, proc);
	} else {
		print_text(proc, c->all);
		json_object_put(proc);
	}
	return 0;
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
	    LCCTL_COMMON_LONGOPTS, {"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	struct info_args a = {0};
	struct lcctl_common c;
	int opt, st = -1, ret;

	lcctl_common_init(&c);
	while ((opt = getopt_long(argc, argv, LCCTL_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		if (lcctl_common_opt(&c, opt, optarg, usage, &st)) {
			if (st >= 0)
				return st;
		} else if (opt == 'j') {
			a.json = true;
		} else {
			usage(stderr);
			return KC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	a.all = json_object_new_array();
	ret = lcctl_run(&c, info_one, &a);
	if (a.json && ret != KC_EXIT_USAGE)
		printf("%s\n",
		       json_object_to_json_string_ext(a.all, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a.all);
	return ret;
}
