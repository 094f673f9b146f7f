// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stage 1 of kcare-build kernel: a kernel tree in which kbuild compiles
 * single objects exactly as the target kernel's build did. Debian builds
 * its kernels from the linux-source package of the same version, so we
 * fetch that one (or use --source), apply the config of the target
 * (its headers' .config), run olddefconfig and prepare with the very
 * compiler the target names, and prove it by rebuilding a few objects
 * and comparing their code with the target's vmlinux. The result is
 * cached under CACHE/kernel-src/ABI_VERSION; the stamp "ready" is
 * written last, so a killed preparation is started over, never used.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build/deb-int.h"
#include "build/kernel-int.h"
#include "build/kmod-int.h"
#include "build/logtail.h"
#include "kcare/conf.h"

/* Objects rebuilt to check the tree: core code that every config builds into vmlinux. */
static const char *const prep_repro_objs[] = {"kernel/sys.o", "fs/open.o", "lib/string.o",
					      "mm/mmap.o"};
#define PREP_NREPRO (sizeof(prep_repro_objs) / sizeof(prep_repro_objs[0]))
/* What a cached tree holds changed (the build path, the flagged prepare): older ones are redone. */
#define PREP_LAYOUT 2
/* Fewer equal functions than this and the check proved nothing. */
#define PREP_MIN_SAME 50

void kc_kprep_say(kc_kprep_progress_fn fn, void *arg, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fn(arg, buf);
}

static int prep_isfile(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int prep_mkdirs(const char *dir)
{
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* The value of "KEY VALUE" or "KEY=VALUE" lines (quotes removed) in a small file. */
static int prep_file_value(const char *path, const char *key, char *buf, size_t bufsz)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	size_t kl = strlen(key);
	int found = 0;

	buf[0] = 0;
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		char *v, *e;

		if (strncmp(line, key, kl) || (line[kl] != '=' && line[kl] != ' '))
			continue;
		v = line + kl + 1;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = 0;
		if (*v == '"' && (e = strrchr(v + 1, '"'))) {
			*e = 0;
			v++;
		}
		snprintf(buf, bufsz, "%s", v);
		found = 1;
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

/* Headers directory and ABI of --kernel. */
static int prep_headers(const char *kernel, struct kc_kprep *p, struct kc_err *err)
{
	char path[4200];

	if (!*kernel ||
	    (!strchr(kernel, '/') &&
	     strspn(kernel, "abcdefghijklmnopqrstuvwxyz0123456789.-+_") != strlen(kernel)))
		return kc_err_set(err, -EINVAL, "bad kernel '%s' (want an ABI or a directory)",
				  kernel);
	if (strchr(kernel, '/'))
		p->headers = strdup(kernel);
	else if (asprintf(&p->headers, "/usr/src/linux-headers-%s", kernel) < 0)
		p->headers = NULL;
	if (!p->headers)
		return kc_err_set(err, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/include/generated/utsrelease.h", p->headers);
	if (prep_file_value(path, "#define UTS_RELEASE", p->abi, sizeof(p->abi)) < 0)
		return kc_err_set(err, -ENOENT,
				  strchr(kernel, '/')
				      ? "no kernel headers in '%s'"
				      : "unknown kernel '%s' (no /usr/src/linux-headers-%s: "
					"apt-get install linux-headers-%s)",
				  kernel, kernel, kernel);
	if (!strchr(kernel, '/') && strcmp(kernel, p->abi))
		return kc_err_set(err, -EINVAL, "headers '%s' are for %s, not %s", p->headers,
				  p->abi, kernel);
	return 0;
}

/* The Debian version of the target's packages: installed headers or image, else apt. */
static int prep_version(struct kc_kprep *p, struct kc_err *err)
{
	static const char *const pkgs[] = {"linux-headers-", "linux-image-"};
	char pkg[128], *out = NULL;

	for (size_t i = 0; i < 2; i++) {
		const char *argv[] = {"dpkg-query", "-W", "-f=${Version}", pkg, NULL};
		struct kc_deb_cmd c = {.argv = argv, .out = &out};

		snprintf(pkg, sizeof(pkg), "%s%s", pkgs[i], p->abi);
		if (kc_deb_exec(&c, NULL) == 0 && out && *out) {
			snprintf(p->version, sizeof(p->version), "%s", out);
			free(out);
			return 0;
		}
		free(out);
		out = NULL;
	}
	{
		const char *argv[] = {"apt-cache", "show", "--no-all-versions", pkg, NULL};
		struct kc_deb_cmd c = {.argv = argv, .out = &out};
		char *v;

		if (kc_deb_exec(&c, NULL) == 0 && out && (v = strstr(out, "\nVersion: "))) {
			v += 10;
			v[strcspn(v, "\n")] = 0;
			snprintf(p->version, sizeof(p->version), "%s", v);
		}
		free(out);
	}
	if (!p->version[0])
		return kc_err_set(err, -ENOENT,
				  "no Debian package of kernel %s is known to dpkg or apt", p->abi);
	return 0;
}

/*
 * The compiler the target was built with (its config's
 * CONFIG_CC_VERSION_TEXT, whose first word is the command) must be here,
 * the same version: another compiler makes other code.
 */
static int prep_compiler(struct kc_kprep *p, struct kc_err *err)
{
	char path[4200], want[256], *out = NULL;
	const char *argv[] = {p->cc, "--version", NULL};
	struct kc_deb_cmd c = {.argv = argv, .out = &out};
	int st;

	snprintf(path, sizeof(path), "%s/.config", p->headers);
	if (prep_file_value(path, "CONFIG_CC_VERSION_TEXT", want, sizeof(want)) < 0 || !*want)
		return kc_err_set(err, -ENOENT, "'%s' does not name the compiler of kernel %s",
				  path, p->abi);
	snprintf(p->cc, sizeof(p->cc), "%.*s", (int)strcspn(want, " "), want);
	st = kc_deb_exec(&c, NULL);
	if (st != 0 || !out) {
		free(out);
		return kc_err_set(err, -ENOENT,
				  "kernel %s was built with '%s', and %s is not installed here",
				  p->abi, want, p->cc);
	}
	out[strcspn(out, "\n")] = 0;
	if (strcmp(out, want)) {
		kc_err_set(err, -EINVAL, "kernel %s was built with '%s', but %s here is '%s'",
			   p->abi, want, p->cc, out);
		free(out);
		return err ? err->code : -EINVAL;
	}
	free(out);
	return 0;
}

static int prep_cache_dir(const struct kc_kprep_opts *o, struct kc_kprep *p, struct kc_err *err)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char root[4096], ver[128], local[32] = "";
	int ret;

	if (o->cache && o->cache[0] != '/') {
		/* the tree's path goes into reports and working trees: make it absolute */
		char *cwd = getcwd(NULL, 0);

		snprintf(root, sizeof(root), "%s/%s", cwd ? cwd : ".", o->cache);
		free(cwd);
	} else if (o->cache)
		snprintf(root, sizeof(root), "%s", o->cache);
	else if (xdg && *xdg)
		snprintf(root, sizeof(root), "%s/kcare-build", xdg);
	else
		snprintf(root, sizeof(root), "%s/.cache/kcare-build",
			 home && *home ? home : "/tmp");
	snprintf(ver, sizeof(ver), "%s", p->version);
	for (char *s = ver; *s; s++)
		if (*s == ':' || *s == '/')
			*s = '_';
	if (o->source) {
		/* a tree of one's own is another preparation than Debian's pristine one */
		char *rp = realpath(o->source, NULL);
		unsigned long h = 5381;

		if (!rp)
			return kc_err_set(err, -errno, "source tree '%s': %s", o->source,
					  strerror(errno));
		for (const char *s = rp; *s; s++)
			h = h * 33 + (unsigned char)*s;
		free(rp);
		snprintf(local, sizeof(local), "-src%08lx", h & 0xffffffffUL);
	}
	if (asprintf(&p->dir, "%s/kernel-src/%s_%s%s", root, p->abi, ver, local) < 0 ||
	    asprintf(&p->tree, "%s/tree", p->dir) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if ((ret = prep_mkdirs(p->dir)) < 0)
		return kc_err_set(err, ret, "cannot create '%s': %s", p->dir, strerror(-ret));
	return 0;
}

int kc_kprep_make(const struct kc_kprep *p, const char *dir, const char *const *targets, size_t n,
		  const char *kcflags, const char *log, const char *what, struct kc_err *err)
{
	char jobs[32], cc[96], kcf[512];
	const char *head[] = {"env",	   "-u", "MAKEFLAGS",	  "-u",	  "MFLAGS", "-u",
			      "MAKELEVEL", "-u", "KBUILD_OUTPUT", "make", jobs,	    cc,
			      kcf};
	size_t nh = sizeof(head) / sizeof(head[0]);
	const char **argv = calloc(nh + n + 1, sizeof(*argv));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	/*
	 * Every tree builds at one path (in a mount namespace of its own):
	 * kbuild and the tools' builds record absolute paths, and a working
	 * tree elsewhere would rebuild objtool and friends on every run.
	 */
	struct kc_deb_cmd c = {.argv = argv,
			       .cwd = KC_KPREP_BUILD_PATH,
			       .log = log,
			       .bind_from = dir,
			       .bind_to = KC_KPREP_BUILD_PATH};
	int st;

	if (!argv)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (kc_kmod_interrupted) {
		free(argv);
		return kc_err_set(err, -EINTR, "%s: interrupted", what);
	}
	snprintf(jobs, sizeof(jobs), "-j%ld", ncpu > 0 ? ncpu : 1);
	snprintf(cc, sizeof(cc), "CC=%s", p->cc);
	snprintf(kcf, sizeof(kcf), "KCFLAGS=%s", kcflags ? kcflags : "");
	for (size_t i = 0; i < nh; i++)
		argv[i] = head[i];
	for (size_t i = 0; i < n; i++)
		argv[nh + i] = targets[i];
	if (mkdir("/build", 0755) < 0 && errno != EEXIST)
		st = kc_err_set(err, -errno, "cannot create /build: %s", strerror(errno));
	else
		st = kc_deb_exec(&c, err);
	free(argv);
	if (st < 0)
		return st;
	if (kc_kmod_interrupted)
		return kc_err_set(err, -EINTR, "%s: interrupted", what);
	if (st != 0) {
		char first[400];

		kc_kmod_first_error(log, KC_KPREP_BUILD_PATH, NULL, NULL, 0, first, sizeof(first));
		if (!*first)
			kc_log_last_line(log, first, sizeof(first));
		return kc_err_set(err, -ECHILD, "%s failed%s%s (log: %s)", what, *first ? ": " : "",
				  first, log);
	}
	return 0;
}

static int prep_mtime(const char *dir, const char *name, struct timespec *ts, struct kc_err *err)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) < 0)
		return kc_err_set(err, -errno, "'%s': %s", path, strerror(errno));
	*ts = st.st_mtim;
	return 0;
}

static int prep_touch(const char *dir, const char *name, const char *text, struct kc_err *err)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return kc_file_write_atomic(path, text, strlen(text), 0644, err);
}

