// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The patchset reader a server runs on uploaded archives. It is written
 * for hostile input, as a pipeline of two libarchive readers:
 *
 *   bytes --[raw: bzip2|gzip|xz|none]--> tar stream --[tar]--> members
 *
 * The first decompresses (one layer at most) and counts every byte it
 * hands on, so the expansion of the whole stream is capped whatever the
 * tar headers say; the second parses the tar. Members are checked as their
 * headers arrive (type, path, declared size) and again while their data
 * streams in (size), so a bomb stops at the limit. Only when the stream
 * ended cleanly and every rule of docs/patchset-format.md held is anything
 * returned or written to the extraction directory.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/patchset-int.h"

#define PS_CHUNK    65536
#define PS_PATH_MAX 256 /* bytes of a member path after normalisation */

struct kc_patchset {
	struct kc_patchset_meta *meta;
	uint8_t *json; /* patchset.json as read */
	size_t json_len;
	uint8_t **data; /* [meta->npatches], owned */
	char **paths;	/* [meta->npatches] in the extraction directory, or NULL */
};

/* The decompressing half of the pipeline, read by the tar half through ps_src_read(). */
struct ps_src {
	struct archive *raw;
	uint64_t produced; /* bytes of tar stream handed on */
	uint64_t cap;
	struct kc_err failure; /* why the last read failed, as our message */
	uint8_t buf[PS_CHUNK];
};

struct ps_member {
	char *name; /* normalised path; "." for the top directory */
	uint8_t *data;
	size_t len;
	int is_dir;
	int used; /* claimed by an entry of patchset.json */
};

struct ps_reader {
	struct kc_patchset_limits lim;
	struct ps_src src;
	struct archive *tar;
	struct ps_member *m;
	size_t n, cap;
	uint64_t total; /* bytes of member data so far */
};

static void ps_limits(const struct kc_patchset_limits *in, struct kc_patchset_limits *out)
{
	*out = in ? *in : (struct kc_patchset_limits){0};
	if (!out->max_members)
		out->max_members = 1024;
	if (!out->max_member_size)
		out->max_member_size = 64ull << 20;
	if (!out->max_total_size)
		out->max_total_size = 256ull << 20;
	if (!out->max_json_size)
		out->max_json_size = 1ull << 20;
}

static la_ssize_t ps_src_read(struct archive *tar, void *ctx, const void **out)
{
	struct ps_src *src = ctx;
	la_ssize_t n = archive_read_data(src->raw, src->buf, sizeof(src->buf));

	if (n < 0) {
		const char *why = archive_error_string(src->raw);

		kc_err_set(&src->failure, -EBADMSG, "patchset: bad compressed data: %s",
			   why ? why : "decompression failed");
		archive_set_error(tar, EBADMSG, "%s", src->failure.msg);
		return -1;
	}
	src->produced += (uint64_t)n;
	if (src->produced > src->cap) {
		kc_err_set(&src->failure, -EFBIG,
			   "patchset: archive expands beyond %llu bytes (limit)",
			   (unsigned long long)src->cap);
		archive_set_error(tar, EFBIG, "%s", src->failure.msg);
		return -1;
	}
	*out = src->buf;
	return n;
}

/* A failure of the tar half: ours if the source failed, else libarchive's. */
static int ps_tar_error(struct ps_reader *r, const char *what, struct kc_err *err)
{
	const char *why = archive_error_string(r->tar);

	if (r->src.failure.code)
		return kc_err_set(err, r->src.failure.code, "%s", r->src.failure.msg);
	return kc_err_set(err, -EBADMSG, "patchset: %s: %s", what, why ? why : "unreadable");
}

/*
 * Opens the decompressing half on the input already attached to
 * r->src.raw by the caller's open function @opened (its libarchive
 * status).
 */
