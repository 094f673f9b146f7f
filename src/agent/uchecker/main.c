// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uchecker: lists the running processes that still execute a library (or
 * program) the disk no longer has, as a package update leaves them until
 * they restart. Parses options and LOGLEVEL, runs kc_uchk_scan()
 * (src/kcare/uchecker.c) and prints; --json for machines.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "kcare/exitcodes.h"
#include "kcare/uchecker.h"

#define UCHK_EXIT_FOUND 3 /* some process runs out-of-date code */

enum level { L_ERROR, L_WARNING, L_INFO, L_DEBUG };

static void usage(FILE *f)
{
	fprintf(f, "usage: uchecker [--pid PID]... [--json]\n"
		   "Lists processes that run a library or program older than the file on disk.\n"
		   "  --pid PID   only this process (repeatable); default: every process\n"
		   "  --json      one JSON object on stdout\n"
		   "LOGLEVEL=ERROR|WARNING|INFO|DEBUG sets how much is said (default WARNING).\n"
		   "Exit: 0 all up to date, 3 out-of-date code found, 1 error, 2 bad usage.\n");
}

static int parse_level(const char *s, enum level *out)
{
	static const char *const names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};

	if (!s || !*s) {
		*out = L_WARNING;
		return 0;
	}
	for (int i = 0; i < 4; i++)
		if (!strcasecmp(s, names[i])) {
			*out = (enum level)i;
			return 0;
		}
	return -1;
}

static void trace(void *ctx, pid_t pid, const char *path, const char *verdict)
{
	(void)ctx;
	fprintf(stderr, "uchecker: [%d] %s%s%s\n", (int)pid, path, *path ? ": " : "", verdict);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void print_text(const struct kc_uchk_result *r, enum level lv)
{
	char a[2 * KC_BUILDID_MAX + 1], b[2 * KC_BUILDID_MAX + 1];

	for (size_t i = 0; i < r->n; i++) {
		const struct kc_uchk_finding *f = &r->v[i];
		char live[600] = "";

		if (f->live)
			snprintf(live, sizeof(live), " (live patched: %.560s)", f->live);
		if (f->is_program)
			printf(
			    "[*] Process %s[%d] runs the program `%s` that is not up to date%s.\n",
			    f->comm, (int)f->pid, f->path, live);
		else
			printf("[*] Process %s[%d] linked to the `%s` that is not up to date%s.\n",
			       f->comm, (int)f->pid, base_name(f->path), live);
		if (lv >= L_INFO)
			printf("    %s: build-id %s in memory, %s on disk\n", f->path,
			       kc_buildid_to_hex(&f->mapped, a, sizeof(a)),
			       f->reason == KC_UCHK_REMOVED
				   ? "removed"
				   : kc_buildid_to_hex(&f->on_disk, b, sizeof(b)));
	}
	if (r->n)
		printf(
		    "\nThe processes above keep running the old code until they restart after the "
		    "update.\nkcarectl --lib-update applies live patches to running processes "
		    "without a restart.\n");
	else
		printf("No process runs an out-of-date library or program.\n");
	if (lv >= L_INFO)
		fprintf(stderr, "uchecker: %zu process%s, %zu objects, %zu out of date\n", r->procs,
			r->procs == 1 ? "" : "es", r->objects, r->n);
}

static void print_json(const struct kc_uchk_result *r)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	char hex[2 * KC_BUILDID_MAX + 1];

	for (size_t i = 0; i < r->n; i++) {
		const struct kc_uchk_finding *f = &r->v[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "pid", json_object_new_int(f->pid));
		json_object_object_add(e, "comm", json_object_new_string(f->comm));
		json_object_object_add(e, "path", json_object_new_string(f->path));
		json_object_object_add(e, "program", json_object_new_boolean(f->is_program));
		json_object_object_add(
		    e, "reason",
		    json_object_new_string(f->reason == KC_UCHK_REMOVED ? "removed" : "replaced"));
		json_object_object_add(
		    e, "build_id",
		    json_object_new_string(kc_buildid_to_hex(&f->mapped, hex, sizeof(hex))));
		json_object_object_add(e, "build_id_on_disk",
				       f->on_disk.len ? json_object_new_string(kc_buildid_to_hex(
							    &f->on_disk, hex, sizeof(hex)))
						      : NULL);
		json_object_object_add(e, "live_patches",
				       f->live ? json_object_new_string(f->live) : NULL);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "out_of_date", a);
	json_object_object_add(o, "processes", json_object_new_int64((int64_t)r->procs));
	json_object_object_add(o, "objects", json_object_new_int64((int64_t)r->objects));
	json_object_object_add(o, "unreadable", json_object_new_int64((int64_t)r->unreadable));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"pid", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_uchk_result r;
	struct kc_err err = KC_ERR_INIT;
	pid_t *pids = calloc((size_t)argc, sizeof(*pids));
	size_t npids = 0;
	enum level lv;
	int c, json = 0, ret;

	if (!pids) {
		fprintf(stderr, "uchecker: out of memory\n");
		return KC_EXIT_ERROR;
	}
	if (parse_level(getenv("LOGLEVEL"), &lv) < 0) {
		fprintf(stderr, "uchecker: LOGLEVEL is ERROR, WARNING, INFO or DEBUG, not '%s'\n",
			getenv("LOGLEVEL"));
		free(pids);
		return KC_EXIT_USAGE;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:jh", longopts, NULL)) != -1) {
		char *end;
		long v;

		switch (c) {
		case 'p':
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v <= 0 || v > 0x7fffffff) {
				fprintf(stderr, "uchecker: bad pid '%s'\n", optarg);
				free(pids);
				return KC_EXIT_USAGE;
			}
			pids[npids++] = (pid_t)v;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			free(pids);
			return KC_EXIT_OK;
		case 'V':
			printf("uchecker %s\n", KC_VERSION);
			free(pids);
			return KC_EXIT_OK;
		default:
			fprintf(stderr, "uchecker: %s '%s'\n",
				c == ':' ? "missing argument to" : "unknown option",
				argv[optind - 1]);
			usage(stderr);
			free(pids);
			return KC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "uchecker: unexpected argument '%s'\n", argv[optind]);
		free(pids);
		return KC_EXIT_USAGE;
	}
	for (size_t i = 0; i < npids; i++) {
		char proc[32];

		snprintf(proc, sizeof(proc), "/proc/%d", (int)pids[i]);
		if (access(proc, F_OK) < 0) {
			fprintf(stderr, "uchecker: no process %d\n", (int)pids[i]);
			free(pids);
			return KC_EXIT_ERROR;
		}
	}
	ret =
	    kc_uchk_scan(npids ? pids : NULL, npids, lv >= L_DEBUG ? trace : NULL, NULL, &r, &err);
	free(pids);
	if (ret < 0) {
		fprintf(stderr, "uchecker: %s\n", err.msg);
		kc_uchk_result_release(&r);
		return KC_EXIT_ERROR;
	}
	if (r.unreadable && lv >= L_WARNING)
		fprintf(stderr, "uchecker: %zu process%s could not be read%s\n", r.unreadable,
			r.unreadable == 1 ? "" : "es",
			geteuid() ? " (run as root to see every process)" : "");
	if (json)
		print_json(&r);
	else
		print_text(&r, lv);
	ret = r.n ? UCHK_EXIT_FOUND : KC_EXIT_OK;
	kc_uchk_result_release(&r);
	return ret;
}
