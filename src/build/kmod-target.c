// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The target kernel of a kmod build: its kbuild headers, the image tree
 * (boot/vmlinuz-ABI, lib/modules/ABI: a dpkg -x of linux-image-ABI, /, or
 * a download into the cache), vmlinux and its kallsyms, Module.symvers,
 * and an index of the functions of every module. What is slow to get
 * (the decompressed vmlinux, the module index) is cached per ABI under
 * $XDG_CACHE_HOME/kcare-build/kernel/ABI, keyed by the vmlinuz's size
 * and time.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/kmod-target.h"
#include "build/kmod-int.h"
#include "kcare/conf.h"

static int target_isdir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int target_isfile(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int target_mkdirs(const char *dir)
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

char *kc_ktarget_modname(const char *path)
{
	const char *base = strrchr(path, '/');
	char *n = strdup(base ? base + 1 : path);
	size_t l;

	if (!n)
		return NULL;
	l = strlen(n);
	if (l > 3 && !strcmp(n + l - 3, ".ko"))
		n[l - 3] = 0;
	for (char *p = n; *p; p++)
		if (*p == '-')
			*p = '_';
	return n;
}

/* Headers directory and ABI: an existing directory, or /usr/src/linux-headers-ABI. */
static int target_headers(struct kc_ktarget *t, const char *kernel, struct kc_err *err)
{
	char path[4096], buf[256], *q;
	FILE *f;

	if (strchr(kernel, '/'))
		t->headers = strdup(kernel);
	else if (asprintf(&t->headers, "/usr/src/linux-headers-%s", kernel) < 0)
		t->headers = NULL;
	if (!t->headers)
		return kc_err_set(err, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/Makefile", t->headers);
	if (!target_isdir(t->headers) || !target_isfile(path))
		return kc_err_set(err, -ENOENT,
				  "no kernel headers in '%s' (install linux-headers-%s)",
				  t->headers, strchr(kernel, '/') ? "ABI" : kernel);
	snprintf(path, sizeof(path), "%s/include/generated/utsrelease.h", t->headers);
	f = fopen(path, "re");
	if (!f)
		return kc_err_set(err, -ENOENT, "'%s' has no include/generated/utsrelease.h",
				  t->headers);
	while (fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "#define UTS_RELEASE \"", 21) && (q = strchr(buf + 21, '"'))) {
			*q = 0;
			if (strlen(buf + 21) < sizeof(t->abi))
				memcpy(t->abi, buf + 21, strlen(buf + 21) + 1);
		}
	fclose(f);
	if (!t->abi[0])
		return kc_err_set(err, -ENOENT, "'%s' does not say its release", path);
	if (!strchr(kernel, '/') && strcmp(kernel, t->abi))
		return kc_err_set(err, -EINVAL, "headers '%s' are for %s, not %s", t->headers,
				  t->abi, kernel);
	return 0;
}

static int target_cache(struct kc_ktarget *t, struct kc_err *err)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int ret;

	if (xdg && *xdg)
		ret = asprintf(&t->cache, "%s/kcare-build/kernel/%s", xdg, t->abi);
	else
		ret = asprintf(&t->cache, "%s/.cache/kcare-build/kernel/%s",
			       home && *home ? home : "/tmp", t->abi);
	if (ret < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if ((ret = target_mkdirs(t->cache)) < 0)
		return kc_err_set(err, ret, "cannot create '%s': %s", t->cache, strerror(-ret));
	return 0;
}

static int target_has_image(const char *root, const char *abi)
{
	char p[4096], m[4096];

	snprintf(p, sizeof(p), "%s/boot/vmlinuz-%s", root, abi);
	snprintf(m, sizeof(m), "%s/lib/modules/%s/kernel", root, abi);
	return target_isfile(p) && target_isdir(m);
}

/* The image tree: given, /, or linux-image-ABI fetched with apt-get into the cache. */
static int target_tree(struct kc_ktarget *t, const char *tree, struct kc_err *err)
{
	char *dl = NULL, *log = NULL;
	int ret = 0;

	if (tree) {
		if (!target_isdir(tree))
			return kc_err_set(err, -ENOENT, "kernel tree '%s' does not exist", tree);
		if (!target_has_image(tree, t->abi))
			return kc_err_set(err, -ENOENT,
					  "kernel tree '%s' has no boot/vmlinuz-%s and "
					  "lib/modules/%s (a tree of another kernel?)",
					  tree, t->abi, t->abi);
		t->tree = strdup(tree);
		return t->tree ? 0 : kc_err_set(err, -ENOMEM, "out of memory");
	}
	if (target_has_image("", t->abi)) {
		t->tree = strdup("");
		return t->tree ? 0 : kc_err_set(err, -ENOMEM, "out of memory");
	}
	if (asprintf(&t->tree, "%s/tree", t->cache) < 0 || asprintf(&dl, "%s/deb", t->cache) < 0 ||
	    asprintf(&log, "%s/fetch.log", t->cache) < 0) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (!target_has_image(t->tree, t->abi)) {
		char pkg[128], *const get[] = {"apt-get", "download", pkg, NULL};
		char *const sh[] = {"sh", "-c",
				    "dpkg -x deb/*.deb tree.new && rm -rf tree && "
				    "mv tree.new tree && rm -rf deb",
				    NULL};

		snprintf(pkg, sizeof(pkg), "linux-image-%s", t->abi);
		if (target_mkdirs(dl) < 0 ||
		    (ret = kc_kmod_run(dl, get, log, "apt-get download linux-image", err)) < 0 ||
		    (ret = kc_kmod_run(t->cache, sh, log, "dpkg -x linux-image", err)) < 0)
			goto out;
		if (!target_has_image(t->tree, t->abi))
			ret = kc_err_set(err, -ENOENT, "linux-image-%s has no vmlinuz", t->abi);
	}
out:
	free(dl);
	free(log);
	return ret;
}

/*
 * The headers' UTS_VERSION (include/generated/utsversion.h), which ends
 * the target's linux_banner: two builds of one ABI differ there.
 */
static int target_same_build(struct kc_ktarget *t, struct kc_err *err)
{
	char path[4096], buf[512], *q, *want = NULL;
	const char *b = t->image->banner;
	size_t bl = strlen(b), wl;
	FILE *f;

	snprintf(path, sizeof(path), "%s/include/generated/utsversion.h", t->headers);
	f = fopen(path, "re");
	if (!f)
		return 0; /* older headers do not say; vermagic still guards the load */
	while (!want && fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "#define UTS_VERSION \"", 21) && (q = strrchr(buf + 21, '"'))) {
			*q = 0;
			want = buf + 21;
		}
	fclose(f);
	if (!want)
		return 0;
	wl = strlen(want);
	if (bl < wl + 1 || strncmp(b + bl - wl - 1, want, wl))
		return kc_err_set(err, -EINVAL,
				  "the kernel in '%s' is not the build of the headers '%s' (%s)",
				  *t->tree ? t->tree : "/", t->headers, want);
	return 0;
}