static int ps_open_pipeline(struct ps_reader *r, int opened, struct kc_err *err)
{
	struct archive_entry *e;
	int fc;

	if (opened != ARCHIVE_OK || archive_read_next_header(r->src.raw, &e) != ARCHIVE_OK) {
		const char *why = archive_error_string(r->src.raw);

		return kc_err_set(err, -EBADMSG, "patchset: not a readable archive: %s",
				  why ? why : "empty input");
	}
	/* filter 0 is the decompressor feeding the format; the last one reads the input */
	fc = archive_filter_count(r->src.raw);
	if (fc > 2)
		return kc_err_set(err, -EBADMSG,
				  "patchset: compressed %d times over (one layer at most)", fc - 1);
	/* room for tar headers and padding; saturates for absurd limits */
	r->src.cap = (uint64_t)(r->lim.max_members + 4) * 4096 + (1u << 20);
	r->src.cap = r->lim.max_total_size > UINT64_MAX - r->src.cap
			 ? UINT64_MAX
			 : r->lim.max_total_size + r->src.cap;
	r->tar = archive_read_new();
	if (!r->tar)
		return kc_err_set(err, -ENOMEM, "out of memory");
	if (archive_read_support_format_tar(r->tar) != ARCHIVE_OK ||
	    archive_read_open(r->tar, &r->src, NULL, ps_src_read, NULL) != ARCHIVE_OK)
		return ps_tar_error(r, "not a tar archive", err);
	return 0;
}

/*
 * Normalises a member path into @out: drops "." components, empty ones
 * and a leading "./"; refuses absolute paths and "..". "" becomes ".".
 */
static int ps_norm(const char *name, char *out, size_t outsz, const char *q, struct kc_err *err)
{
	size_t o = 0;

	if (!*name)
		return kc_err_set(err, -EBADMSG, "patchset: member with an empty name");
	if (name[0] == '/')
		return kc_err_set(err, -EBADMSG, "patchset: member '%s': absolute path", q);
	while (*name) {
		size_t n = strcspn(name, "/");

		if (n == 2 && !strncmp(name, "..", 2))
			return kc_err_set(err, -EBADMSG,
					  "patchset: member '%s': path escapes the archive", q);
		if (n && !(n == 1 && name[0] == '.')) {
			if (o + n + 2 > outsz)
				return kc_err_set(err, -EBADMSG,
						  "patchset: member '%s': path too long", q);
			if (o)
				out[o++] = '/';
			memcpy(out + o, name, n);
			o += n;
		}
		name += n;
		name += *name == '/';
	}
	if (!o)
		out[o++] = '.';
	out[o] = '\0';
	return 0;
}

/* Refuses every member type but regular files and directories. */
static int ps_check_type(struct archive_entry *e, const char *q, struct kc_err *err)
{
	const char *what = NULL;

	if (archive_entry_hardlink(e))
		what = "is a hard link";
	else if (archive_entry_symlink(e) || archive_entry_filetype(e) == AE_IFLNK)
		what = "is a symbolic link";
	else if (archive_entry_filetype(e) == AE_IFCHR || archive_entry_filetype(e) == AE_IFBLK)
		what = "is a device";
	else if (archive_entry_filetype(e) == AE_IFIFO)
		what = "is a FIFO";
	else if (archive_entry_filetype(e) == AE_IFSOCK)
		what = "is a socket";
	else if (archive_entry_filetype(e) != AE_IFREG && archive_entry_filetype(e) != AE_IFDIR)
		what = "is not a regular file nor a directory";
	else if (archive_entry_sparse_count(e) > 0)
		what = "is a sparse file";
	if (what)
		return kc_err_set(err, -EBADMSG, "patchset: member '%s': %s", q, what);
	return 0;
}

