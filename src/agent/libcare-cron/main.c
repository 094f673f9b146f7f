// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libcare-cron: turns the scheduled `kcarectl --lib-update` on (init), off
 * (remove) and shows it (status). A verb table over src/kcare/cron.c; this
 * file parses options, decides when systemctl runs (only for the real
 * root with systemd running) and prints.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "agent/common/verbs.h"
#include "kcare/cron.h"
#include "kcare/exitcodes.h"

#ifndef KC_SBINDIR
#define KC_SBINDIR "/usr/sbin"
#endif

/* Options of every verb; each verb says which it accepts. */
struct cron_args {
	const char *root;
	unsigned interval;
	enum kc_cron_systemd systemd;
	int json;
};

enum { OPT_INTERVAL = 1, OPT_ROOT = 2, OPT_SYSTEMD = 4, OPT_JSON = 8 };

static const char *const file_names[KC_CRON_F_COUNT] = {"cron file", "systemd service",
							"systemd timer", "timer enabled by"};

static const struct kc_verb_prog prog;

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "libcare-cron: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see libcare-cron --help)\n");
	return KC_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, unsigned allowed, struct cron_args *a)
{
	static const struct option opts[] = {
	    {"interval", required_argument, NULL, 'i'}, {"root", required_argument, NULL, 'r'},
	    {"systemd", required_argument, NULL, 's'},	{"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	struct kc_err err = KC_ERR_INIT;
	int c;

	a->root = getenv("KCARE_ROOT");
	a->interval = KC_CRON_INTERVAL_DEFAULT;
	a->systemd = KC_CRON_SYSTEMD_AUTO;
	a->json = 0;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case 'h':
			kc_verb_usage(&prog, stdout);
			return -1;
		case 'i':
			if (!(allowed & OPT_INTERVAL))
				return usage_error("%s does not take --interval", argv[0]);
			v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || optarg[0] == '-' || v < KC_CRON_INTERVAL_MIN ||
			    v > KC_CRON_INTERVAL_MAX)
				return usage_error("--interval '%s' is not a number of hours "
						   "from 1 to 168",
						   optarg);
			a->interval = (unsigned)v;
			break;
		case 'r':
			if (optarg[0] && optarg[0] != '/')
				return usage_error("--root '%s' is not an absolute path", optarg);
			a->root = optarg;
			break;
		case 's':
			if (!(allowed & OPT_SYSTEMD))
				return usage_error("%s does not take --systemd", argv[0]);
			if (kc_cron_systemd_parse(optarg, &a->systemd, &err) < 0)
				return usage_error("%s", err.msg);
			break;
		case 'j':
			if (!(allowed & OPT_JSON))
				return usage_error("%s does not take --json", argv[0]);
			a->json = 1;
			break;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!a->root)
		a->root = "";
	return 0;
}

/* systemctl only acts on the running system: never for a root prefix */
static int real_systemd(const struct cron_args *a, const struct kc_cron_state *st)
{
	return (a->root[0] == '\0' || !strcmp(a->root, "/")) && st->systemd_running;
}

static void systemctl_warn(const char *const *args)
{
	struct kc_err err = KC_ERR_INIT;

	if (kc_cron_systemctl(args, &err) < 0)
		fprintf(stderr, "libcare-cron: warning: %s\n", err.msg);
}

static int fail(const struct kc_err *err)
{
	fprintf(stderr, "libcare-cron: %s\n", err->msg);
	return KC_EXIT_ERROR;
}

static int cmd_init(int argc, char **argv)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_cron_state st;
	struct kc_cron_opts o;
	struct cron_args a;
	int rc = parse_args(argc, argv, OPT_INTERVAL | OPT_ROOT | OPT_SYSTEMD, &a);

	if (rc)
		return rc < 0 ? KC_EXIT_OK : rc;
	o = (struct kc_cron_opts){.root = a.root,
				  .kcarectl = KC_SBINDIR "/kcarectl",
				  .interval_hours = a.interval,
				  .systemd = a.systemd};
	if (kc_cron_install(&o, &st, &err) < 0)
		return fail(&err);
	for (int f = 0; f < KC_CRON_F_COUNT; f++) {
		if (st.f[f].present)
			printf("%s %s\n", st.f[f].changed ? "installed" : "unchanged",
			       st.f[f].path);
		else if (st.f[f].changed)
			printf("removed %s\n", st.f[f].path);
	}
	printf("every %u hours at minute %d%s\n", st.interval_hours, st.minute,
	       st.units ? " (systemd timer where systemd runs, cron otherwise)" : " (cron)");
	if (st.units && real_systemd(&a, &st)) {
		systemctl_warn((const char *const[]){"daemon-reload", NULL});
		systemctl_warn((const char *const[]){"start", "libcare-cron.timer", NULL});
	}
	return KC_EXIT_OK;
}