/* "6.1.192" of "6.1.192-3" (epoch and Debian revision removed). */
static void prep_upstream(const char *version, char *buf, size_t bufsz)
{
	const char *v = strchr(version, ':') ? strchr(version, ':') + 1 : version;

	snprintf(buf, bufsz, "%.*s", (int)strcspn(v, "-"), v);
}

/* --source: a clean tree (kbuild never ran in it) of the target's upstream version. */
static int prep_check_source(const char *src, const struct kc_kprep *p, struct kc_err *err)
{
	char path[4200], v[32], pl[32], sl[32], have[100], want[128];

	snprintf(path, sizeof(path), "%s/Makefile", src);
	if (prep_file_value(path, "VERSION", v, sizeof(v)) < 0 ||
	    prep_file_value(path, "PATCHLEVEL", pl, sizeof(pl)) < 0 ||
	    prep_file_value(path, "SUBLEVEL", sl, sizeof(sl)) < 0)
		return kc_err_set(err, -ENOENT, "'%s' is not a kernel source tree", src);
	/* "VERSION = 6": the value starts after "= " */
	snprintf(have, sizeof(have), "%s.%s.%s", v + strspn(v, "= "), pl + strspn(pl, "= "),
		 sl + strspn(sl, "= "));
	prep_upstream(p->version, want, sizeof(want));
	if (strcmp(have, want))
		return kc_err_set(err, -EINVAL, "source tree '%s' is Linux %s, kernel %s is %s",
				  src, have, p->abi, want);
	snprintf(path, sizeof(path), "%s/.config", src);
	if (prep_isfile(path))
		return kc_err_set(err, -EINVAL,
				  "source tree '%s' is not clean (it has a .config; make mrproper)",
				  src);
	return 0;
}