/* Reads the data of the current member, at most @limit bytes. */
static int ps_read_data(struct ps_reader *r, struct archive_entry *e, struct ps_member *m,
			uint64_t limit, const char *q, struct kc_err *err)
{
	uint64_t declared = 0;
	size_t cap;

	if (archive_entry_size_is_set(e)) {
		if (archive_entry_size(e) < 0)
			return kc_err_set(err, -EBADMSG, "patchset: member '%s': negative size", q);
		declared = (uint64_t)archive_entry_size(e);
	}
	if (declared > limit)
		return kc_err_set(err, -EFBIG,
				  "patchset: member '%s': %llu bytes, more than the limit of %llu",
				  q, (unsigned long long)declared, (unsigned long long)limit);
	if (r->total + declared > r->lim.max_total_size)
		return kc_err_set(err, -EFBIG,
				  "patchset: member '%s': archive holds more than the limit of "
				  "%llu bytes",
				  q, (unsigned long long)r->lim.max_total_size);
	/* one spare byte so that the end of the data is a read of 0, never of a full buffer */
	cap = (size_t)declared + 1;
	m->data = malloc(cap);
	if (!m->data)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (;;) {
		la_ssize_t n;

		if (m->len == cap) {
			size_t ncap = cap * 2 > limit + 1 ? (size_t)limit + 1 : cap * 2;
			uint8_t *np;

			if (ncap <= cap)
				ncap = cap + 1;
			np = realloc(m->data, ncap);
			if (!np)
				return kc_err_set(err, -ENOMEM, "out of memory");
			m->data = np;
			cap = ncap;
		}
		n = archive_read_data(r->tar, m->data + m->len, cap - m->len);
		if (n < 0) {
			const char *why = archive_error_string(r->tar);

			if (r->src.failure.code)
				return kc_err_set(err, r->src.failure.code, "%s",
						  r->src.failure.msg);
			return kc_err_set(err, -EBADMSG, "patchset: member '%s': %s", q,
					  why ? why : "truncated or corrupt data");
		}
		if (n == 0)
			break;
		m->len += (size_t)n;
		if (m->len > limit)
			return kc_err_set(
			    err, -EFBIG, "patchset: member '%s': more than the limit of %llu bytes",
			    q, (unsigned long long)limit);
		if (r->total + m->len > r->lim.max_total_size)
			return kc_err_set(
			    err, -EFBIG,
			    "patchset: member '%s': archive holds more than the limit "
			    "of %llu bytes",
			    q, (unsigned long long)r->lim.max_total_size);
	}
	if (archive_entry_size_is_set(e) && m->len != declared)
		return kc_err_set(err, -EBADMSG,
				  "patchset: member '%s': %zu bytes, header says %llu", q, m->len,
				  (unsigned long long)declared);
	r->total += m->len;
	return 0;
}

/* What a normalised path may be: the top, patches/, patchset.json or patches/<name>. */
static int ps_classify(const char *path, int is_dir, const char *q, struct kc_err *err)
{
	const char *name = path + sizeof(KC_PATCHSET_DIR);

	if (is_dir && (!strcmp(path, ".") || !strcmp(path, KC_PATCHSET_DIR)))
		return 0;
	if (!is_dir && !strcmp(path, KC_PATCHSET_JSON))
		return 0;
	if (!is_dir && !strncmp(path, KC_PATCHSET_DIR "/", sizeof(KC_PATCHSET_DIR)) &&
	    ps_file_name_ok(name))
		return 0;
	return kc_err_set(err, -EBADMSG,
			  "patchset: member '%s': unexpected %s (only patchset.json and "
			  "patches/<name> belong in a patchset)",
			  q, is_dir ? "directory" : "file");
}

static int ps_read_member(struct ps_reader *r, struct archive_entry *e, struct kc_err *err)
{
	const char *raw = archive_entry_pathname(e);
	char q[PS_QUOTE_MAX + 8], path[PS_PATH_MAX];
	struct ps_member *m;
	int ret, is_dir;

	if (!raw)
		return kc_err_set(err, -EBADMSG, "patchset: member %zu has no readable name",
				  r->n + 1);
	ps_quote(raw, q, sizeof(q));
	if (r->n >= r->lim.max_members)
		return kc_err_set(err, -E2BIG, "patchset: more than %zu members",
				  r->lim.max_members);
	ret = ps_norm(raw, path, sizeof(path), q, err);
	if (!ret)
		ret = ps_check_type(e, q, err);
	if (ret < 0)
		return ret;
	is_dir = archive_entry_filetype(e) == AE_IFDIR;
	ret = ps_classify(path, is_dir, q, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->m[i].name, path))
			return kc_err_set(err, -EBADMSG, "patchset: member '%s': duplicate of '%s'",
					  q, path);
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct ps_member *nm = realloc(r->m, cap * sizeof(*nm));

		if (!nm)
			return kc_err_set(err, -ENOMEM, "out of memory");
		r->m = nm;
		r->cap = cap;
	}
	m = &r->m[r->n];
	memset(m, 0, sizeof(*m));
	m->name = strdup(path);
	if (!m->name)
		return kc_err_set(err, -ENOMEM, "out of memory");
	r->n++;
	m->is_dir = is_dir;
	if (is_dir) {
		if (archive_entry_size_is_set(e) && archive_entry_size(e) != 0)
			return kc_err_set(err, -EBADMSG,
					  "patchset: member '%s': directory with data", q);
		return 0;
	}
	return ps_read_data(
	    r, e, m, strcmp(path, KC_PATCHSET_JSON) ? r->lim.max_member_size : r->lim.max_json_size,
	    q, err);
}

