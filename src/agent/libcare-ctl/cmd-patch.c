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
#include "kcare/blacklist.h"
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
	fprintf(
	    f, "usage: libcare-ctl patch -p PID|all [--no-blacklist] [--timeout SECONDS] [--stats] "
	       "PATCH|DIR...\n");
}

struct patch_args {
	struct patch_set set;
	struct kc_bidcache *cache; /* "all" only */
	bool no_blacklist;
	struct kc_blacklist *bl; /* "all" only, unless --no-blacklist */
};

static int patch_one(pid_t pid, struct lcctl_common *c, void *ctx, struct kc_err *err)
{
	struct patch_args *a = ctx;

	char exe[512];
	const char *rule;

	/* a cheap look at the maps first: most processes map none of the targets */
	if (c->all && kc_upatch_wanted(pid, a->set.v, a->set.n, a->cache, err) <= 0)
		return 0;
	if (a->bl && (rule = lcctl_blacklisted(a->bl, pid, exe, sizeof(exe)))) {
		printf("%d: skipped %s: blacklisted by %s\n", pid, exe, rule);
		return 0;
	}
	return kc_upatch_apply(pid, a->set.v, (const char *const *)a->set.files, a->set.n, &c->uo,
			       lcctl_report, &c->ro, err);
}

int cmd_patch(int argc, char **argv)
{
	static const struct option opts[] = {
	    LCCTL_COMMON_LONGOPTS, {"no-blacklist", no_argument, NULL, 'N'}, {NULL, 0, NULL, 0}};
	struct patch_args a = {0};
	struct lcctl_common c;
	int opt, st = -1, ret = 0;

	lcctl_common_init(&c);
	while ((opt = getopt_long(argc, argv, LCCTL_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		if (opt == 'N') {
			a.no_blacklist = true;
			continue;
		}
		if (!lcctl_common_opt(&c, opt, optarg, usage, &st)) {
			usage(stderr);
			return KC_EXIT_USAGE;
		}
		if (st >= 0)
			return st;
	}
	if (optind >= argc) {
		fprintf(stderr, "libcare-ctl: patch needs at least one PATCH or DIR\n");
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	if (!c.spec) {
		fprintf(stderr, "libcare-ctl: missing -p PID|all\n");
		return KC_EXIT_USAGE;
	}
	for (int i = optind; i < argc && ret == 0; i++)
		ret = load_arg(&a.set, argv[i]);
	/* a PID given by hand is the admin's choice; "all" leaves out what they excluded */
	if (ret == 0 && !strcmp(c.spec, "all") && !a.no_blacklist)
		ret = lcctl_blacklist_load(&a.bl);
	if (ret == 0 && !(a.cache = kc_bidcache_new())) {
		fprintf(stderr, "libcare-ctl: out of memory\n");
		ret = KC_EXIT_ERROR;
	}
	if (ret == 0)
		ret = lcctl_run(&c, patch_one, &a);
	kc_bidcache_free(a.cache);
	kc_blacklist_free(a.bl);
	set_free(&a.set);
	return ret;
}