static int prep_fetch(const struct kc_kprep_opts *o, struct kc_kprep *p, const char *log,
		      struct kc_err *err)
{
	char pkg[200], deb[4200], mm[32];
	int ret;

	if (o->source) {
		char *const cp[] = {"cp", "-al", "--", (char *)o->source, p->tree, NULL};

		if ((ret = prep_check_source(o->source, p, err)) < 0)
			return ret;
		kc_kprep_say(o->progress, o->progress_arg, "link %s", o->source);
		return kc_kmod_run(p->dir, cp, log, "copying the source tree", err);
	}
	/* linux-source-6.1 for ABI 6.1.0-57-amd64 */
	snprintf(mm, sizeof(mm), "%.*s", (int)strcspn(p->abi, "-"), p->abi);
	if (strchr(mm, '.') && strchr(strchr(mm, '.') + 1, '.'))
		*strchr(strchr(mm, '.') + 1, '.') = 0;
	snprintf(pkg, sizeof(pkg), "linux-source-%s=%s", mm, p->version);
	snprintf(deb, sizeof(deb), "%s/deb", p->dir);
	kc_kprep_say(o->progress, o->progress_arg, "fetch linux-source-%s %s", mm, p->version);
	if ((ret = prep_mkdirs(deb)) < 0)
		return kc_err_set(err, ret, "cannot create '%s'", deb);
	{
		char *const get[] = {"apt-get", "download", pkg, NULL};

		if (kc_kmod_run(deb, get, log, "apt-get download", err) < 0)
			return kc_err_set(
			    err, -ENOENT,
			    "linux-source-%s %s cannot be downloaded (apt-get update? "
			    "see %s)",
			    mm, p->version, log);
	}
	kc_kprep_say(o->progress, o->progress_arg, "unpack linux-source-%s", mm);
	{
		char *const sh[] = {"sh", "-c",
				    "set -e; dpkg-deb --fsys-tarfile deb/*.deb | "
				    "tar -xO --wildcards '*/linux-source-*.tar.xz' | tar -xJ; "
				    "mv linux-source-* tree; rm -rf deb",
				    NULL};

		return kc_kmod_run(p->dir, sh, log, "unpacking linux-source", err);
	}
}

