// SPDX-License-Identifier: GPL-2.0-or-later
/* libcare-ctl patch -p PID|all [--timeout S] PATCH|DIR...: apply patches to running processes. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/libcare-ctl/cmds.h"
#include "kcare/bidcache.h"
#include "kcare/exitcodes.h"

struct patch_set {
	struct kc_patch **v;
	char **files;
	size_t n;
};

static void set_free(struct patch_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		kc_patch_free(s->v[i]);
		free(s->files[i]);
	}
	free(s->v);
	free(s->files);
}

/* Keeps only the highest level of each (id, build-id): that one is cumulative. */
static int set_add(struct patch_set *s, struct kc_patch *p, const char *file)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i]->id, p->id) ||
		    !kc_buildid_equal(&s->v[i]->build_id, &p->build_id))
			continue;
		if (s->v[i]->level >= p->level) {
			kc_patch_free(p);
			return 0;
		}
		kc_patch_free(s->v[i]);
		free(s->files[i]);
		s->v[i] = p;
		s->files[i] = strdup(file);
		return s->files[i] ? 0 : -ENOMEM;
	}
	struct kc_patch **v = realloc(s->v, (s->n + 1) * sizeof(*v));
	char **f = v ? realloc(s->files, (s->n + 1) * sizeof(*f)) : NULL;

	if (v)
		s->v = v;
	if (!v || !f)
		return -ENOMEM;
	s->files = f;
	s->v[s->n] = p;
	s->files[s->n] = strdup(file);
	s->n++;
	return 0;
}

static int load_file(struct patch_set *s, const char *path)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patch *p;

	if (kc_patch_read_file(path, &p, &err) < 0) {
		fprintf(stderr, "libcare-ctl: %s: %s\n", path, err.msg);
		return KC_EXIT_ERROR;
	}
	if (set_add(s, p, path) < 0) {
		fprintf(stderr, "libcare-ctl: out of memory\n");
		return KC_EXIT_ERROR;
	}
	return 0;
}

static int load_arg(struct patch_set *s, const char *arg)
{
	struct dirent **ents;
	struct stat st;
	int n, ret = 0;

	if (stat(arg, &st) < 0) {
		fprintf(stderr, "libcare-ctl: cannot read '%s': %s\n", arg, strerror(errno));
		return KC_EXIT_ERROR;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(s, arg);
	n = scandir(arg, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "libcare-ctl: cannot list '%s': %s\n", arg, strerror(errno));
		return KC_EXIT_ERROR;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", arg, ents[i]->d_name);
		if (ret == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			ret = load_file(s, path);
		free(ents[i]);
	}
	free(ents);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: libcare-ctl patch -p PID|all [--timeout SECONDS] [--stats] PATCH|DIR...\n");
}

int cmd_patch(int argc, char **argv)
{
	static const struct option opts[] = {{"pid", required_argument, NULL, 'p'},
					     {"timeout", required_argument, NULL, 't'},
					     {"stats", no_argument, NULL, 's'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct kc_upatch_opts uo = {.timeout = 5.0, .cancel = &lcctl_cancel};
	struct lcctl_report_opts ro = {0};
	struct patch_set set = {0};
	struct kc_bidcache *cache = NULL;
	const char *spec = NULL;
	pid_t *pids = NULL;
	size_t npids = 0;
	bool all;
	int c, ret = 0, failed = 0;

	while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			spec = optarg;
			break;
		case 't':
			if ((ret = lcctl_parse_timeout(optarg, &uo.timeout)))
				return ret;
			break;
		case 's':
			ro.stats = true;
			break;
		case 'h':
			usage(stdout);
			return KC_EXIT_OK;
		default:
			usage(stderr);
			return KC_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "libcare-ctl: patch needs at least one PATCH or DIR\n");
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	if ((ret = lcctl_targets(spec, &pids, &npids)))
		return ret;
	for (int i = optind; i < argc && ret == 0; i++)
		ret = load_arg(&set, argv[i]);
	all = !strcmp(spec, "all");
	ro.quiet_skips = all;
	lcctl_catch_signals();
	if (all && !(cache = kc_bidcache_new())) {
		fprintf(stderr, "libcare-ctl: out of memory\n");
		ret = KC_EXIT_ERROR;
	}
	for (size_t i = 0; ret == 0 && i < npids && !lcctl_cancel; i++) {
		struct kc_err err = KC_ERR_INIT;

		if (all && (!lcctl_is_candidate(pids[i]) ||
			    kc_upatch_wanted(pids[i], set.v, set.n, cache, &err) <= 0))
			continue;
		if (kc_upatch_apply(pids[i], set.v, (const char *const *)set.files, set.n, &uo,
				    lcctl_report, &ro, &err) < 0) {
			/* with "all", a process that exited meanwhile is not a failure */
			if (all && err.code == -ESRCH && !lcctl_cancel)
				continue;
			failed++;
			if (lcctl_failed(pids[i], &err))
				break;
		}
	}
	kc_bidcache_free(cache);
	set_free(&set);
	free(pids);
	if (ret)
		return ret;
	return failed || lcctl_cancel ? KC_EXIT_ERROR : KC_EXIT_OK;
}
