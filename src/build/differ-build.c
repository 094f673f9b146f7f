// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Running builds for the object differ: the work directory and its
 * copies of the source tree, patch(1), the build command, and the
 * compiler wrappers. A wrapper is a two-line script named like the
 * compiler it stands for (gcc, cc, gcc-12...) that execs the real one
 * with -ffunction-sections -fdata-sections appended, so the project's
 * own flags stay as they are and ours win. Nothing here knows ELF.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/differ-build.h"
#include "build/logtail.h"
#include "build/differ.h"

volatile sig_atomic_t kc_differ_interrupted;

/* Compiler names a build may call; each found in PATH gets a wrapper. */
static const char *const dbuild_compilers[] = {
    "cc",
    "gcc",
    "c99",
    "x86_64-linux-gnu-gcc",
    "gcc-12",
    "x86_64-linux-gnu-gcc-12",
    "c++",
    "g++",
    "x86_64-linux-gnu-g++",
    "g++-12",
    "x86_64-linux-gnu-g++-12",
};

/*
 * The wrapper script (%s: the real compiler). A command that compiles and
 * links in one go keeps its objects (-save-temps=obj, named after the
 * output), since the differ works on objects.
 */
#define DBUILD_WRAPPER                                                                             \
	"#!/bin/sh\n"                                                                              \
	"# kcare-build: one function per section, for the object differ\n"                         \
	"link=1 src=0\n"                                                                           \
	"for a in \"$@\"; do\n"                                                                    \
	"\tcase \"$a\" in\n"                                                                       \
	"\t-c | -S | -E | -M | -MM) link=0 ;;\n"                                                   \
	"\t*.c | *.cc | *.cpp | *.cxx | *.C) src=1 ;;\n"                                           \
	"\tesac\n"                                                                                 \
	"done\n"                                                                                   \
	"[ $link$src = 11 ] && set -- \"$@\" -save-temps=obj\n"                                    \
	"exec '%s' \"$@\" -ffunction-sections -fdata-sections\n"

char *kc_dbuild_path(const struct kc_dbuild *b, const char *name, const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s%s%s", b->work, name, rel ? "/" : "", rel ? rel : "") < 0)
		return NULL;
	return p;
}

/*
 * Runs @argv in @dir with output appended to @log (or discarded), stdin
 * from /dev/null. @path_first: prepended to PATH. Returns the exit status
 * (0..255), 256 + signal, or a negative errno if it could not start.
 */
static int dbuild_run(const char *dir, char *const argv[], const char *log, const char *path_first)
{
	pid_t pid;
	int status;

	if (kc_differ_interrupted)
		return -EINTR;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* its own process group, so that an interrupt stops the whole build */
		setpgid(0, 0);
		int in = open("/dev/null", O_RDONLY);
		int out = log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)
			      : open("/dev/null", O_WRONLY);

		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 ||
		    chdir(dir) < 0)
			_exit(127);
		/* an outer make's jobserver and flags are not for this build */
		unsetenv("MAKEFLAGS");
		unsetenv("MFLAGS");
		unsetenv("MAKELEVEL");
		if (path_first) {
			const char *old = getenv("PATH");
			char *np;

			if (asprintf(&np, "%s:%s", path_first, old ? old : "/usr/bin:/bin") < 0)
				_exit(127);
			setenv("PATH", np, 1);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
		if (kc_differ_interrupted)
			kill(-pid, SIGTERM);
	}
	if (kc_differ_interrupted)
		return -EINTR;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 256 + WTERMSIG(status);
}

/* The first @name in PATH that is not in @skip, into @buf; 0 or -ENOENT. */
static int dbuild_which(const char *name, const char *skip, char *buf, size_t bufsz)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;
	int ret = -ENOENT;

	copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!copy)
		return -ENOMEM;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (!*d || (skip && !strcmp(d, skip)))
			continue;
		snprintf(buf, bufsz, "%s/%s", d, name);
		if (access(buf, X_OK) == 0) {
			ret = 0;
			break;
		}
	}
	free(copy);
	return ret;
}