/* Every CONFIG_ line of Debian's config must have come through olddefconfig unchanged. */
static int prep_config_same(const char *want, const char *have, struct kc_err *err)
{
	char *a = NULL, *b = NULL;
	size_t al, bl;
	int ret;

	if ((ret = kc_file_read_all(want, 16u << 20, &a, &al, err)) < 0 ||
	    (ret = kc_file_read_all(have, 16u << 20, &b, &bl, err)) < 0)
		goto out;
	for (char *line = a, *nl; *line; line = nl + 1) {
		char key[200], *found;
		size_t ll;

		nl = strchr(line, '\n');
		if (!nl)
			break;
		ll = (size_t)(nl - line);
		if (strncmp(line, "CONFIG_", 7))
			continue;
		snprintf(key, sizeof(key), "\n%.*s\n", (int)ll, line);
		found = strstr(b, key + 1) == b ? b : strstr(b, key);
		if (!found) {
			ret =
			    kc_err_set(err, -EINVAL,
				       "the source's Kconfig does not keep '%.*s' of the target's "
				       "config (another source version?)",
				       (int)ll, line);
			goto out;
		}
	}
out:
	free(a);
	free(b);
	return ret;
}

static int prep_check(const struct kc_kprep_opts *o, struct kc_kprep *p, const char *log,
		      struct kc_err *err)
{
	struct kc_ktarget *t = NULL;
	int ret;

