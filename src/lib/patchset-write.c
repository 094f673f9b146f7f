// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The patchset writer behind `kcare-build patchset`: collects patch files,
 * takes their identity from the files themselves (build-id, target, id,
 * level, CVEs, description of user patches; module name of kernel
 * modules), and writes patchset.json plus patches/ as a ustar archive,
 * bzip2-compressed by default, atomically. Member order, modes, owners and
 * times are fixed so that the same input gives the same archive.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/patchset-int.h"
#include "kcare/conf.h"

struct kc_patchset_writer {
	struct kc_patchset_meta meta; /* patches[] grows with add */
	uint8_t **data;		      /* owned copies, one per patch */
	size_t cap;
};

int kc_patchset_writer_new(const char *name, enum kc_patchset_product product, int64_t released,
			   const char *description, struct kc_patchset_writer **out,
			   struct kc_err *err)
{
	struct kc_patchset_writer *w;
	int ret;

	*out = NULL;
	ret = kc_patchset_check_name(name, product, err);
	if (ret < 0)
		return ret;
	if (released < 0 || released > 253402300799LL)
		return kc_err_set(err, -EINVAL, "release time %lld is out of range",
				  (long long)released);
	if (!description)
		description = "";
	if (!ps_text_ok(description, PS_TEXT_MAX, 1))
		return kc_err_set(err, -EINVAL,
				  "description is not UTF-8 text of at most %d bytes without "
				  "control characters",
				  PS_TEXT_MAX);
	w = calloc(1, sizeof(*w));
	if (!w)
		return kc_err_set(err, -ENOMEM, "out of memory");
	w->meta.format = KC_PATCHSET_FORMAT;
	w->meta.product = product;
	w->meta.released = released;
	w->meta.name = strdup(name);
	w->meta.description = strdup(description);
	if (!w->meta.name || !w->meta.description) {
		kc_patchset_writer_free(w);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	*out = w;
	return 0;
}

static char *ps_dup_lower(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

/* Checks the command-line part of a patch against its kind. */
static int ps_check_opts(enum kc_patchset_kind kind, const struct kc_patchset_patch_opts *o,
			 struct kc_err *err)
{
	if (kind == KC_PATCHSET_USER) {
		if (o->kernel_id || o->kernel_build_id)
			return kc_err_set(err, -EINVAL,
					  "a kernel id is for kernel modules; a userspace patch "
					  "carries its target's build-id");
		if (o->level)
			return kc_err_set(
			    err, -EINVAL,
			    "a level is for kernel modules; a userspace patch carries "
			    "its own");
		return 0;
	}
	if (!o->kernel_id == !o->kernel_build_id)
		return kc_err_set(err, -EINVAL,
				  "a kernel module needs exactly one of a kernel id and a kernel "
				  "build-id");
	return 0;
}

/* Fills @p from the inspected file and the options; strings are copied. */
static int ps_fill(struct kc_patchset_patch *p, const char *file_name, const struct ps_inspect *in,
		   const struct kc_patchset_patch_opts *o)
{
	int oom = 0;

	p->kind = in->kind;
	if (asprintf(&p->file, "%s/%s", KC_PATCHSET_DIR, file_name) < 0) {
		p->file = NULL;
		return -ENOMEM;
	}
	if (in->kind == KC_PATCHSET_USER) {
		p->build_id = strdup(in->build_id);
		p->level = in->level;
		oom |= !p->build_id;
	} else {
		if (o->kernel_id)
			oom |= !(p->kernel_id = ps_dup_lower(o->kernel_id));
		else
			oom |= !(p->build_id = ps_dup_lower(o->kernel_build_id));
		p->level = o->level ? o->level : 1;
	}
	p->target_name = strdup(in->target_name);
	p->id = strdup(in->id);
	p->description = strdup(in->description ? in->description : "");
	oom |= !p->target_name || !p->id || !p->description;
	if (in->ncves) {
		p->cves = calloc(in->ncves, sizeof(*p->cves));
		oom |= !p->cves;
		for (size_t c = 0; p->cves && c < in->ncves; c++) {
			p->cves[c] = strdup(in->cves[c]);
			oom |= !p->cves[c];
			p->ncves++;
		}
	}
	for (int f = 0; f < KC_KPATCH_NFIELDS; f++)
		if (o->kpatch[f])
			oom |= !(p->kpatch[f] = strdup(o->kpatch[f]));
	return oom ? -ENOMEM : 0;
}

int kc_patchset_writer_add(struct kc_patchset_writer *w, const char *file_name, const void *buf,
			   size_t len, const struct kc_patchset_patch_opts *o, struct kc_err *err)
{
	static const struct kc_patchset_patch_opts none;
	struct kc_patchset_meta *m = &w->meta;
	enum kc_patchset_kind kind = ps_product_kind(m->product);
	struct kc_patchset_patch *p;
	struct ps_inspect in;
	char q[PS_QUOTE_MAX + 8];
	int ret;

	if (!o)
		o = &none;
	ps_quote(file_name, q, sizeof(q));
	if (!ps_file_name_ok(file_name))
		return kc_err_set(
		    err, -EINVAL,
		    "patch '%s': file name must be [A-Za-z0-9._+-]{1,128} and not start "
		    "with '.'",
		    q);
	for (size_t i = 0; i < m->npatches; i++)
		if (!strcmp(m->patches[i].file + sizeof(KC_PATCHSET_DIR), file_name))
			return kc_err_set(
			    err, -EINVAL,
			    "patch '%s': the patchset has a file of that name already", q);
	ret = ps_check_opts(kind, o, err);
	if (ret < 0)
		return err ? kc_err_prefix(err, "patch '%s'", q) : ret;
	if (m->npatches >= PS_PATCHES_MAX)
		return kc_err_set(err, -EINVAL, "a patchset holds at most %d patches",
				  PS_PATCHES_MAX);
	if (m->npatches == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 8;
		struct kc_patchset_patch *np = realloc(m->patches, cap * sizeof(*np));
		uint8_t **nd;

		if (!np)
			return kc_err_set(err, -ENOMEM, "out of memory");
		m->patches = np;
		nd = realloc(w->data, cap * sizeof(*nd));
		if (!nd)
			return kc_err_set(err, -ENOMEM, "out of memory");
		w->data = nd;
		w->cap = cap;
	}
	ret = ps_inspect(kind, buf, len, &in, err);
	if (ret < 0) {
		if (err)
			err->code = -EINVAL;
		return err ? kc_err_prefix(err, "patch '%s'", q) : -EINVAL;
	}
	p = &m->patches[m->npatches];
	memset(p, 0, sizeof(*p));
	p->length = len;
	ret = ps_sha256_hex(buf, len, p->sha256, err);
	if (!ret && ps_fill(p, file_name, &in, o) < 0)
		ret = kc_err_set(err, -ENOMEM, "out of memory");
	ps_inspect_release(&in);
	w->data[m->npatches] = ret ? NULL : malloc(len ? len : 1);
	if (!ret && !w->data[m->npatches])
		ret = kc_err_set(err, -ENOMEM, "out of memory");
	if (ret < 0) {
		ps_patch_release(p);
		return ret;
	}
	memcpy(w->data[m->npatches], buf, len);
	m->npatches++;
	/* the rules of patchset.json for the new entry: clashes, CVE syntax, its texts */
	ret = ps_patch_validate(m, m->npatches - 1, err);
	if (ret < 0) {
		m->npatches--;
		free(w->data[m->npatches]);
		ps_patch_release(p);
		if (err)
			err->code = -EINVAL;
		return -EINVAL;
	}
	return 0;
}

int kc_patchset_writer_add_file(struct kc_patchset_writer *w, const char *path,
				const struct kc_patchset_patch_opts *o, struct kc_err *err)
{
	char *copy = strdup(path), *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd, ret;

	if (!copy)
		return kc_err_set(err, -ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = kc_err_set(err, -EINVAL, "'%s' is not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > PS_LENGTH_MAX) {
		ret = kc_err_set(err, -EFBIG, "'%s' is too large", path);
		goto out;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0) {
			ret = kc_err_set(err, n < 0 ? -errno : -EIO, "cannot read '%s': %s", path,
					 n < 0 ? strerror(errno) : "file shrank while reading");
			goto out;
		}
		got += (size_t)n;
	}
	ret = kc_patchset_writer_add(w, basename(copy), buf, got, o, err);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(copy);
	return ret;
}

const struct kc_patchset_meta *kc_patchset_writer_meta(const struct kc_patchset_writer *w)
{
	return &w->meta;
}

struct ps_out {
	uint8_t *p;
	size_t len, cap;
};

static la_ssize_t ps_out_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
	struct ps_out *o = ctx;

	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 65536;
		uint8_t *np;

		while (cap < o->len + n)
			cap *= 2;
		np = realloc(o->p, cap);
		if (!np) {
			archive_set_error(a, ENOMEM, "out of memory");
			return -1;
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, buf, n);
	o->len += n;
	return (la_ssize_t)n;
}

static int ps_add_filter(struct archive *a, enum kc_patchset_compression c)
{
	switch (c) {
	case KC_PATCHSET_BZIP2:
		return archive_write_add_filter_bzip2(a);
	case KC_PATCHSET_GZIP:
		if (archive_write_add_filter_gzip(a) != ARCHIVE_OK)
			return ARCHIVE_FATAL;
		/* no time stamp in the gzip header: same input, same bytes */
		archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
		return ARCHIVE_OK;
	case KC_PATCHSET_XZ:
		return archive_write_add_filter_xz(a);
	case KC_PATCHSET_PLAIN:
		return archive_write_add_filter_none(a);
	}
	return ARCHIVE_FATAL;
}

/* One member: a directory when @data is NULL. */
static int ps_put(struct archive *a, const char *name, const void *data, size_t len, int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (!e)
		return ARCHIVE_FATAL;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, data ? AE_IFREG : AE_IFDIR);
	archive_entry_set_perm(e, data ? 0644 : 0755);
	archive_entry_set_size(e, data ? (la_int64_t)len : 0);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	r = archive_write_header(a, e);
	if (r == ARCHIVE_OK && data && len && archive_write_data(a, data, len) != (la_ssize_t)len)
		r = ARCHIVE_FATAL;
	archive_entry_free(e);
	return r;
}

