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

	for (size_t i = 0; i < json_object_array_length(objs); i++)
		npatched += json_object_array_length(
		    json_object_object_get(json_object_array_get_idx(objs, i), "patches"));
	if (all && !npatched)
		return; /* "all" lists only processes with patches */
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
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: libcare-ctl info -p PID|all [--json]\n");
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {{"pid", required_argument, NULL, 'p'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *spec = NULL;
	bool json = false, all;
	pid_t *pids = NULL;
	size_t npids = 0;
	json_object *arr;
	int c, ret, failed = 0;

	while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			spec = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return KC_EXIT_OK;
		default:
			usage(stderr);
			return KC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	if ((ret = lcctl_targets(spec, &pids, &npids)))
		return ret;
	all = !strcmp(spec, "all");
	arr = json_object_new_array();
	for (size_t i = 0; i < npids; i++) {
		struct kc_err err = KC_ERR_INIT;
		json_object *proc;

		if (all && !lcctl_is_candidate(pids[i]))
			continue;
		if (kc_upatch_info(pids[i], &proc, &err) < 0) {
			if (all)
				continue; /* exited or not ours to read */
			lcctl_error(pids[i], err.msg);
			failed++;
			continue;
		}
		if (json)
			json_object_array_add(arr, proc);
		else {
			print_text(proc, all);
			json_object_put(proc);
		}
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(
				   arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	free(pids);
	return failed ? KC_EXIT_ERROR : KC_EXIT_OK;
}