/*
 * Reads what follows the end of the tar to the end of the compressed
 * stream: zeros (padding to the tar record size) are fine, anything else
 * is refused, and a damaged or truncated compressed stream fails here.
 */
static int ps_drain(struct ps_reader *r, struct kc_err *err)
{
	const void *p;
	la_ssize_t n;

	while ((n = ps_src_read(r->tar, &r->src, &p)) > 0)
		for (la_ssize_t i = 0; i < n; i++)
			if (((const uint8_t *)p)[i])
				return kc_err_set(
				    err, -EBADMSG,
				    "patchset: data after the end of the tar archive");
	if (n < 0)
		return kc_err_set(err, r->src.failure.code, "%s", r->src.failure.msg);
	return 0;
}

static int ps_read_all(struct ps_reader *r, struct kc_err *err)
{
	for (;;) {
		struct archive_entry *e;
		int st = archive_read_next_header(r->tar, &e), ret;

		if (st == ARCHIVE_EOF)
			break;
		/* warnings too: a well-formed patchset gives libarchive nothing to warn about */
		if (st != ARCHIVE_OK)
			return ps_tar_error(r, r->n ? "malformed archive" : "not a tar archive",
					    err);
		ret = ps_read_member(r, e, err);
		if (ret < 0)
			return ret;
	}
	return ps_drain(r, err);
}

static struct ps_member *ps_find(struct ps_reader *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!r->m[i].is_dir && !strcmp(r->m[i].name, name))
			return &r->m[i];
	return NULL;
}

/* An optional string for a message. */
static const char *ps_or_none(const char *s)
{
	return s ? s : "none";
}

/* A module's kcare tags agree with its patchset.json entry (docs/kernel-patches.md). */
static int ps_check_module(const struct kc_patchset_patch *p, const struct ps_inspect *in,
			   const char *q, struct kc_err *err)
{
	char v[PS_QUOTE_MAX + 8];

	if (strcmp(p->id, in->id))
		return kc_err_set(err, -EBADMSG,
				  "patchset: member '%s': the module's kcare_id is %s, %s says %s",
				  q, in->id, KC_PATCHSET_JSON, p->id);
	if (p->level != in->level)
		return kc_err_set(
		    err, -EBADMSG,
		    "patchset: member '%s': the module's kcare_level is %u, %s says %u", q,
		    in->level, KC_PATCHSET_JSON, p->level);
	if (strcmp(p->build_id, in->build_id))
		return kc_err_set(
		    err, -EBADMSG,
		    "patchset: member '%s': the module is for build-id %s, %s says %s", q,
		    in->build_id, KC_PATCHSET_JSON, p->build_id);
	if (!p->kernel_id != !in->kernel_id ||
	    (p->kernel_id && strcmp(p->kernel_id, in->kernel_id)))
		return kc_err_set(err, -EBADMSG,
				  "patchset: member '%s': the module's kcare_kernel_id is %s, %s "
				  "says %s",
				  q, ps_or_none(in->kernel_id), KC_PATCHSET_JSON,
				  ps_or_none(p->kernel_id));
	if (p->release && (!in->release || strcmp(p->release, in->release)))
		return kc_err_set(
		    err, -EBADMSG,
		    "patchset: member '%s': the module's kcare_release is %s, %s says %s", q,
		    ps_or_none(in->release), KC_PATCHSET_JSON, p->release);
	if (p->effective && (!in->effective || strcmp(p->effective, in->effective)))
		return kc_err_set(
		    err, -EBADMSG,
		    "patchset: member '%s': the module's kcare_effective is %s, %s says "
		    "%s",
		    q, ps_or_none(in->effective), KC_PATCHSET_JSON, p->effective);
	if (strcmp(p->target_name, "vmlinux"))
		return kc_err_set(err, -EBADMSG,
				  "patchset: member '%s': target name '%s' (a module's is vmlinux)",
				  q, ps_quote(p->target_name, v, sizeof(v)));
	return 0;
}