	kc_kprep_say(o->progress, o->progress_arg, "open the target kernel %s", p->abi);
	if ((ret = kc_ktarget_open(o->kernel, NULL, &t, err)) < 0)
		return ret;
	kc_kprep_say(o->progress, o->progress_arg, "check: rebuild %zu objects", PREP_NREPRO);
	if ((ret = kc_kprep_make(p, p->tree, prep_repro_objs, PREP_NREPRO, NULL, log,
				 "rebuilding the check objects", err)) < 0)
		goto out;
	p->nchecked = 0;
	for (size_t i = 0; i < PREP_NREPRO && !ret; i++) {
		char obj[4200];
		size_t same = 0;

		snprintf(obj, sizeof(obj), "%s/%s", p->tree, prep_repro_objs[i]);
		if ((ret = kc_krepro_check(t, obj, &same, err)) < 0)
			kc_err_prefix(err,
				      "the prepared tree does not reproduce kernel %s (source %s)",
				      p->abi, p->version);
		p->nchecked += same;
	}
	if (!ret && p->nchecked < PREP_MIN_SAME)
		ret =
		    kc_err_set(err, -ENOEXEC,
			       "the prepared tree does not reproduce kernel %s: only %zu functions "
			       "of the check objects were found in its vmlinux",
			       p->abi, p->nchecked);
	/* the tree stays as prepare left it: the working trees build these again */
	for (size_t i = 0; i < PREP_NREPRO; i++) {
		char f[4200], dir[256];
		const char *slash = strrchr(prep_repro_objs[i], '/');

		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - prep_repro_objs[i]),
			 prep_repro_objs[i]);
		snprintf(f, sizeof(f), "%s/%s", p->tree, prep_repro_objs[i]);
		unlink(f);
		snprintf(f, sizeof(f), "%s/%s/.%s.cmd", p->tree, dir, slash + 1);
		unlink(f);
		snprintf(f, sizeof(f), "%s/%s/.%s.d", p->tree, dir, slash + 1);
		unlink(f);
	}
out:
	kc_ktarget_close(t);
	return ret;
}

static int prep_build(const struct kc_kprep_opts *o, struct kc_kprep *p, struct kc_err *err)
{
	char log[4200], cfg[4200], src[4200];
	int ret;

	snprintf(log, sizeof(log), "%s/prepare.log", p->dir);
	if ((ret = kc_deb_rmtree(p->tree, err)) < 0)
		return ret;
	unlink(log);
	if ((ret = prep_fetch(o, p, log, err)) < 0)
		return ret;
	if ((ret = prep_touch(p->dir, "unpacked", "", err)) < 0)
		return ret;
	kc_kprep_say(o->progress, o->progress_arg, "config: %s/.config, make olddefconfig",
		     p->headers);
	snprintf(src, sizeof(src), "%s/.config", p->headers);
	snprintf(cfg, sizeof(cfg), "%s/.config", p->tree);
	{
		char *text = NULL;
		size_t len = 0;

		if ((ret = kc_file_read_all(src, 16u << 20, &text, &len, err)) < 0)
			return ret;
		ret = kc_file_write_atomic(cfg, text, len, 0644, err);
		free(text);
		if (ret < 0)
			return ret;
	}
	{
		const char *t[] = {"olddefconfig"};

		if ((ret = kc_kprep_make(p, p->tree, t, 1, NULL, log, "make olddefconfig", err)) <
			0 ||
		    (ret = prep_config_same(src, cfg, err)) < 0)
			return ret;
	}
	kc_kprep_say(o->progress, o->progress_arg, "make prepare modules_prepare");
	{
		const char *t[] = {"prepare", "modules_prepare"};

		if ((ret = kc_kprep_make(p, p->tree, t, 2, NULL, log, "make prepare", err)) < 0)
			return ret;
	}
	if ((ret = prep_check(o, p, log, err)) < 0)
		return ret;
	/*
	 * The working trees build with the section flags; kbuild would redo
	 * the prepare steps whose recorded command lines lack them on every
	 * run, so they are redone here once (their output does not change).
	 */
	kc_kprep_say(o->progress, o->progress_arg, "make prepare with %s", KC_KPREP_KCFLAGS);
	{
		const char *t[] = {"prepare", "modules_prepare"};

		return kc_kprep_make(p, p->tree, t, 2, KC_KPREP_KCFLAGS, log, "make prepare", err);
	}
}

/* What the stamp holds: a cached tree is reused only for the same ABI, version and compiler. */
static void prep_stamp_text(const struct kc_kprep *p, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "layout %d\nabi %s\nversion %s\ncc %s\nchecked %zu\n", PREP_LAYOUT,
		 p->abi, p->version, p->cc, p->nchecked);
}