int kc_patchset_writer_write_mem(struct kc_patchset_writer *w, enum kc_patchset_compression c,
				 void **buf, size_t *len, struct kc_err *err)
{
	struct ps_out out = {0};
	struct archive *a = NULL;
	char *json = NULL;
	size_t jlen;
	int ret;

	*buf = NULL;
	*len = 0;
	if (!w->meta.npatches)
		return kc_err_set(err, -EINVAL, "patchset '%s' has no patches", w->meta.name);
	ret = kc_patchset_meta_encode(&w->meta, &json, &jlen, err);
	if (ret < 0)
		return ret;
	a = archive_write_new();
	if (!a) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* bytes_in_last_block 1: no zero padding after the compressed stream (bzip2 -d calls
	 * that trailing garbage) */
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK || ps_add_filter(a, c) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &out, NULL, ps_out_write, NULL) != ARCHIVE_OK ||
	    ps_put(a, KC_PATCHSET_JSON, json, jlen, w->meta.released) != ARCHIVE_OK ||
	    ps_put(a, KC_PATCHSET_DIR "/", NULL, 0, w->meta.released) != ARCHIVE_OK)
		goto fail;
	for (size_t i = 0; i < w->meta.npatches; i++)
		if (ps_put(a, w->meta.patches[i].file, w->data[i], w->meta.patches[i].length,
			   w->meta.released) != ARCHIVE_OK)
			goto fail;
	if (archive_write_close(a) != ARCHIVE_OK)
		goto fail;
	*buf = out.p;
	*len = out.len;
	out.p = NULL;
	goto out;