/* The member agrees with its patchset.json entry. */
static int ps_check_identity(const struct kc_patchset_patch *p, const struct ps_inspect *in,
			     const char *q, struct kc_err *err)
{
	if (p->kind == KC_PATCHSET_MODULE)
		return ps_check_module(p, in, q, err);
	if (strcmp(p->build_id, in->build_id))
		return kc_err_set(err, -EBADMSG,
				  "patchset: member '%s': patch is for build-id %s, patchset.json "
				  "says %s",
				  q, in->build_id, p->build_id);
	if (strcmp(p->target_name, in->target_name))
		return kc_err_set(err, -EBADMSG,
				  "patchset: member '%s': target name differs from patchset.json",
				  q);
	if (strcmp(p->id, in->id))
		return kc_err_set(err, -EBADMSG,
				  "patchset: member '%s': patch id differs from patchset.json", q);
	if (p->level != in->level)
		return kc_err_set(err, -EBADMSG,
				  "patchset: member '%s': patch level %u, patchset.json says %u", q,
				  in->level, p->level);
	return 0;
}

/* Every rule that links patchset.json to the members. */
static int ps_check(struct ps_reader *r, struct kc_patchset *ps, struct kc_err *err)
{
	struct ps_member *jm = ps_find(r, KC_PATCHSET_JSON);
	const struct kc_patchset_meta *meta;
	char q[PS_QUOTE_MAX + 8], hex[KC_PATCHSET_SHA256_HEX + 1];
	int ret;

	if (!jm)
		return kc_err_set(err, -EBADMSG, "patchset: no %s in the archive",
				  KC_PATCHSET_JSON);
	ret = kc_patchset_meta_parse(jm->data, jm->len, &ps->meta, err);
	if (ret < 0)
		return err ? kc_err_prefix(err, "patchset: %s", KC_PATCHSET_JSON) : ret;
	jm->used = 1;
	meta = ps->meta;
	ps->data = calloc(meta->npatches, sizeof(*ps->data));
	if (!ps->data)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < meta->npatches; i++) {
		struct ps_member *m = ps_find(r, meta->patches[i].file);

		if (!m)
			return kc_err_set(
			    err, -EBADMSG,
			    "patchset: member '%s': listed in %s but not in the archive",
			    ps_quote(meta->patches[i].file, q, sizeof(q)), KC_PATCHSET_JSON);
		m->used = 1;
	}
	for (size_t i = 0; i < r->n; i++)
		if (!r->m[i].is_dir && !r->m[i].used)
			return kc_err_set(err, -EBADMSG, "patchset: member '%s': not listed in %s",
					  ps_quote(r->m[i].name, q, sizeof(q)), KC_PATCHSET_JSON);
	for (size_t i = 0; i < meta->npatches; i++) {
		const struct kc_patchset_patch *p = &meta->patches[i];
		struct ps_member *m = ps_find(r, p->file);
		struct ps_inspect in;

		ps_quote(p->file, q, sizeof(q));
		if (m->len != p->length)
			return kc_err_set(err, -EBADMSG,
					  "patchset: member '%s': %zu bytes, %s says %llu", q,
					  m->len, KC_PATCHSET_JSON, (unsigned long long)p->length);
		ret = ps_sha256_hex(m->data, m->len, hex, err);
		if (ret < 0)
			return ret;
		if (strcmp(hex, p->sha256))
			return kc_err_set(err, -EBADMSG,
					  "patchset: member '%s': sha256 differs from %s", q,
					  KC_PATCHSET_JSON);
		ret = ps_inspect(p->kind, m->data, m->len, &in, err);
		if (ret < 0)
			return err ? kc_err_prefix(err, "patchset: member '%s'", q) : ret;
		ret = ps_check_identity(p, &in, q, err);
		ps_inspect_release(&in);
		if (ret < 0)
			return ret;
	}
	/* all good: the data moves from the members to the patchset */
	for (size_t i = 0; i < meta->npatches; i++) {
		struct ps_member *m = ps_find(r, meta->patches[i].file);

		ps->data[i] = m->data;
		m->data = NULL;
	}
	ps->json = jm->data;
	ps->json_len = jm->len;
	jm->data = NULL;
	return 0;
}