/* vmlinux, extracted once per vmlinuz into the cache. */
static int target_image(struct kc_ktarget *t, struct kc_err *err)
{
	char z[4096], *vm = NULL;
	struct stat st;
	int ret;

	snprintf(z, sizeof(z), "%s/boot/vmlinuz-%s", t->tree, t->abi);
	if (stat(z, &st) < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", z, strerror(errno));
	if (asprintf(&vm, "%s/vmlinux-%lld-%lld", t->cache, (long long)st.st_size,
		     (long long)st.st_mtime) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (!target_isfile(vm) && (ret = kc_kimage_extract(z, vm, err)) < 0)
		goto out;
	if ((ret = kc_kimage_open(vm, &t->image, err)) < 0)
		goto out;
	if (strcmp(t->image->release, t->abi))
		ret = kc_err_set(err, -EINVAL, "'%s' is %s, not %s", z, t->image->release, t->abi);
	else
		ret = target_same_build(t, err);
out:
	free(vm);
	return ret;
}

static int target_symvers(struct kc_ktarget *t, struct kc_err *err)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	int ret;

	snprintf(path, sizeof(path), "%s/Module.symvers", t->headers);
	if ((ret = kc_file_read_all(path, 64u << 20, &text, &len, err)) < 0)
		return ret;
	ret = kc_ksyms_parse_symvers(text, len, &t->exports, &t->modexports, err);
	free(text);
	return ret < 0 ? kc_err_prefix(err, "'%s'", path) : 0;
}

/* Index building: every .ko under lib/modules/ABI/kernel, its function symbols. */
static struct kc_ktarget *target_walking;
static size_t target_moddir_len;
static int target_walk_err;

static int target_index_add(struct kc_ktarget *t, const char *relpath)
{
	char **np = realloc(t->idxmods, (t->nidxmods + 1) * sizeof(*np));

	if (!np)
		return -ENOMEM;
	t->idxmods = np;
	if (!(np[t->nidxmods] = strdup(relpath)))
		return -ENOMEM;
	return (int)t->nidxmods++;
}

static int target_walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct kc_ksyms s;
	struct kc_err e = KC_ERR_INIT;
	size_t l = strlen(path);
	int idx;

	(void)st;
	(void)ftw;
	if (type != FTW_F || l < 3 || strcmp(path + l - 3, ".ko"))
		return 0;
	kc_ksyms_init(&s);
	if (kc_ksyms_read_module(path, &s, &e) < 0) {
		kc_ksyms_release(&s);
		return 0; /* an unreadable module cannot be a target */
	}
	idx = target_index_add(target_walking, path + target_moddir_len + 1);
	for (size_t i = 0; idx >= 0 && i < s.n; i++)
		if (kc_ksym_is_func(s.syms[i].type) &&
		    kc_ksyms_add(&target_walking->index, s.syms[i].name, 't', 0, (uint32_t)idx) < 0)
			idx = -ENOMEM;
	kc_ksyms_release(&s);
	if (idx < 0) {
		target_walk_err = idx;
		return 1;
	}
	return 0;
}