fail:
	ret = kc_err_set(err, -EIO, "cannot write archive: %s",
			 archive_error_string(a) ? archive_error_string(a) : "libarchive failed");
out:
	if (a)
		archive_write_free(a);
	free(out.p);
	free(json);
	return ret;
}

int kc_patchset_writer_write(struct kc_patchset_writer *w, const char *path,
			     enum kc_patchset_compression c, uint64_t *size, struct kc_err *err)
{
	char *dcopy = NULL, *bcopy = NULL, *tmp = NULL, *dir;
	void *buf = NULL;
	size_t len;
	int fd = -1, dfd = -1, ret;

	ret = kc_patchset_writer_write_mem(w, c, &buf, &len, err);
	if (ret < 0)
		return ret;
	dcopy = strdup(path);
	bcopy = strdup(path);
	if (!dcopy || !bcopy) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	dir = dirname(dcopy);
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, basename(bcopy)) < 0) {
		tmp = NULL;
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = kc_err_set(err, -errno, "cannot create a file in '%s': %s", dir,
				 strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	ret = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (!ret)
		ret = kc_fd_write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	fd = -1;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0) {
		kc_err_set(err, ret, "cannot write '%s': %s", path, strerror(-ret));
		unlink(tmp);
		goto out;
	}
	/* the rename is durable only once the directory is on disk too */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		ret =
		    kc_err_set(err, -errno, "cannot sync directory '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (size)
		*size = len;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(dcopy);
	free(bcopy);
	free(buf);
	return ret;
}

void kc_patchset_writer_free(struct kc_patchset_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->meta.npatches; i++) {
		ps_patch_release(&w->meta.patches[i]);
		free(w->data[i]);
	}
	free(w->meta.patches);
	free(w->meta.name);
	free(w->meta.description);
	free(w->data);
	free(w);
}