/* Creates @name in @dfd with @data; refuses to replace anything. */
static int ps_write_new(int dfd, const char *name, const void *data, size_t len)
{
	const uint8_t *p = data;
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int ret = 0;

	if (fd < 0)
		return -errno;
	while (len && !ret) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno != EINTR)
			ret = -errno;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret < 0)
		unlinkat(dfd, name, 0);
	return ret;
}

/*
 * Writes the checked files into @dir: the patches first, patchset.json
 * last, so a reader of the directory that sees patchset.json sees all.
 * On failure, removes what it created.
 */
static int ps_extract(struct kc_patchset *ps, const char *dir, struct kc_err *err)
{
	const struct kc_patchset_meta *meta = ps->meta;
	int dfd, pfd = -1, made_dir = 0, made_json = 0, ret = 0;
	size_t done = 0; /* patch files this call created */

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kc_err_set(err, -errno, "patchset: cannot open directory '%s': %s", dir,
				  strerror(errno));
	if (mkdirat(dfd, KC_PATCHSET_DIR, 0755) == 0)
		made_dir = 1;
	else if (errno != EEXIST)
		ret = -errno;
	if (!ret) {
		pfd = openat(dfd, KC_PATCHSET_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (pfd < 0)
			ret = -errno;
	}
	if (!ret) {
		ps->paths = calloc(meta->npatches, sizeof(*ps->paths));
		if (!ps->paths)
			ret = -ENOMEM;
	}
	while (!ret && done < meta->npatches) {
		const struct kc_patchset_patch *p = &meta->patches[done];

		if (asprintf(&ps->paths[done], "%s/%s", dir, p->file) < 0) {
			ps->paths[done] = NULL;
			ret = -ENOMEM;
			break;
		}
		ret =
		    ps_write_new(pfd, p->file + sizeof(KC_PATCHSET_DIR), ps->data[done], p->length);
		if (!ret)
			done++;
	}
	if (!ret) {
		ret = ps_write_new(dfd, KC_PATCHSET_JSON, ps->json, ps->json_len);
		made_json = !ret;
	}
	if (!ret && (fsync(pfd) < 0 || fsync(dfd) < 0))
		ret = -errno;
	if (ret < 0) {
		kc_err_set(err, ret, "patchset: cannot extract into '%s': %s", dir, strerror(-ret));
		if (made_json)
			unlinkat(dfd, KC_PATCHSET_JSON, 0);
		for (size_t i = 0; i < done; i++)
			unlinkat(pfd, meta->patches[i].file + sizeof(KC_PATCHSET_DIR), 0);
		for (size_t i = 0; ps->paths && i < meta->npatches; i++)
			free(ps->paths[i]);
		free(ps->paths);
		ps->paths = NULL;
		if (made_dir)
			unlinkat(dfd, KC_PATCHSET_DIR, AT_REMOVEDIR);
	}
	if (pfd >= 0)
		close(pfd);
	close(dfd);
	return ret;
}

static void ps_reader_release(struct ps_reader *r)
{
	if (r->tar)
		archive_read_free(r->tar);
	if (r->src.raw)
		archive_read_free(r->src.raw);
	for (size_t i = 0; i < r->n; i++) {
		free(r->m[i].name);
		free(r->m[i].data);
	}
	free(r->m);
}

/* Makes the decompressing reader; the caller attaches the input. */
static int ps_reader_init(struct ps_reader *r, const struct kc_patchset_limits *limits,
			  struct kc_err *err)
{
	memset(r, 0, sizeof(*r));
	ps_limits(limits, &r->lim);
	r->src.raw = archive_read_new();
	if (!r->src.raw)
		return kc_err_set(err, -ENOMEM, "out of memory");
	/* ARCHIVE_WARN here means an external program would run: refuse that too */
	if (archive_read_support_format_raw(r->src.raw) != ARCHIVE_OK ||
	    archive_read_support_filter_bzip2(r->src.raw) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(r->src.raw) != ARCHIVE_OK ||
	    archive_read_support_filter_xz(r->src.raw) != ARCHIVE_OK)
		return kc_err_set(err, -ENOSYS,
				  "patchset: libarchive lacks built-in bzip2, gzip or xz");
	return 0;
}

static int ps_finish(struct ps_reader *r, int opened, const char *extract_dir,
		     struct kc_patchset **out, struct kc_err *err)
{
	struct kc_patchset *ps = calloc(1, sizeof(*ps));
	int ret;

	if (!ps)
		return kc_err_set(err, -ENOMEM, "out of memory");
	ret = ps_open_pipeline(r, opened, err);
	if (!ret)
		ret = ps_read_all(r, err);
	if (!ret)
		ret = ps_check(r, ps, err);
	if (!ret && extract_dir)
		ret = ps_extract(ps, extract_dir, err);
	if (ret < 0) {
		kc_patchset_free(ps);
		return ret;
	}
	*out = ps;
	return 0;
}

int kc_patchset_open_mem(const void *buf, size_t len, const struct kc_patchset_limits *limits,
			 const char *extract_dir, struct kc_patchset **out, struct kc_err *err)
{
	struct ps_reader *r = malloc(sizeof(*r));
	int ret;

	*out = NULL;
	if (!r)
		return kc_err_set(err, -ENOMEM, "out of memory");
	ret = ps_reader_init(r, limits, err);
	if (!ret)
		ret = ps_finish(r, archive_read_open_memory(r->src.raw, buf, len), extract_dir, out,
				err);
	ps_reader_release(r);
	free(r);
	return ret;
}

int kc_patchset_open(const char *path, const struct kc_patchset_limits *limits,
		     const char *extract_dir, struct kc_patchset **out, struct kc_err *err)
{
	struct ps_reader *r = NULL;
	struct stat st;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kc_err_set(err, -errno, "patchset: cannot open '%s': %s", path,
				  strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = kc_err_set(err, -EINVAL, "patchset: '%s' is not a regular file", path);
		goto out;
	}
	r = malloc(sizeof(*r));
	if (!r) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	ret = ps_reader_init(r, limits, err);
	if (!ret)
		ret = ps_finish(r, archive_read_open_fd(r->src.raw, fd, PS_CHUNK), extract_dir, out,
				err);
	ps_reader_release(r);
out:
	free(r);
	close(fd);
	return ret;
}

const struct kc_patchset_meta *kc_patchset_meta(const struct kc_patchset *ps)
{
	return ps->meta;
}

const void *kc_patchset_patch_data(const struct kc_patchset *ps, size_t i, size_t *len)
{
	if (i >= ps->meta->npatches)
		return NULL;
	if (len)
		*len = ps->meta->patches[i].length;
	return ps->data[i];
}

const char *kc_patchset_patch_path(const struct kc_patchset *ps, size_t i)
{
	if (!ps->paths || i >= ps->meta->npatches)
		return NULL;
	return ps->paths[i];
}

const void *kc_patchset_json(const struct kc_patchset *ps, size_t *len)
{
	if (len)
		*len = ps->json_len;
	return ps->json;
}

void kc_patchset_free(struct kc_patchset *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; ps->meta && i < ps->meta->npatches; i++) {
		if (ps->data)
			free(ps->data[i]);
		if (ps->paths)
			free(ps->paths[i]);
	}
	free(ps->data);
	free(ps->paths);
	free(ps->json);
	kc_patchset_meta_free(ps->meta);
	free(ps);
}