static int target_index_save(struct kc_ktarget *t, const char *path, struct kc_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	if (!f)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t m = 0; m < t->nidxmods; m++)
		fprintf(f, "M %s\n", t->idxmods[m]);
	for (size_t i = 0; i < t->index.n; i++)
		fprintf(f, "F %u %s\n", t->index.syms[i].sec, t->index.syms[i].name);
	fclose(f);
	ret = buf ? kc_file_write_atomic(path, buf, len, 0644, err)
		  : kc_err_set(err, -ENOMEM, "out of memory");
	free(buf);
	return ret;
}

static int target_index_load(struct kc_ktarget *t, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[1024];
	int ret = 0;

	if (!f)
		return -ENOENT;
	while (!ret && fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n'), *end;
		unsigned long m;

		if (!nl) {
			ret = -EINVAL;
			break;
		}
		*nl = 0;
		if (!strncmp(line, "M ", 2))
			ret = target_index_add(t, line + 2) < 0 ? -ENOMEM : 0;
		else if (!strncmp(line, "F ", 2) &&
			 (m = strtoul(line + 2, &end, 10)) < t->nidxmods && *end == ' ' && end[1])
			ret = kc_ksyms_add(&t->index, end + 1, 't', 0, (uint32_t)m);
		else
			ret = -EINVAL;
	}
	fclose(f);
	return ret;
}

static int target_index(struct kc_ktarget *t, struct kc_err *err)
{
	char moddir[4096], *path = NULL, z[4096];
	struct stat st;
	int ret = 0;

	snprintf(z, sizeof(z), "%s/boot/vmlinuz-%s", t->tree, t->abi);
	if (stat(z, &st) < 0 || asprintf(&path, "%s/modfuncs-%lld-%lld", t->cache,
					 (long long)st.st_size, (long long)st.st_mtime) < 0)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (target_index_load(t, path) == 0)
		goto sort;
	kc_ksyms_release(&t->index);
	for (size_t i = 0; i < t->nidxmods; i++)
		free(t->idxmods[i]);
	free(t->idxmods);
	t->idxmods = NULL;
	t->nidxmods = 0;
	snprintf(moddir, sizeof(moddir), "%s/lib/modules/%s", t->tree, t->abi);
	target_walking = t;
	target_moddir_len = strlen(moddir);
	target_walk_err = 0;
	strcat(moddir, "/kernel");
	nftw(moddir, target_walk_one, 32, FTW_PHYS);
	target_walking = NULL;
	if (target_walk_err) {
		ret = kc_err_set(err, target_walk_err, "out of memory");
		goto out;
	}
	if ((ret = target_index_save(t, path, err)) < 0)
		goto out;
sort:
	if (kc_ksyms_sort(&t->index) < 0)
		ret = kc_err_set(err, -ENOMEM, "out of memory");
out:
	free(path);
	return ret;
}

void kc_ktarget_close(struct kc_ktarget *t)
{
	if (!t)
		return;
	kc_kimage_close(t->image);
	kc_ksyms_release(&t->exports);
	kc_ksyms_release(&t->modexports);
	kc_ksyms_release(&t->index);
	for (size_t i = 0; i < t->nidxmods; i++)
		free(t->idxmods[i]);
	free(t->idxmods);
	for (size_t i = 0; i < t->nmods; i++) {
		free(t->mods[i].name);
		free(t->mods[i].path);
		kc_ksyms_release(&t->mods[i].syms);
	}
	free(t->mods);
	free(t->headers);
	free(t->tree);
	free(t->cache);
	free(t);
}

int kc_ktarget_open(const char *kernel, const char *tree, struct kc_ktarget **out,
		    struct kc_err *err)
{
	struct kc_ktarget *t = calloc(1, sizeof(*t));
	char lock[4200];
	int ret, lockfd = -1;