static int prep_reusable(struct kc_kprep *p)
{
	char path[4200], want[512], *have = NULL;
	size_t len = 0, n;
	int ok;

	snprintf(path, sizeof(path), "%s/ready", p->dir);
	if (kc_file_read_all(path, 4096, &have, &len, NULL) < 0)
		return 0;
	n = 0;
	sscanf(strstr(have, "checked ") ? strstr(have, "checked ") : "checked 0", "checked %zu",
	       &n);
	p->nchecked = n;
	prep_stamp_text(p, want, sizeof(want));
	ok = !strcmp(have, want);
	free(have);
	return ok;
}

static int prep_is_prepared(const char *src)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/include/config/auto.conf", src);
	return prep_isfile(path);
}

/*
 * A tree prepared by someone else: used in place. Its kbuild output is
 * what is newer than its top Makefile; working trees go to the cache.
 */
static int prep_as_is(const struct kc_kprep_opts *o, struct kc_kprep *p, struct kc_err *err)
{
	int ret;

	p->as_is = 1;
	snprintf(p->version, sizeof(p->version), "local");
	if ((ret = prep_compiler(p, err)) < 0 || (ret = prep_cache_dir(o, p, err)) < 0)
		return ret;
	free(p->tree);
	if (!(p->tree = realpath(o->source, NULL)))
		return kc_err_set(err, -errno, "source tree '%s': %s", o->source, strerror(errno));
	if ((ret = prep_mtime(p->tree, "Makefile", &p->unpacked, err)) < 0)
		return ret;
	clock_gettime(CLOCK_REALTIME, &p->ready);
	kc_kprep_say(o->progress, o->progress_arg,
		     "use the prepared tree %s as it is (no reproduction check)", p->tree);
	return 0;
}

void kc_kprep_free(struct kc_kprep *p)
{
	if (!p)
		return;
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	free(p->headers);
	free(p->dir);
	free(p->tree);
	free(p);
}

int kc_kprep_open(const struct kc_kprep_opts *o, struct kc_kprep **out, struct kc_err *err)
{
	struct kc_kprep *p = calloc(1, sizeof(*p));
	char lock[4300], stamp[4300], text[512];
	int ret;

	if (!p)
		return kc_err_set(err, -ENOMEM, "out of memory");
	p->lock_fd = -1;
	if ((ret = prep_headers(o->kernel, p, err)) < 0)
		goto fail;
	if (o->source && prep_is_prepared(o->source)) {
		ret = prep_as_is(o, p, err);
		if (ret < 0)
			goto fail;
		*out = p;
		return 0;
	}
	if ((ret = prep_version(p, err)) < 0 || (ret = prep_compiler(p, err)) < 0 ||
	    (ret = prep_cache_dir(o, p, err)) < 0)
		goto fail;
	/* one preparation at a time; users of a ready tree share it */
	snprintf(lock, sizeof(lock), "%s.lock", p->dir);
	p->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (p->lock_fd < 0 || flock(p->lock_fd, LOCK_EX) < 0) {
		ret = kc_err_set(err, -errno, "cannot lock '%s': %s", lock, strerror(errno));
		goto fail;
	}
	if (prep_reusable(p)) {
		p->reused = 1;
		kc_kprep_say(o->progress, o->progress_arg, "reuse %s", p->tree);
	} else {
		snprintf(stamp, sizeof(stamp), "%s/ready", p->dir);
		unlink(stamp);
		kc_kprep_say(o->progress, o->progress_arg,
			     "prepare kernel %s (Debian %s, %s) in %s", p->abi, p->version, p->cc,
			     p->dir);
		if ((ret = prep_build(o, p, err)) < 0)
			goto fail;
		prep_stamp_text(p, text, sizeof(text));
		if ((ret = prep_touch(p->dir, "ready", text, err)) < 0)
			goto fail;
	}
	if ((ret = prep_mtime(p->dir, "unpacked", &p->unpacked, err)) < 0 ||
	    (ret = prep_mtime(p->dir, "ready", &p->ready, err)) < 0)
		goto fail;
	if (flock(p->lock_fd, LOCK_SH) < 0) {
		ret = kc_err_set(err, -errno, "cannot lock '%s': %s", lock, strerror(errno));
		goto fail;
	}
	*out = p;
	return 0;
fail:
	kc_kprep_free(p);
	return ret;
}