static int dbuild_wrappers(struct kc_dbuild *b, struct kc_err *err)
{
	char real[4096];

	if (!(b->bin = kc_dbuild_path(b, "bin", NULL)))
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (mkdir(b->bin, 0755) < 0)
		return kc_err_set(err, -errno, "cannot create '%s': %s", b->bin, strerror(errno));
	for (size_t i = 0; i < sizeof(dbuild_compilers) / sizeof(dbuild_compilers[0]); i++) {
		char *path;
		FILE *f;
		int ok;

		if (dbuild_which(dbuild_compilers[i], b->bin, real, sizeof(real)) < 0)
			continue;
		if (asprintf(&path, "%s/%s", b->bin, dbuild_compilers[i]) < 0)
			return kc_err_set(err, -ENOMEM, "out of memory");
		f = fopen(path, "w");
		ok = f && fprintf(f, DBUILD_WRAPPER, real) > 0;
		if (f && fclose(f) != 0)
			ok = 0;
		if (!ok || chmod(path, 0755) < 0) {
			kc_err_set(err, -EIO, "cannot write the compiler wrapper '%s'", path);
			free(path);
			return -EIO;
		}
		free(path);
	}
	return 0;
}

/* Creates @dir or accepts it empty; *out: its absolute path (malloc'd). */
static int dbuild_empty_dir(const char *dir, const char *what, char **out, struct kc_err *err)
{
	DIR *d;
	struct dirent *de;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return kc_err_set(err, -errno, "cannot create %s '%s': %s", what, dir,
				  strerror(errno));
	d = opendir(dir);
	if (!d)
		return kc_err_set(err, -errno, "cannot open %s '%s': %s", what, dir,
				  strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			break;
	closedir(d);
	if (de)
		return kc_err_set(err, -EEXIST, "%s '%s' is not empty", what, dir);
	*out = realpath(dir, NULL);
	return *out ? 0 : kc_err_set(err, -errno, "cannot resolve '%s': %s", dir, strerror(errno));
}

int kc_dbuild_init(struct kc_dbuild *b, const char *dir, const char *tree, struct kc_err *err)
{
	char tmpl[4096];
	const char *tmp = getenv("TMPDIR");
	int ret;

	memset(b, 0, sizeof(*b));
	if (dir) {
		b->keep = 1;
		if ((ret = dbuild_empty_dir(dir, "work directory", &b->work, err)) < 0)
			return ret;
	} else {
		snprintf(tmpl, sizeof(tmpl), "%s/kcare-build.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(tmpl))
			return kc_err_set(err, -errno, "cannot create a work directory in '%s': %s",
					  tmp && *tmp ? tmp : "/tmp", strerror(errno));
		if (!(b->work = realpath(tmpl, NULL)))
			return kc_err_set(err, -errno, "cannot resolve the work directory: %s",
					  strerror(errno));
	}
	if (tree) {
		char *const mk[] = {"mkdir", "-p", (char *)tree, NULL};

		dbuild_run(".", mk, NULL, NULL); /* parents too; errors are reported below */
		ret = dbuild_empty_dir(tree, "build directory", &b->tree, err);
	} else if (!(b->tree = kc_dbuild_path(b, "tree", NULL)))
		ret = kc_err_set(err, -ENOMEM, "out of memory");
	else if (mkdir(b->tree, 0755) < 0)
		ret = kc_err_set(err, -errno, "cannot create '%s': %s", b->tree, strerror(errno));
	else
		ret = 0;
	return ret < 0 ? ret : dbuild_wrappers(b, err);
}

static int dbuild_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (ftw->level == 0)
		return 0; /* the top stays: the caller decides */
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Removes everything under @dir (not @dir itself). */
static void dbuild_empty(const char *dir)
{
	nftw(dir, dbuild_rm, 16, FTW_DEPTH | FTW_PHYS);
}

void kc_dbuild_release(struct kc_dbuild *b)
{
	/* a tree of the caller's (a build path) is emptied even when the work is kept */
	if (b->tree && (!b->keep || (b->work && strncmp(b->tree, b->work, strlen(b->work))))) {
		dbuild_empty(b->tree);
		rmdir(b->tree);
	}
	if (b->work && !b->keep) {
		dbuild_empty(b->work);
		rmdir(b->work);
	}
	free(b->work);
	free(b->bin);
	free(b->tree);
	memset(b, 0, sizeof(*b));
}

static int dbuild_is_obj(const char *path)
{
	size_t n = strlen(path);

	return n > 2 && !strcmp(path + n - 2, ".o");
}

/* cp -a @from/. @dst */
static int dbuild_cp(const char *from, const char *dst, struct kc_err *err)
{
	char *src = NULL;
	int ret;

	if (asprintf(&src, "%s/.", from) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	char *const mk[] = {"mkdir", "-p", (char *)dst, NULL};
	char *const cp[] = {"cp", "-a", src, (char *)dst, NULL};

	ret = dbuild_run("/", mk, NULL, NULL);
	if (ret == 0)
		ret = dbuild_run("/", cp, NULL, NULL);
	free(src);
	if (ret == -EINTR)
		return kc_err_set(err, -EINTR, "interrupted");
	return ret ? kc_err_set(err, -ECHILD, "cannot copy '%s' to '%s'", from, dst) : 0;
}

int kc_dbuild_fill(struct kc_dbuild *b, const char *from, struct kc_err *err)
{
	char **objs = NULL;
	size_t nobjs = 0;
	int ret;

	dbuild_empty(b->tree);
	if ((ret = dbuild_cp(from, b->tree, err)) < 0)
		return ret;
	/* objects of an earlier build would hide the flags of ours */
	if ((ret = kc_dbuild_list(b->tree, dbuild_is_obj, &objs, &nobjs, err)) < 0)
		return ret;
	for (size_t i = 0; i < nobjs; i++) {
		char *p = kc_dbuild_tree_path(b, objs[i]);

		if (p)
			unlink(p);
		free(p);
	}
	kc_dbuild_list_free(objs, nobjs);
	return 0;
}

int kc_dbuild_snapshot(struct kc_dbuild *b, const char *name, struct kc_err *err)
{
	char *dst = kc_dbuild_path(b, name, NULL);
	int ret;

	if (!dst)
		return kc_err_set(err, -ENOMEM, "out of memory");
	ret = dbuild_cp(b->tree, dst, err);
	free(dst);
	return ret;
}

int kc_dbuild_save(struct kc_dbuild *b, const char *path, const char *label, char **out,
		   struct kc_err *err)
{
	const char *base = strrchr(path, '/');
	char *dst;
	int ret;

	*out = NULL;
	if (asprintf(&dst, "%s/%s-%s", b->work, label, base ? base + 1 : path) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	char *const cp[] = {"cp", "-a", (char *)path, dst, NULL};

	ret = dbuild_run("/", cp, NULL, NULL);
	if (ret) {
		free(dst);
		return kc_err_set(err, -ECHILD, "cannot copy '%s' to '%s'", path, b->work);
	}
	*out = dst;
	return 0;
}

char *kc_dbuild_tree_path(const struct kc_dbuild *b, const char *rel)
{
	char *p;

	if (asprintf(&p, "%s%s%s", b->tree, rel ? "/" : "", rel ? rel : "") < 0)
		return NULL;
	return p;
}

int kc_dbuild_patch(struct kc_dbuild *b, const char *diff, struct kc_err *err)
{
	char *log = NULL, *abs = realpath(diff, NULL);
	char line[256];
	int ret;

	if (!abs)
		return kc_err_set(err, -errno, "cannot open diff '%s': %s", diff, strerror(errno));
	if (asprintf(&log, "%s/patch.log", b->work) < 0) {
		free(abs);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	char *const argv[] = {"patch", "-p1", "--batch", "--forward", "--no-backup-if-mismatch",
			      "-r",    "-",   "-i",	 abs,	      NULL};

	ret = dbuild_run(b->tree, argv, log, NULL);
	if (ret == -EINTR)
		ret = kc_err_set(err, -EINTR, "interrupted");
	else if (ret != 0)
		ret = kc_err_set(err, -ECHILD, "diff '%s' does not apply: %s", diff,
				 kc_log_last_line(log, line, sizeof(line)));
	free(abs);
	free(log);
	return ret;
}

int kc_dbuild_make(struct kc_dbuild *b, const char *name, const char *cmd, int sections,
		   struct kc_err *err)
{
	char *dir = b->tree, *log = NULL;
	char line[256];
	int ret;

	if (asprintf(&log, "%s/%s.log", b->work, name) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	char *const argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};

	ret = dbuild_run(dir, argv, log, sections ? b->bin : NULL);
	if (ret == -EINTR)
		ret = kc_err_set(err, -EINTR, "interrupted during the %s build", name);
	else if (ret != 0 && !b->keep)
		ret = kc_err_set(
		    err, -ECHILD,
		    "build '%s' of the %s sources failed (%s %d; --keep-work keeps its "
		    "log)%s%s",
		    cmd, name, ret > 255 ? "signal" : "exit", ret > 255 ? ret - 256 : ret,
		    *kc_log_last_line(log, line, sizeof(line)) ? ": " : "", line);
	else if (ret != 0)
		ret = kc_err_set(err, -ECHILD,
				 "build '%s' of the %s sources failed (%s %d, see %s): %s", cmd,
				 name, ret > 255 ? "signal" : "exit", ret > 255 ? ret - 256 : ret,
				 log, kc_log_last_line(log, line, sizeof(line)));
	free(log);
	return ret;
}

int kc_dbuild_diff_sources_only(const char *diff)
{
	static const char *const exts[] = {".c", ".cc", ".cpp", ".cxx", ".C", ".s", ".S"};
	FILE *f = fopen(diff, "r");
	char line[4096];
	int only = 1;

	if (!f)
		return 0;
	while (only && fgets(line, sizeof(line), f)) {
		char *p, *end;
		int ok = 0;

		if (strncmp(line, "+++ ", 4))
			continue;
		p = line + 4;
		end = p + strcspn(p, "\t\n");
		*end = '\0';
		for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
			size_t n = strlen(exts[i]);

			if ((size_t)(end - p) > n && !strcmp(end - n, exts[i]))
				ok = 1;
		}
		only = ok;
	}
	fclose(f);
	return only;
}

/* nftw has no user pointer: one listing at a time (kcare-build is single-threaded) */
static struct {
	const char *root;
	size_t rootlen;
	int (*want)(const char *);
	char **list;
	size_t n, cap;
	int oom;
} dbuild_walk;

static int dbuild_walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag != FTW_F || !S_ISREG(st->st_mode) || !dbuild_walk.want(path))
		return 0;
	if (dbuild_walk.n == dbuild_walk.cap) {
		size_t cap = dbuild_walk.cap ? 2 * dbuild_walk.cap : 64;
		char **nl = realloc(dbuild_walk.list, cap * sizeof(*nl));

		if (!nl) {
			dbuild_walk.oom = 1;
			return 1;
		}
		dbuild_walk.list = nl;
		dbuild_walk.cap = cap;
	}
	if (!(dbuild_walk.list[dbuild_walk.n] = strdup(path + dbuild_walk.rootlen + 1))) {
		dbuild_walk.oom = 1;
		return 1;
	}
	dbuild_walk.n++;
	return 0;
}

static int dbuild_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kc_dbuild_list(const char *dir, int (*want)(const char *path), char ***out, size_t *n,
		   struct kc_err *err)
{
	int ret;

	memset(&dbuild_walk, 0, sizeof(dbuild_walk));
	dbuild_walk.root = dir;
	dbuild_walk.rootlen = strlen(dir);
	dbuild_walk.want = want;
	ret = nftw(dir, dbuild_walk_one, 16, FTW_PHYS);
	if (dbuild_walk.oom || ret < 0) {
		kc_dbuild_list_free(dbuild_walk.list, dbuild_walk.n);
		*out = NULL;
		*n = 0;
		return dbuild_walk.oom
			   ? kc_err_set(err, -ENOMEM, "out of memory")
			   : kc_err_set(err, -errno, "cannot list '%s': %s", dir, strerror(errno));
	}
	if (dbuild_walk.n)
		qsort(dbuild_walk.list, dbuild_walk.n, sizeof(char *), dbuild_strcmp);
	*out = dbuild_walk.list;
	*n = dbuild_walk.n;
	return 0;
}

void kc_dbuild_list_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}