	if (!t)
		return kc_err_set(err, -ENOMEM, "out of memory");
	kc_ksyms_init(&t->exports);
	kc_ksyms_init(&t->modexports);
	kc_ksyms_init(&t->index);
	if ((ret = target_headers(t, kernel, err)) < 0 || (ret = target_cache(t, err)) < 0)
		goto fail;
	/* one build at a time fills a cache (download, extraction, index) */
	snprintf(lock, sizeof(lock), "%s/lock", t->cache);
	lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
		ret = kc_err_set(err, -errno, "cannot lock '%s': %s", lock, strerror(errno));
		goto fail;
	}
	if ((ret = target_tree(t, tree, err)) < 0 || (ret = target_image(t, err)) < 0 ||
	    (ret = target_symvers(t, err)) < 0 || (ret = target_index(t, err)) < 0)
		goto fail;
	close(lockfd);
	*out = t;
	return 0;
fail:
	if (lockfd >= 0)
		close(lockfd);
	kc_ktarget_close(t);
	return ret;
}

size_t kc_ktarget_func_modules(struct kc_ktarget *t, const char *name, const char **paths,
			       size_t max)
{
	struct kc_ksym_match m;
	size_t n = 0;

	if (kc_ksyms_find(&t->index, name, 1, 1, &m) < 0)
		return 0;
	for (size_t pos = 1; pos <= m.count; pos++) {
		struct kc_ksym_match one;
		const char *p;
		int dup = 0;

		kc_ksyms_find(&t->index, name, pos, 1, &one);
		p = t->idxmods[one.sym->sec];
		for (size_t j = 0; j < n && !dup; j++)
			dup = paths[j] == p;
		if (!dup && n < max)
			paths[n++] = p;
	}
	return n;
}

int kc_ktarget_module(struct kc_ktarget *t, const char *name, struct kc_kmodule **out,
		      struct kc_err *err)
{
	struct kc_kmodule *nm, *m;
	char *path = NULL;
	int ret;

	for (size_t i = 0; i < t->nmods; i++)
		if (!strcmp(t->mods[i].name, name)) {
			*out = &t->mods[i];
			return 0;
		}
	for (size_t i = 0; i < t->nidxmods && !path; i++) {
		char *n = kc_ktarget_modname(t->idxmods[i]);

		if (n && !strcmp(n, name) &&
		    asprintf(&path, "%s/lib/modules/%s/%s", t->tree, t->abi, t->idxmods[i]) < 0)
			path = NULL;
		free(n);
	}
	if (!path)
		return kc_err_set(err, -ENOENT, "the kernel has no module '%s'", name);
	nm = realloc(t->mods, (t->nmods + 1) * sizeof(*nm));
	if (!nm) {
		free(path);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	t->mods = nm;
	m = &t->mods[t->nmods];
	memset(m, 0, sizeof(*m));
	kc_ksyms_init(&m->syms);
	m->path = path;
	m->name = strdup(name);
	ret = m->name ? kc_ksyms_read_module(path, &m->syms, err)
		      : kc_err_set(err, -ENOMEM, "out of memory");
	if (ret < 0) {
		free(m->name);
		free(m->path);
		kc_ksyms_release(&m->syms);
		return ret;
	}
	t->nmods++;
	*out = m;
	return 0;
}

static int target_module_bytes(struct kc_kmodule *m, const struct kc_ksym *sym, uint8_t *buf,
			       size_t len, struct kc_err *err)
{
	int fd = open(m->path, O_RDONLY | O_CLOEXEC), ret = -ERANGE;
	Elf *elf;
	Elf_Scn *scn;
	GElf_Shdr sh;

	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s'", m->path);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && (scn = elf_getscn(elf, sym->sec)) && gelf_getshdr(scn, &sh) &&
	    sh.sh_type == SHT_PROGBITS && sym->addr + len <= sh.sh_size &&
	    pread(fd, buf, len, (off_t)(sh.sh_offset + sym->addr)) == (ssize_t)len)
		ret = 0;
	elf_end(elf);
	close(fd);
	return ret < 0 ? kc_err_set(err, ret, "'%s': cannot read a function entry", m->path) : 0;
}

int kc_ktarget_ftrace_skip(struct kc_ktarget *t, const char *obj, const struct kc_ksym *sym,
			   const char *name, struct kc_err *err)
{
	uint8_t buf[16];
	struct kc_kmodule *m;
	int ret = 0, skip;

	if (!strcmp(obj, "vmlinux"))
		ret = kc_kimage_read(t->image, sym->addr, buf, sizeof(buf), err);
	else if ((ret = kc_ktarget_module(t, obj, &m, err)) == 0)
		ret = target_module_bytes(m, sym, buf, sizeof(buf), err);
	if (ret < 0)
		return ret;
	skip = kc_kimage_ftrace_skip(buf, sizeof(buf));
	if (skip < 0)
		return kc_err_set(
		    err, -ENOEXEC,
		    "%s's '%s' has no ftrace call at its entry: livepatch cannot replace it", obj,
		    name);
	return skip;
}
