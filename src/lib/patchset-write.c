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
		if (o->level || o->id)
			return kc_err_set(
			    err, -EINVAL,
			    "a level or series id is for kernel modules; a userspace patch "
			    "carries its own");
		if (o->description || o->ncves)
			return kc_err_set(err, -EINVAL,
					  "a userspace patch carries its own description and CVEs");
	}
	return 0;
}

/* Hex strings equal but for case. */
static int ps_hex_same(const char *a, const char *b)
{
	return strlen(a) == strlen(b) && !strcasecmp(a, b);
}

/* What the options say of a module agrees with what its .modinfo says. */
static int ps_check_module(const struct ps_inspect *in, const struct kc_patchset_patch_opts *o,
			   struct kc_err *err)
{
	if (o->id && strcmp(o->id, in->id))
		return kc_err_set(
		    err, -EINVAL,
		    "series id %s is given (option or sidecar), the module's kcare_id is %s", o->id,
		    in->id);
	if (o->level && o->level != in->level)
		return kc_err_set(
		    err, -EINVAL,
		    "level %u is given (option or sidecar), the module's kcare_level is %u",
		    o->level, in->level);
	if (o->kernel_build_id && !ps_hex_same(o->kernel_build_id, in->build_id))
		return kc_err_set(
		    err, -EINVAL,
		    "build-id %s is given (option or sidecar), the module's kcare_build_id is %s",
		    o->kernel_build_id, in->build_id);
	if (o->kernel_id && (!in->kernel_id || !ps_hex_same(o->kernel_id, in->kernel_id)))
		return kc_err_set(
		    err, -EINVAL,
		    "kernel id %s is given (option or sidecar), the module's kcare_kernel_id is %s",
		    o->kernel_id, in->kernel_id ? in->kernel_id : "absent");
	return 0;
}

static char *ps_dup_opt(const char *s, int *oom)
{
	char *d = s ? strdup(s) : NULL;

	*oom |= s && !d;
	return d;
}

/* Fills @p from the inspected file and the options; strings are copied. */
static int ps_fill(struct kc_patchset_patch *p, const char *file_name, const struct ps_inspect *in,
		   const struct kc_patchset_patch_opts *o)
{
	char *const *cves = in->cves;
	size_t ncves = in->ncves;
	int oom = 0;

	p->kind = in->kind;
	if (asprintf(&p->file, "%s/%s", KC_PATCHSET_DIR, file_name) < 0) {
		p->file = NULL;
		return -ENOMEM;
	}
	p->build_id = ps_dup_lower(in->build_id);
	p->level = in->level;
	oom |= !p->build_id;
	if (in->kind == KC_PATCHSET_MODULE) {
		p->kernel_id = ps_dup_opt(in->kernel_id, &oom);
		p->release = ps_dup_opt(in->release, &oom);
		p->effective = ps_dup_opt(in->effective, &oom);
		cves = (char *const *)o->cves;
		ncves = o->ncves;
	}
	/* the checks refuse them on a module */
	p->package = ps_dup_opt(o->package, &oom);
	p->package_version = ps_dup_opt(o->package_version, &oom);
	p->target_name = strdup(in->target_name);
	p->id = strdup(in->id);
	p->description = strdup(in->kind == KC_PATCHSET_MODULE && o->description ? o->description
				: in->description				 ? in->description
										 : "");
	oom |= !p->target_name || !p->id || !p->description;
	if (ncves) {
		p->cves = calloc(ncves, sizeof(*p->cves));
		oom |= !p->cves;
		for (size_t c = 0; p->cves && c < ncves; c++) {
			p->cves[c] = strdup(cves[c]);
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
	if (!ret && kind == KC_PATCHSET_MODULE) {
		ret = ps_check_module(&in, o, err);
		if (ret < 0)
			ps_inspect_release(&in);
	}
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

/*
 * kc_patchset_writer_add() of a module, as patches/<module name>-<build-id>.ko,
 * with what its sidecar says: the options given win over the sidecar's
 * fields, and the sidecar's id, level and identity become options the
 * module must agree with.
 */
static int ps_add_with_sidecar(struct kc_patchset_writer *w, const char *path,
			       const char *file_name, const void *buf, size_t len,
			       const struct kc_patchset_patch_opts *o, struct kc_err *err)
{
	static const struct kc_patchset_patch_opts none;
	struct kc_patchset_patch_opts so;
	char member[PS_NAME_MAX + 1];
	struct ps_sidecar sc;
	struct ps_inspect in;
	int ret;

	if (!o)
		o = &none;
	if (w->meta.product != KC_PATCHSET_KERNEL)
		return kc_patchset_writer_add(w, file_name, buf, len, o, err);
	/* every kernel's level N is kcare_<id>_<N>.ko: the build-id tells them apart */
	if (ps_inspect(KC_PATCHSET_MODULE, buf, len, &in, NULL) == 0) {
		snprintf(member, sizeof(member), "%s-%.40s.ko", in.module, in.build_id);
		file_name = member;
		ps_inspect_release(&in);
	}
	ret = ps_sidecar_load(path, &sc, err);
	if (ret < 0 || !sc.found)
		return ret < 0 ? ret : kc_patchset_writer_add(w, file_name, buf, len, o, err);
	so = *o;
	for (int f = 0; f < KC_KPATCH_NFIELDS; f++)
		if (!so.kpatch[f])
			so.kpatch[f] = sc.kpatch[f];
	if (!so.description)
		so.description = sc.description;
	if (!so.ncves) {
		so.cves = sc.cves;
		so.ncves = sc.ncves;
	}
	ret = 0;
	if (so.id && strcmp(so.id, sc.id))
		ret = kc_err_set(err, -EINVAL,
				 "patch '%s': the series id given is %s, its sidecar says %s",
				 file_name, so.id, sc.id);
	else if (so.level && so.level != sc.level)
		ret = kc_err_set(err, -EINVAL,
				 "patch '%s': the level given is %u, its sidecar says %u",
				 file_name, so.level, sc.level);
	so.id = sc.id;
	so.level = sc.level;
	if (!so.kernel_build_id)
		so.kernel_build_id = sc.build_id;
	if (!so.kernel_id)
		so.kernel_id = sc.kernel_id;
	if (!ret)
		ret = kc_patchset_writer_add(w, file_name, buf, len, &so, err);
	ps_sidecar_release(&sc);
	return ret;
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
	ret = ps_add_with_sidecar(w, path, basename(copy), buf, got, o, err);
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
	void *buf = NULL;
	size_t len;
	int ret;

	ret = kc_patchset_writer_write_mem(w, c, &buf, &len, err);
	if (ret == 0)
		ret = kc_file_replace(path, buf, len, 0644, err);
	if (ret == 0 && size)
		*size = len;
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