static int cmd_remove(int argc, char **argv)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_cron_state st;
	struct cron_args a;
	int rc = parse_args(argc, argv, OPT_ROOT | OPT_SYSTEMD, &a), any = 0;

	if (rc)
		return rc < 0 ? KC_EXIT_OK : rc;
	if (kc_cron_status(a.root, &st, &err) < 0)
		return fail(&err);
	/* stop before the unit file goes, or systemd keeps a timer it cannot reload */
	if (a.systemd != KC_CRON_SYSTEMD_NO && real_systemd(&a, &st) &&
	    st.f[KC_CRON_F_TIMER].present)
		systemctl_warn((const char *const[]){"stop", "libcare-cron.timer", NULL});
	rc = kc_cron_remove(a.root, &st, &err);
	for (int f = 0; f < KC_CRON_F_COUNT; f++) {
		if (st.f[f].changed) {
			printf("removed %s\n", st.f[f].path);
			any = 1;
		}
	}
	if (rc < 0)
		return fail(&err);
	if (!any)
		printf("libcare-cron is not installed\n");
	if (any && a.systemd != KC_CRON_SYSTEMD_NO && real_systemd(&a, &st))
		systemctl_warn((const char *const[]){"daemon-reload", NULL});
	return KC_EXIT_OK;
}

static int print_json(const struct kc_cron_state *st)
{
	static const char *const keys[KC_CRON_F_COUNT] = {"cron", "service", "timer", "timer_link"};
	json_object *o = json_object_new_object();
	int installed = st->f[KC_CRON_F_CRON].present;

	json_object_object_add(o, "installed", json_object_new_boolean(installed));
	json_object_object_add(o, "interval_hours",
			       st->interval_hours ? json_object_new_int((int)st->interval_hours)
						  : NULL);
	json_object_object_add(o, "minute",
			       st->minute >= 0 ? json_object_new_int(st->minute) : NULL);
	json_object_object_add(o, "systemd_running", json_object_new_boolean(st->systemd_running));
	for (int f = 0; f < KC_CRON_F_COUNT; f++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "path", json_object_new_string(st->f[f].path));
		json_object_object_add(e, "present", json_object_new_boolean(st->f[f].present));
		json_object_object_add(o, keys[f], e);
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return KC_EXIT_OK;
}

static int cmd_status(int argc, char **argv)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_cron_state st;
	struct cron_args a;
	int rc = parse_args(argc, argv, OPT_ROOT | OPT_JSON, &a);

	if (rc)
		return rc < 0 ? KC_EXIT_OK : rc;
	if (kc_cron_status(a.root, &st, &err) < 0)
		return fail(&err);
	if (a.json)
		return print_json(&st);
	if (!st.f[KC_CRON_F_CRON].present)
		printf("libcare-cron is not installed\n");
	else if (st.interval_hours)
		printf("libcare-cron is installed: every %u hours at minute %d\n",
		       st.interval_hours, st.minute);
	else
		printf("libcare-cron is installed (cron file not written by libcare-cron)\n");
	for (int f = 0; f < KC_CRON_F_COUNT; f++)
		printf("  %-16s %s: %s\n", file_names[f], st.f[f].path,
		       st.f[f].present ? "present" : "absent");
	printf("  systemd running: %s\n", st.systemd_running ? "yes" : "no");
	return KC_EXIT_OK;
}

static const struct kc_verb verbs[] = {
    {"init", cmd_init,
     "install the automatic userspace patch update\n[--interval HOURS (1-168, default 4)] "
     "[--root DIR]\n[--systemd auto|yes|no]"},
    {"remove", cmd_remove, "remove it [--root DIR] [--systemd auto|yes|no]"},
    {"status", cmd_status, "show what is installed [--root DIR] [--json]"},
    {NULL, NULL, NULL},
};

static const struct kc_verb_prog prog = {
    .name = "libcare-cron", .verbs = verbs, .footer = "--root defaults to $KCARE_ROOT, else /."};

int main(int argc, char **argv)
{
	return kc_verb_run(&prog, argc, argv);
}
