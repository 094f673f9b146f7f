// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Patchsets: names and times, the patchset.json codec, the writer's
 * refusals, writer -> reader round trips in every compression, extraction
 * into a directory, and one archive crafted with libarchive's writer per
 * refusal of the reader (traversal, links, devices, sizes, bombs, extra or
 * missing files, hashes, bad compression, bad JSON, wrong product).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "kcare/patch.h"
#include "kcare/patchset.h"
#include "lib/patchfile.h"
#include "kmod-fixture.h"

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

/* A valid user patch for a target whose build-id is 20 bytes of @seed. */
static void make_user(const char *id, uint32_t level, uint8_t seed, const char *target,
		      uint8_t **buf, size_t *len)
{
	struct kc_patch *p = calloc(1, sizeof(*p));
	struct kc_err err = KC_ERR_INIT;

	assert_non_null(p);
	p->id = xstrdup(id);
	p->level = level;
	p->description = xstrdup("fix of the week");
	p->ncves = 1;
	p->cves = calloc(1, sizeof(char *));
	p->cves[0] = xstrdup("CVE-2024-1234");
	p->target_name = xstrdup(target);
	p->target_path = xstrdup("");
	p->build_id.len = 20;
	memset(p->build_id.bytes, seed, 20);
	p->created = 1700000000;
	p->machine = kc_patch_host_machine();
	p->text_size = 0x20;
	p->rodata_off = 0x1000;
	p->data_off = 0x1000;
	p->bss_off = 0x1000;
	p->image_size = 0x1000;
	p->image = calloc(1, p->image_size);
	memset(p->image, 0x90, p->text_size);
	p->nfuncs = 1;
	p->funcs = calloc(1, sizeof(*p->funcs));
	p->funcs[0] = (struct kc_patch_func){xstrdup("foo"), 0x1130, 40, 0, 0x20, 5, {0}};
	memcpy(p->funcs[0].orig, "\xf3\x0f\x1e\xfa\x55", 5);
	if (kc_patch_serialize(p, NULL, 0, buf, len, &err) < 0)
		fail_msg("serialize: %s", err.msg);
	kc_patch_free(p);
}

static const int64_t released = 1629288000; /* 2021-08-18T12:00:00Z */

/* A valid qemu patchset of two user patches (targets 0x11.. and 0x22..). */
static struct kc_patchset_writer *good_writer(void)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_writer *w;
	struct kc_patchset_patch_opts o = {0};
	uint8_t *b;
	size_t n;

	if (kc_patchset_writer_new("U20210818_01-qemu", KC_PATCHSET_QEMU, released, "two fixes", &w,
				   &err) < 0)
		fail_msg("new: %s", err.msg);
	make_user("fix-a", 2, 0x11, "qemu-system-x86_64", &b, &n);
	o.kpatch[KC_KPATCH_NAME] = "qemu/fix-a.patch";
	o.kpatch[KC_KPATCH_CVE] = "CVE-2024-1234";
	o.kpatch[KC_KPATCH_CVSS] = "7.5";
	o.kpatch[KC_KPATCH_PATCH_URL] = "https://example.org/fix-a";
	if (kc_patchset_writer_add(w, "fix-a.kpatch", b, n, &o, &err) < 0)
		fail_msg("add a: %s", err.msg);
	free(b);
	make_user("fix-b", 1, 0x22, "libc.so.6", &b, &n);
	if (kc_patchset_writer_add(w, "fix-b.kpatch", b, n, NULL, &err) < 0)
		fail_msg("add b: %s", err.msg);
	free(b);
	return w;
}

static void good_archive(enum kc_patchset_compression c, uint8_t **buf, size_t *len)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_writer *w = good_writer();

	if (kc_patchset_writer_write_mem(w, c, (void **)buf, len, &err) < 0)
		fail_msg("write: %s", err.msg);
	kc_patchset_writer_free(w);
}

/* The patchset.json of good_writer(), for crafted archives. */
static char *good_json(size_t *len)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_writer *w = good_writer();
	char *json;

	if (kc_patchset_meta_encode(kc_patchset_writer_meta(w), &json, len, &err) < 0)
		fail_msg("encode: %s", err.msg);
	kc_patchset_writer_free(w);
	return json;
}

/* Replaces the first @from in @s (malloc'd) by @to; fails if absent. */
static char *replace(char *s, const char *from, const char *to)
{
	char *at = strstr(s, from), *r;

	if (!at)
		fail_msg("'%s' not found", from);
	r = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	assert_non_null(r);
	memcpy(r, s, (size_t)(at - s));
	strcpy(r + (at - s), to);
	strcat(r, at + strlen(from));
	free(s);
	return r;
}

/* One member of a crafted archive. */
struct mem {
	const char *name;
	int type; /* AE_IFREG (0 means that too), AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO */
	const void *data;
	size_t len;
	const char *link;     /* symlink target */
	const char *hardlink; /* hard link target */
	uint64_t zeros;	      /* this many zero bytes as data instead of @data */
};

static void craft(const struct mem *m, size_t n, char filter, uint8_t **out, size_t *outlen)
{
	struct archive *a = archive_write_new();
	size_t cap = 1 << 20;
	static uint8_t zeros[1 << 20];
	int r;

	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	if (filter == 'b')
		r = archive_write_add_filter_bzip2(a);
	else if (filter == 'g')
		r = archive_write_add_filter_gzip(a);
	else
		r = archive_write_add_filter_none(a);
	assert_int_equal(r, ARCHIVE_OK);
	archive_write_set_bytes_in_last_block(a, 1);
	for (;;) {
		*out = malloc(cap);
		assert_non_null(*out);
		assert_int_equal(archive_write_open_memory(a, *out, cap, outlen), ARCHIVE_OK);
		break;
	}
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		unsigned type = m[i].type ? (unsigned)m[i].type : AE_IFREG;

		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, type);
		archive_entry_set_perm(e, 0644);
		if (m[i].link)
			archive_entry_set_symlink(e, m[i].link);
		if (m[i].hardlink)
			archive_entry_set_hardlink(e, m[i].hardlink);
		if (type == AE_IFCHR)
			archive_entry_set_rdev(e, makedev(1, 3));
		if (type == AE_IFREG && !m[i].hardlink)
			archive_entry_set_size(e, (la_int64_t)(m[i].zeros ? m[i].zeros : m[i].len));
		else
			archive_entry_set_size(e, 0);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].zeros)
			for (uint64_t left = m[i].zeros; left;) {
				size_t k = left > sizeof(zeros) ? sizeof(zeros) : (size_t)left;

				assert_int_equal(archive_write_data(a, zeros, k), (la_ssize_t)k);
				left -= k;
			}
		else if (m[i].len)
			assert_int_equal(archive_write_data(a, m[i].data, m[i].len),
					 (la_ssize_t)m[i].len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* The members of the good archive (json possibly edited), plus @extra. */
static void craft_good(const char *json, size_t jlen, const struct mem *extra, size_t nextra,
		       char filter, uint8_t **out, size_t *outlen)
{
	uint8_t *a, *b;
	size_t alen, blen;
	struct mem m[8];
	size_t n = 0;

	make_user("fix-a", 2, 0x11, "qemu-system-x86_64", &a, &alen);
	make_user("fix-b", 1, 0x22, "libc.so.6", &b, &blen);
	if (json)
		m[n++] = (struct mem){.name = "patchset.json", .data = json, .len = jlen};
	m[n++] = (struct mem){.name = "patches/fix-a.kpatch", .data = a, .len = alen};
	m[n++] = (struct mem){.name = "patches/fix-b.kpatch", .data = b, .len = blen};
	for (size_t i = 0; i < nextra && n < 8; i++)
		m[n++] = extra[i];
	craft(m, n, filter, out, outlen);
	free(a);
	free(b);
}

/* Opening @buf must fail with @code and a message containing @msg. */
static void expect_refused(const uint8_t *buf, size_t len, const struct kc_patchset_limits *lim,
			   int code, const char *msg)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset *ps = (struct kc_patchset *)1;
	int ret = kc_patchset_open_mem(buf, len, lim, NULL, &ps, &err);

	if (ret != code || !strstr(err.msg, msg))
		fail_msg("got %d '%s', expected %d '%s'", ret, err.msg, code, msg);
	assert_null(ps);
	assert_null(strchr(err.msg, '\n'));
}

/* The good members plus @extra must be refused. */
static void refuse_extra(const struct mem *extra, size_t n, int code, const char *msg)
{
	size_t jlen;
	char *json = good_json(&jlen);
	uint8_t *buf;
	size_t len;

	craft_good(json, jlen, extra, n, 'b', &buf, &len);
	expect_refused(buf, len, NULL, code, msg);
	free(buf);
	free(json);
}

/* The good members with patchset.json edited (@from -> @to) must be refused. */
static void refuse_json_edit(const char *from, const char *to, int code, const char *msg)
{
	size_t jlen;
	char *json = replace(good_json(&jlen), from, to);
	uint8_t *buf;
	size_t len;

	craft_good(json, strlen(json), NULL, 0, 'g', &buf, &len);
	expect_refused(buf, len, NULL, code, msg);
	free(buf);
	free(json);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_patchset__names(void **state)
{
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	assert_int_equal(kc_patchset_check_name("K20260115_01", KC_PATCHSET_KERNEL, &err), 0);
	assert_int_equal(kc_patchset_check_name("U20260115_01", KC_PATCHSET_LIBS, &err), 0);
	assert_int_equal(kc_patchset_check_name("U20210818_01-qemu", KC_PATCHSET_QEMU, &err), 0);
	assert_int_equal(kc_patchset_check_name("U20240229_99-db", KC_PATCHSET_DB, &err), 0);
	assert_int_equal(kc_patchset_check_name("U20210818_01", KC_PATCHSET_QEMU, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "needs the suffix -qemu"));
	assert_int_equal(kc_patchset_check_name("U20210818_01-qemu", KC_PATCHSET_LIBS, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "suffix -qemu is for product qemu, not libs"));
	assert_int_equal(kc_patchset_check_name("U20210818_01-db", KC_PATCHSET_QEMU, &err),
			 -EINVAL);
	assert_int_equal(kc_patchset_check_name("U20260115_01", KC_PATCHSET_KERNEL, &err), -EINVAL);
	assert_int_equal(kc_patchset_check_name("K20260115_01", KC_PATCHSET_LIBS, &err), -EINVAL);
	assert_int_equal(kc_patchset_check_name("K20230229_01", KC_PATCHSET_KERNEL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is not a date"));
	assert_int_equal(kc_patchset_check_name("K20261301_01", KC_PATCHSET_KERNEL, &err), -EINVAL);
	assert_int_equal(kc_patchset_check_name("K20260115_00", KC_PATCHSET_KERNEL, &err), -EINVAL);
	assert_int_equal(kc_patchset_check_name("K20260115_1", KC_PATCHSET_KERNEL, &err), -EINVAL);
	assert_int_equal(kc_patchset_check_name("K20260115_01x", KC_PATCHSET_KERNEL, &err),
			 -EINVAL);
	assert_int_equal(kc_patchset_check_name("", KC_PATCHSET_KERNEL, &err), -EINVAL);
	assert_int_equal(kc_patchset_check_name("K2026", KC_PATCHSET_KERNEL, &err), -EINVAL);
}

static void test_patchset__products_and_times(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	enum kc_patchset_product p;
	char buf[KC_PATCHSET_TIME_LEN + 1];
	int64_t t;

	(void)state;
	assert_int_equal(kc_patchset_product_parse("qemu", &p), 0);
	assert_int_equal(p, KC_PATCHSET_QEMU);
	assert_string_equal(kc_patchset_product_name(KC_PATCHSET_DB), "db");
	assert_int_equal(kc_patchset_product_parse("QEMU", &p), -EINVAL);
	assert_null(kc_patchset_product_name(0));
	assert_string_equal(kc_patchset_kpatch_key(KC_KPATCH_CVE_URL), "kpatch-cve-url");

	assert_int_equal(kc_patchset_time_parse("2021-08-18T12:00:00Z", &t, &err), 0);
	assert_int_equal(t, released);
	assert_string_equal(kc_patchset_time_format(t, buf, sizeof(buf)), "2021-08-18T12:00:00Z");
	assert_int_equal(kc_patchset_time_parse("2021-08-18", &t, &err), 0);
	assert_int_equal(t, released - 12 * 3600);
	assert_int_equal(kc_patchset_time_parse("2021-08-18T14:30+02:30", &t, &err), 0);
	assert_int_equal(t, released);
	assert_int_equal(kc_patchset_time_parse("2021-08-18T07:00:00-05:00", &t, &err), 0);
	assert_int_equal(t, released);
	assert_int_equal(kc_patchset_time_parse("2024-02-29T23:59:59Z", &t, &err), 0);
	assert_int_equal(t, 1709251199);
	assert_int_equal(kc_patchset_time_parse("1970-01-01T00:00:00Z", &t, &err), 0);
	assert_int_equal(t, 0);
	assert_int_equal(kc_patchset_time_parse("2021-08-18T12:00:00", &t, &err), -EINVAL);
	assert_int_equal(kc_patchset_time_parse("2023-02-29", &t, &err), -EINVAL);
	assert_int_equal(kc_patchset_time_parse("2021-08-18T24:00Z", &t, &err), -EINVAL);
	assert_int_equal(kc_patchset_time_parse("2021-8-18", &t, &err), -EINVAL);
	assert_int_equal(kc_patchset_time_parse("2021-08-18Z", &t, &err), -EINVAL);
	assert_int_equal(kc_patchset_time_parse("", &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bad time"));
}

static void test_patchset__round_trip(void **state)
{
	static const enum kc_patchset_compression cs[] = {KC_PATCHSET_BZIP2, KC_PATCHSET_GZIP,
							  KC_PATCHSET_XZ, KC_PATCHSET_PLAIN};
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
		struct kc_patchset *ps;
		const struct kc_patchset_meta *m;
		const struct kc_patchset_patch *a, *b;
		uint8_t *buf, *ua;
		size_t len, ualen, dlen, jlen;
		char *json;
		const void *d;

		good_archive(cs[c], &buf, &len);
		if (cs[c] == KC_PATCHSET_BZIP2)
			assert_memory_equal(buf, "BZh", 3);
		if (kc_patchset_open_mem(buf, len, NULL, NULL, &ps, &err) < 0)
			fail_msg("open (compression %d): %s", (int)cs[c], err.msg);
		m = kc_patchset_meta(ps);
		assert_string_equal(m->name, "U20210818_01-qemu");
		assert_int_equal(m->product, KC_PATCHSET_QEMU);
		assert_int_equal(m->released, released);
		assert_string_equal(m->description, "two fixes");
		assert_int_equal(m->npatches, 2);
		a = &m->patches[0];
		b = &m->patches[1];
		assert_string_equal(a->file, "patches/fix-a.kpatch");
		assert_int_equal(a->kind, KC_PATCHSET_USER);
		assert_string_equal(a->build_id, "1111111111111111111111111111111111111111");
		assert_null(a->kernel_id);
		assert_string_equal(a->target_name, "qemu-system-x86_64");
		assert_string_equal(a->id, "fix-a");
		assert_int_equal(a->level, 2);
		assert_int_equal(a->ncves, 1);
		assert_string_equal(a->cves[0], "CVE-2024-1234");
		assert_string_equal(a->description, "fix of the week");
		assert_string_equal(a->kpatch[KC_KPATCH_NAME], "qemu/fix-a.patch");
		assert_string_equal(a->kpatch[KC_KPATCH_CVSS], "7.5");
		assert_null(a->kpatch[KC_KPATCH_DESCRIPTION]);
		assert_string_equal(b->target_name, "libc.so.6");
		assert_null(b->kpatch[KC_KPATCH_NAME]);
		make_user("fix-a", 2, 0x11, "qemu-system-x86_64", &ua, &ualen);
		d = kc_patchset_patch_data(ps, 0, &dlen);
		assert_int_equal(dlen, ualen);
		assert_int_equal(a->length, ualen);
		assert_memory_equal(d, ua, ualen);
		assert_null(kc_patchset_patch_data(ps, 2, &dlen));
		assert_null(kc_patchset_patch_path(ps, 0));
		json = (char *)kc_patchset_json(ps, &jlen);
		assert_true(jlen > 0 && json[jlen - 1] == '\n');
		free(ua);
		free(buf);
		kc_patchset_free(ps);
	}
}

/* Same input, same bytes: fixed times, owners, order; no gzip time stamp. */
static void test_patchset__reproducible(void **state)
{
	uint8_t *a, *b;
	size_t alen, blen;

	(void)state;
	good_archive(KC_PATCHSET_BZIP2, &a, &alen);
	good_archive(KC_PATCHSET_BZIP2, &b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
	good_archive(KC_PATCHSET_GZIP, &a, &alen);
	sleep(1);
	good_archive(KC_PATCHSET_GZIP, &b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
}

#define KBID1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KBID2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define KKID1 "0123456789abcdef0123456789abcdef01234567"

/* @json with @from replaced by @to, packed with module @mod as patches/m.ko, must be refused. */
static void kernel_refused(const char *json, const char *from, const char *to, const uint8_t *mod,
			   size_t modlen, const char *want)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset *ps = NULL;
	char *edit = replace(xstrdup(json), from, to);
	struct mem m[2] = {{.name = "patchset.json", .data = edit, .len = strlen(edit)},
			   {.name = "patches/m.ko", .data = mod, .len = modlen}};
	uint8_t *buf;
	size_t len;

	craft(m, 2, 'b', &buf, &len);
	assert_int_equal(kc_patchset_open_mem(buf, len, NULL, NULL, &ps, &err), -EBADMSG);
	assert_null(ps);
	if (!strstr(err.msg, want))
		fail_msg("'%s' lacks '%s'", err.msg, want);
	free(buf);
	free(edit);
}

static void test_patchset__kernel(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_writer *w;
	struct kc_patchset_patch_opts o = {0};
	struct kc_patchset *ps;
	const struct kc_patchset_meta *m;
	const char *cves[] = {"CVE-2026-0001"};
	uint8_t *mod, *mod2, *mod1b, *user, *buf;
	size_t modlen, mod2len, mod1blen, userlen, len, jlen;
	char *json;

	(void)state;
	make_module("debian-6.1.0-57", 1, KBID1, KKID1, &mod, &modlen);
	make_module("debian-6.1.0-57", 2, KBID1, KKID1, &mod2, &mod2len);
	make_module("debian-6.1.0-57", 1, KBID2, NULL, &mod1b, &mod1blen);
	make_user("fix-a", 1, 0x11, "libc.so.6", &user, &userlen);
	assert_int_equal(
	    kc_patchset_writer_new("K20260115_01", KC_PATCHSET_KERNEL, released, NULL, &w, &err),
	    0);
	/* what the options say must be what the module says */
	o.level = 3;
	assert_int_equal(kc_patchset_writer_add(w, "m1.ko", mod, modlen, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "the module's kcare_level is 1"));
	o.level = 0;
	o.kernel_id = "1123456789abcdef0123456789abcdef01234567";
	assert_int_equal(kc_patchset_writer_add(w, "m1.ko", mod, modlen, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "kcare_kernel_id"));
	o.kernel_id = "0123456789ABCDEF0123456789abcdef01234567";
	o.id = "debian-6.1.0-58";
	assert_int_equal(kc_patchset_writer_add(w, "m1.ko", mod, modlen, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "kcare_id is debian-6.1.0-57"));
	o.id = NULL;
	o.kpatch[KC_KPATCH_NAME] = "6.1/fix1.patch";
	o.description = "first fix";
	o.cves = cves;
	o.ncves = 1;
	assert_int_equal(kc_patchset_writer_add(w, "m1.ko", mod, modlen, &o, &err), 0);
	/* a userspace patch in a kernel patchset */
	memset(&o, 0, sizeof(o));
	assert_int_equal(kc_patchset_writer_add(w, "user.kpatch", user, userlen, &o, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "a userspace patch, not a kernel module"));
	/* a second level of the series for the same kernel belongs in a later patchset */
	assert_int_equal(kc_patchset_writer_add(w, "m2.ko", mod2, mod2len, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "same target and id"));
	/* the same series for another kernel: one patchset carries both */
	assert_int_equal(kc_patchset_writer_add(w, "m1b.ko", mod1b, mod1blen, &o, &err), 0);
	assert_int_equal(
	    kc_patchset_writer_write_mem(w, KC_PATCHSET_BZIP2, (void **)&buf, &len, &err), 0);
	assert_int_equal(kc_patchset_meta_encode(kc_patchset_writer_meta(w), &json, &jlen, &err),
			 0);
	kc_patchset_writer_free(w);
	if (kc_patchset_open_mem(buf, len, NULL, NULL, &ps, &err) < 0)
		fail_msg("open: %s", err.msg);
	free(buf);
	m = kc_patchset_meta(ps);
	assert_int_equal(m->npatches, 2);
	assert_int_equal(m->patches[0].kind, KC_PATCHSET_MODULE);
	assert_string_equal(m->patches[0].id, "debian-6.1.0-57");
	assert_int_equal(m->patches[0].level, 1);
	assert_string_equal(m->patches[0].build_id, KBID1);
	assert_string_equal(m->patches[0].kernel_id, KKID1);
	assert_string_equal(m->patches[0].release, "6.1.0-57-amd64");
	assert_null(m->patches[0].effective); /* kcare_effective= empty */
	assert_string_equal(m->patches[0].target_name, "vmlinux");
	assert_string_equal(m->patches[0].description, "first fix");
	assert_int_equal(m->patches[0].ncves, 1);
	assert_string_equal(m->patches[0].cves[0], "CVE-2026-0001");
	assert_string_equal(m->patches[0].kpatch[KC_KPATCH_NAME], "6.1/fix1.patch");
	assert_string_equal(m->patches[1].build_id, KBID2);
	assert_null(m->patches[1].kernel_id);
	kc_patchset_free(ps);

	/* patchset.json that lies about the module: refused, naming the tag */
	{
		char *one = replace(xstrdup(json), "\"file\": \"patches/m1.ko\"",
				    "\"file\": \"patches/m.ko\"");
		char *cut = strstr(one, "    },\n    {");

		assert_non_null(cut);
		strcpy(cut, "    }\n  ]\n}\n");
		kernel_refused(one, "\"level\": 1", "\"level\": 2", mod, modlen,
			       "kcare_level is 1, patchset.json says 2");
		kernel_refused(one, "\"id\": \"debian-6.1.0-57\"", "\"id\": \"debian-6.1.0-58\"",
			       mod, modlen, "kcare_id is debian-6.1.0-57");
		kernel_refused(one, "\"build_id\": \"a", "\"build_id\": \"c", mod, modlen,
			       "the module is for build-id " KBID1);
		kernel_refused(one, "\"kernel_id\": \"" KKID1 "\",", "", mod, modlen,
			       "kcare_kernel_id is " KKID1 ", patchset.json says none");
		kernel_refused(one, "\"release\": \"6.1.0-57-amd64\"",
			       "\"release\": \"6.1.0-99-amd64\"", mod, modlen, "kcare_release");
		kernel_refused(one, "\"target_name\": \"vmlinux\"", "\"target_name\": \"ext4\"",
			       mod, modlen, "a module's is vmlinux");
		kernel_refused(one, "\"build_id\": \"" KBID1 "\",", "", mod, modlen,
			       "needs the kernel's build_id");
		free(one);
	}
	free(json);

	/* modules in a userspace patchset are named as such */
	assert_int_equal(
	    kc_patchset_writer_new("U20260115_01", KC_PATCHSET_LIBS, released, NULL, &w, &err), 0);
	assert_int_equal(kc_patchset_writer_add(w, "m1.ko", mod, modlen, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "a kernel module, not a userspace patch"));
	kc_patchset_writer_free(w);
	free(mod);
	free(mod2);
	free(mod1b);
	free(user);
}

/* Modules without the kcare tags, or whose tags do not hold together. */
static void test_patchset__kernel_tags(void **state)
{
	static const struct {
		const char *modinfo;
		size_t len;
		const char *want;
	} bad[] = {
#define MI(s) s, sizeof(s)
	    {MI("license=GPL\0name=kpatch_fix"), "not a kcare module"},
	    {MI("license=GPL"), "no name="},
	    {MI("name=kcare_x_1\0kcare_level=1\0kcare_build_id=ab"), "no kcare_id"},
	    {MI("name=kcare_x_1\0kcare_id=x\0kcare_build_id=ab"), "no kcare_level"},
	    {MI("name=kcare_x_1\0kcare_id=x\0kcare_level=1"), "no kcare_build_id"},
	    {MI("name=kcare_x_2\0kcare_id=x\0kcare_level=1\0kcare_build_id=ab"),
	     "make the name kcare_x_1"},
	    {MI("name=kcare_x_1\0kcare_id=x\0kcare_level=01\0kcare_build_id=ab"),
	     "bad kcare_level"},
	    {MI("name=kcare_x_0\0kcare_id=x\0kcare_level=0\0kcare_build_id=ab"), "bad kcare_level"},
	    {MI("name=kcare_x_1\0kcare_id=x y\0kcare_level=1\0kcare_build_id=ab"), "bad kcare_id"},
	    {MI("name=kcare_x_1\0kcare_id=x\0kcare_level=1\0kcare_build_id=AB"), "kcare_build_id"},
	    {MI("name=kcare_x_1\0kcare_id=x\0kcare_level=1\0kcare_build_id=ab\0kcare_kernel_id=ab"),
	     "kcare_kernel_id"},
	    {MI("name=kcare_x_1\0kcare_id=x\0kcare_level=1\0kcare_build_id=ab\0kcare_release=a b"),
	     "kcare_release"},
	    {MI("name=kcare_x_1\0kcare_id=x\0kcare_level=1\0kcare_build_id=ab\0kcare_level=2"),
	     "appears twice"},
#undef MI
	};
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_writer *w;
	char name[64];
	uint8_t *mod;
	size_t len;

	(void)state;
	assert_int_equal(
	    kc_patchset_writer_new("K20260115_01", KC_PATCHSET_KERNEL, released, NULL, &w, &err),
	    0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_module_raw(bad[i].modinfo, bad[i].len, &mod, &len);
		assert_int_equal(kc_patchset_writer_add(w, "m.ko", mod, len, NULL, &err), -EINVAL);
		if (!strstr(err.msg, bad[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].want);
		free(mod);
	}
	assert_int_equal(kc_patchset_writer_meta(w)->npatches, 0);
	/* an empty tag is one kcare-build kmod did not know: absent, not malformed */
	{
		static const char mi[] = "name=kcare_x_1\0kcare_id=x\0kcare_level=1\0"
					 "kcare_build_id=ab\0kcare_kernel_id=\0kcare_release=\0"
					 "kcare_effective=";
		static const char nobid[] = "name=kcare_y_1\0kcare_id=y\0kcare_level=1\0"
					    "kcare_build_id=";

		make_module_raw(mi, sizeof(mi), &mod, &len);
		if (kc_patchset_writer_add(w, "m.ko", mod, len, NULL, &err) < 0)
			fail_msg("empty tags: %s", err.msg);
		assert_null(kc_patchset_writer_meta(w)->patches[0].kernel_id);
		assert_null(kc_patchset_writer_meta(w)->patches[0].release);
		free(mod);
		make_module_raw(nobid, sizeof(nobid), &mod, &len);
		assert_int_equal(kc_patchset_writer_add(w, "n.ko", mod, len, NULL, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "no kcare_build_id"));
		free(mod);
	}
	kc_patchset_writer_free(w);
	/* the module name of the contract */
	assert_int_equal(kc_patchset_module_name("debian-6.1.0-57", 2, name, sizeof(name)), 0);
	assert_string_equal(name, "kcare_debian_6_1_0_57_2");
	assert_int_equal(kc_patchset_module_name("a.b", 4294967295u, name, sizeof(name)), 0);
	assert_string_equal(name, "kcare_a_b_4294967295");
	assert_int_equal(kc_patchset_module_name("012345678901234567890123456789012345678901234567",
						 1, name, sizeof(name)),
			 -ENAMETOOLONG);
	assert_int_equal(kc_patchset_module_name("a b", 1, name, sizeof(name)), -EINVAL);
}

/* Writes @len bytes of @data to @dir/@name. */
static void put_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* A module file and its kcare-build kmod sidecar: what the patchset entry takes from each. */
static void test_patchset__sidecar(void **state)
{
	static const char sidecar[] =
	    "{\"id\": \"debian-6.1.0-57\", \"level\": 2, \"build_id\": \"" KBID1 "\","
	    " \"kernel_id\": \"" KKID1 "\", \"description\": \"\","
	    " \"fixes\": [{\"name\": \"cmdline\", \"description\": \"say patched\","
	    "  \"cves\": [\"CVE-2026-0002\", \"CVE-2026-0001\"], \"cvss\": \"7.8\","
	    "  \"cve_url\": \"https://c/1\", \"patch_url\": \"N/A\"},"
	    " {\"name\": \"ldt\", \"description\": \"ldt fix\", \"cves\": [\"CVE-2026-0001\"],"
	    "  \"cvss\": \"9.1\"}]}";
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_writer *w;
	struct kc_patchset_patch_opts o = {0};
	const struct kc_patchset_patch *p;
	char dir[] = "/tmp/kc-test-sidecar.XXXXXX", path[256], cmd[300];
	uint8_t *mod;
	size_t len;
	char *lie;

	(void)state;
	assert_non_null(mkdtemp(dir));
	make_module("debian-6.1.0-57", 2, KBID1, KKID1, &mod, &len);
	put_file(dir, "kcare_debian_6_1_0_57_2.ko", mod, len);
	put_file(dir, "kcare_debian_6_1_0_57_2.json", sidecar, sizeof(sidecar) - 1);
	snprintf(path, sizeof(path), "%s/kcare_debian_6_1_0_57_2.ko", dir);
	assert_int_equal(
	    kc_patchset_writer_new("K20260115_01", KC_PATCHSET_KERNEL, released, NULL, &w, &err),
	    0);
	o.kpatch[KC_KPATCH_NAME] = "6.1/cmdline.patch"; /* the command line wins */
	if (kc_patchset_writer_add_file(w, path, &o, &err) < 0)
		fail_msg("add: %s", err.msg);
	p = &kc_patchset_writer_meta(w)->patches[0];
	assert_string_equal(p->file, "patches/kcare_debian_6_1_0_57_2-" KBID1 ".ko");
	assert_int_equal(p->level, 2);
	assert_int_equal(p->ncves, 2);
	assert_string_equal(p->cves[0], "CVE-2026-0001");
	assert_string_equal(p->cves[1], "CVE-2026-0002");
	assert_string_equal(p->description, "say patched; ldt fix");
	assert_string_equal(p->kpatch[KC_KPATCH_NAME], "6.1/cmdline.patch");
	assert_string_equal(p->kpatch[KC_KPATCH_CVE], "CVE-2026-0001, CVE-2026-0002");
	assert_string_equal(p->kpatch[KC_KPATCH_CVSS], "9.1");
	assert_string_equal(p->kpatch[KC_KPATCH_CVE_URL], "https://c/1");
	assert_null(p->kpatch[KC_KPATCH_PATCH_URL]);
	kc_patchset_writer_free(w);

	/* a sidecar that disagrees with its module, or is not one, is refused */
	lie = replace(xstrdup(sidecar), "\"level\": 2", "\"level\": 3");
	put_file(dir, "kcare_debian_6_1_0_57_2.json", lie, strlen(lie));
	free(lie);
	assert_int_equal(
	    kc_patchset_writer_new("K20260115_01", KC_PATCHSET_KERNEL, released, NULL, &w, &err),
	    0);
	assert_int_equal(kc_patchset_writer_add_file(w, path, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "the module's kcare_level is 2"));
	lie = replace(xstrdup(sidecar), "\"build_id\": \"a", "\"build_id\": \"b");
	put_file(dir, "kcare_debian_6_1_0_57_2.json", lie, strlen(lie));
	free(lie);
	assert_int_equal(kc_patchset_writer_add_file(w, path, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "kcare_build_id is " KBID1));
	put_file(dir, "kcare_debian_6_1_0_57_2.json", "{\"id\": 1", 9);
	assert_int_equal(kc_patchset_writer_add_file(w, path, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not valid JSON"));
	put_file(dir, "kcare_debian_6_1_0_57_2.json", "{\"id\": \"x\", \"level\": 0}", 24);
	assert_int_equal(kc_patchset_writer_add_file(w, path, NULL, &err), -EINVAL);
	assert_int_equal(kc_patchset_writer_meta(w)->npatches, 0);
	/* without a sidecar, .modinfo alone */
	snprintf(cmd, sizeof(cmd), "%s/kcare_debian_6_1_0_57_2.json", dir);
	assert_int_equal(unlink(cmd), 0);
	if (kc_patchset_writer_add_file(w, path, NULL, &err) < 0)
		fail_msg("add without sidecar: %s", err.msg);
	p = &kc_patchset_writer_meta(w)->patches[0];
	assert_int_equal(p->ncves, 0);
	assert_string_equal(p->description, "");
	assert_string_equal(p->kernel_id, KKID1);
	kc_patchset_writer_free(w);
	free(mod);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_patchset__writer_refusals(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_writer *w;
	struct kc_patchset_patch_opts o = {0};
	uint8_t *a, *a2, *buf;
	size_t alen, a2len, len;

	(void)state;
	assert_int_equal(
	    kc_patchset_writer_new("U20210818_01", KC_PATCHSET_QEMU, released, NULL, &w, &err),
	    -EINVAL);
	assert_null(w);
	assert_int_equal(
	    kc_patchset_writer_new("U20210818_01", KC_PATCHSET_LIBS, released, "bell\a", &w, &err),
	    -EINVAL);
	assert_int_equal(kc_patchset_writer_new("U20210818_01", KC_PATCHSET_LIBS, released,
						"line one\nline two", &w, &err),
			 0);
	/* nothing to write yet */
	assert_int_equal(
	    kc_patchset_writer_write_mem(w, KC_PATCHSET_BZIP2, (void **)&buf, &len, &err), -EINVAL);
	make_user("fix-a", 1, 0x11, "libc.so.6", &a, &alen);
	make_user("fix-a", 2, 0x11, "libc.so.6", &a2, &a2len);
	assert_int_equal(kc_patchset_writer_add(w, "x.kpatch", "not a patch", 11, NULL, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "patch 'x.kpatch': not a valid userspace patch"));
	assert_int_equal(kc_patchset_writer_add(w, "../x.kpatch", a, alen, NULL, &err), -EINVAL);
	assert_int_equal(kc_patchset_writer_add(w, ".hidden", a, alen, NULL, &err), -EINVAL);
	o.kernel_id = "0123456789abcdef0123456789abcdef01234567";
	assert_int_equal(kc_patchset_writer_add(w, "a.kpatch", a, alen, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "for kernel modules"));
	o.kernel_id = NULL;
	o.level = 2;
	assert_int_equal(kc_patchset_writer_add(w, "a.kpatch", a, alen, &o, &err), -EINVAL);
	o.level = 0;
	o.kpatch[KC_KPATCH_DESCRIPTION] = "two\nlines";
	assert_int_equal(kc_patchset_writer_add(w, "a.kpatch", a, alen, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "kpatch-description"));
	o.kpatch[KC_KPATCH_DESCRIPTION] = NULL;
	assert_int_equal(kc_patchset_writer_add(w, "a.kpatch", a, alen, &o, &err), 0);
	assert_int_equal(kc_patchset_writer_add(w, "a.kpatch", a, alen, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "patch 'a.kpatch': the patchset has a file of that name"));
	/* same build-id and id, another level: still the same target+id */
	assert_int_equal(kc_patchset_writer_add(w, "a2.kpatch", a2, a2len, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "same target and id 'fix-a'"));
	assert_int_equal(kc_patchset_writer_meta(w)->npatches, 1);
	assert_int_equal(
	    kc_patchset_writer_write_mem(w, KC_PATCHSET_BZIP2, (void **)&buf, &len, &err), 0);
	free(buf);
	kc_patchset_writer_free(w);
	free(a);
	free(a2);
}

static void test_patchset__json(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_meta *m;
	size_t jlen, jlen2;
	char *json = good_json(&jlen), *again, *edit;

	(void)state;
	if (kc_patchset_meta_parse(json, jlen, &m, &err) < 0)
		fail_msg("parse: %s", err.msg);
	assert_int_equal(kc_patchset_meta_encode(m, &again, &jlen2, &err), 0);
	assert_int_equal(jlen, jlen2);
	assert_memory_equal(json, again, jlen);
	free(again);
	kc_patchset_meta_free(m);

#define JSON_REFUSED(from, to, code, want)                                                         \
	do {                                                                                       \
		edit = replace(xstrdup(json), from, to);                                           \
		m = (struct kc_patchset_meta *)1;                                                  \
		assert_int_equal(kc_patchset_meta_parse(edit, strlen(edit), &m, &err), code);      \
		assert_null(m);                                                                    \
		if (!strstr(err.msg, want))                                                        \
			fail_msg("'%s' lacks '%s'", err.msg, want);                                \
		free(edit);                                                                        \
	} while (0)

	JSON_REFUSED("\"format\": 1", "\"format\": 2", -EPROTONOSUPPORT, "format 2");
	JSON_REFUSED("\"format\": 1", "\"format\": \"1\"", -EBADMSG, "not an integer");
	JSON_REFUSED("\"format\": 1,", "", -EBADMSG, "missing key 'format'");
	JSON_REFUSED("\"format\": 1", "\"format\": 1, \"color\": 3", -EBADMSG,
		     "unknown key 'color'");
	JSON_REFUSED("\"product\": \"qemu\"", "\"product\": \"libs\"", -EBADMSG,
		     "suffix -qemu is for product qemu, not libs");
	JSON_REFUSED("\"product\": \"qemu\"", "\"product\": \"games\"", -EBADMSG,
		     "unknown product 'games'");
	JSON_REFUSED("2021-08-18T12:00:00Z", "2021-08-18T12:00:00+00:00", -EBADMSG,
		     "key 'released'");
	JSON_REFUSED("2021-08-18T12:00:00Z", "2021-08-18", -EBADMSG, "key 'released'");
	JSON_REFUSED("\"length\": ", "\"length\": -", -EBADMSG, "out of range");
	JSON_REFUSED("\"kind\": \"user\"", "\"kind\": \"kernel\"", -EBADMSG,
		     "does not fit product qemu");
	JSON_REFUSED("\"kind\": \"user\"", "\"kind\": \"elf\"", -EBADMSG, "key 'kind'");
	JSON_REFUSED("patches/fix-a.kpatch", "patches/../fix-a.kpatch", -EBADMSG, "bad file name");
	JSON_REFUSED("patches/fix-b.kpatch", "patches/fix-a.kpatch", -EBADMSG, "listed twice");
	JSON_REFUSED("\"id\": \"fix-a\"", "\"id\": \"fix a\"", -EBADMSG, "bad patch id");
	JSON_REFUSED("\"level\": 2", "\"level\": 0", -EBADMSG, "level must be at least 1");
	JSON_REFUSED("\"level\": 2", "\"level\": 2.5", -EBADMSG, "not an integer");
	JSON_REFUSED("\"level\": 2", "\"level\": 2, \"release\": \"6.1.0-57-amd64\"", -EBADMSG,
		     "are for kernel patches");
	JSON_REFUSED("\"level\": 2", "\"level\": 2, \"package\": \"qemu\"", -EBADMSG,
		     "package and package_version go together");
	JSON_REFUSED("\"level\": 2",
		     "\"level\": 2, \"package\": \"qemu\", \"package_version\": \"1:7.2 x\"",
		     -EBADMSG, "package or package_version has a character");
	JSON_REFUSED("\"level\": 2",
		     "\"level\": 2, \"package\": \"-qemu\", \"package_version\": \"1:7.2\"",
		     -EBADMSG, "package or package_version has a character");
	JSON_REFUSED("CVE-2024-1234", "CVE-24-1", -EBADMSG, "bad CVE id");
	JSON_REFUSED("\"cves\": [", "\"cves\": [ 1, ", -EBADMSG, "not a string");
	JSON_REFUSED("\"1111", "\"X111", -EBADMSG, "build_id");
	JSON_REFUSED("\"1111", "\"111", -EBADMSG, "build_id");
	JSON_REFUSED("\"fix of the week\"", "\"fix\\u0000week\"", -EBADMSG, "NUL");
	JSON_REFUSED("\"fix of the week\"", "\"fix\\u0007week\"", -EBADMSG, "description");
	JSON_REFUSED("\"qemu/fix-a.patch\"", "\"qemu/\\nfix\"", -EBADMSG, "kpatch-name");
	JSON_REFUSED("\"patches\": [", "\"patches\": [ ], \"p\": [", -EBADMSG, "unknown key");
	JSON_REFUSED("{", "[", -EBADMSG, "bad JSON");
	JSON_REFUSED("\"two fixes\"", "'two fixes'", -EBADMSG, "bad JSON");
	JSON_REFUSED("\"two fixes\"", "\"two \xff fixes\"", -EBADMSG, "bad JSON");
	JSON_REFUSED("\n}\n", "\n}\n}", -EBADMSG, "data after the document");
	JSON_REFUSED("\n}\n", "\n", -EBADMSG, "unexpected end");

	/* a user patch's package and version survive a round trip */
	edit = replace(xstrdup(json), "\"level\": 2",
		       "\"level\": 2, \"package\": \"qemu-system-x86\", "
		       "\"package_version\": \"1:7.2+dfsg-7~deb12u1\"");
	assert_int_equal(kc_patchset_meta_parse(edit, strlen(edit), &m, &err), 0);
	assert_string_equal(m->patches[0].package, "qemu-system-x86");
	assert_string_equal(m->patches[0].package_version, "1:7.2+dfsg-7~deb12u1");
	assert_int_equal(kc_patchset_meta_encode(m, &again, &jlen2, &err), 0);
	assert_non_null(strstr(again, "\"package_version\": \"1:7.2+dfsg-7~deb12u1\""));
	free(again);
	kc_patchset_meta_free(m);
	free(edit);
	/* "x-" keys are for extensions and ignored */
	edit = replace(xstrdup(json), "\"format\": 1", "\"format\": 1, \"x-note\": [1, {}]");
	assert_int_equal(kc_patchset_meta_parse(edit, strlen(edit), &m, &err), 0);
	kc_patchset_meta_free(m);
	free(edit);
	/* no patches */
	edit = xstrdup("{\"format\": 1, \"name\": \"U20210818_01\", \"product\": \"libs\", "
		       "\"released\": \"2021-08-18T12:00:00Z\", \"description\": \"\", "
		       "\"patches\": []}");
	assert_int_equal(kc_patchset_meta_parse(edit, strlen(edit), &m, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "has no patches"));
	free(edit);
	/* deep nesting stops early */
	edit = calloc(1, 20001);
	memset(edit, '[', 20000);
	assert_int_equal(kc_patchset_meta_parse(edit, 20000, &m, &err), -EBADMSG);
	free(edit);
	free(json);
}

static void test_patchset__extract(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset *ps, *ps2;
	char dir[] = "/tmp/kc-test-patchset.XXXXXX", path[256];
	uint8_t *buf, *file = NULL;
	size_t len, dlen;
	struct stat st;
	const void *d;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	good_archive(KC_PATCHSET_BZIP2, &buf, &len);
	if (kc_patchset_open_mem(buf, len, NULL, dir, &ps, &err) < 0)
		fail_msg("open: %s", err.msg);
	snprintf(path, sizeof(path), "%s/patches/fix-b.kpatch", dir);
	assert_string_equal(kc_patchset_patch_path(ps, 1), path);
	d = kc_patchset_patch_data(ps, 1, &dlen);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((size_t)st.st_size, dlen);
	file = malloc(dlen);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(file, 1, dlen, f), dlen);
	fclose(f);
	assert_memory_equal(file, d, dlen);
	snprintf(path, sizeof(path), "%s/patchset.json", dir);
	assert_int_equal(stat(path, &st), 0);
	/* a second extraction refuses to replace files and leaves the first alone */
	assert_int_equal(kc_patchset_open_mem(buf, len, NULL, dir, &ps2, &err), -EEXIST);
	assert_null(ps2);
	assert_non_null(strstr(err.msg, "cannot extract"));
	snprintf(path, sizeof(path), "%s/patches/fix-a.kpatch", dir);
	assert_int_equal(stat(path, &st), 0);
	/* clean up; a refused archive then stores nothing */
	unlink(path);
	unlink(kc_patchset_patch_path(ps, 1));
	snprintf(path, sizeof(path), "%s/patchset.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/patches", dir);
	assert_int_equal(rmdir(path), 0);
	free(buf);
	{
		size_t jlen;
		char *json = replace(good_json(&jlen), "\"length\": ", "\"length\": 1");

		craft_good(json, strlen(json), NULL, 0, 'b', &buf, &len);
		assert_int_equal(kc_patchset_open_mem(buf, len, NULL, dir, &ps2, &err), -EBADMSG);
		free(json);
	}
	assert_int_equal(rmdir(dir), 0); /* empty: nothing was stored */
	assert_int_equal(kc_patchset_open_mem(buf, len, NULL, "/nonexistent/dir", &ps2, &err),
			 -EBADMSG);
	free(buf);
	kc_patchset_free(ps);
	free(file);
	good_archive(KC_PATCHSET_BZIP2, &buf, &len);
	assert_int_equal(kc_patchset_open_mem(buf, len, NULL, "/nonexistent/dir", &ps2, &err),
			 -ENOENT);
	free(buf);
}

/* An extraction that fails half-way removes what it wrote and nothing else. */
static void test_patchset__extract_rolls_back(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset *ps;
	char dir[] = "/tmp/kc-test-patchset.XXXXXX", path[256];
	uint8_t *buf;
	size_t len;
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/patches", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/patches/fix-b.kpatch", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("someone else's", f);
	fclose(f);
	good_archive(KC_PATCHSET_BZIP2, &buf, &len);
	assert_int_equal(kc_patchset_open_mem(buf, len, NULL, dir, &ps, &err), -EEXIST);
	assert_null(ps);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 14);
	snprintf(path, sizeof(path), "%s/patches/fix-a.kpatch", dir);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/patchset.json", dir);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/patches/fix-b.kpatch", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/patches", dir);
	assert_int_equal(rmdir(path), 0);
	/* patches/ as a symbolic link is not followed */
	assert_int_equal(symlink("/tmp", path), 0);
	assert_int_equal(kc_patchset_open_mem(buf, len, NULL, dir, &ps, &err), -ENOTDIR);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	free(buf);
}

static void test_patchset__file(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_writer *w = good_writer();
	struct kc_patchset *ps;
	char dir[] = "/tmp/kc-test-patchset.XXXXXX", path[256];
	uint64_t size;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/U20210818_01-qemu.tar.bz2", dir);
	assert_int_equal(kc_patchset_writer_write(w, path, KC_PATCHSET_BZIP2, &size, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, size);
	assert_int_equal(st.st_mode & 0777, 0644);
	if (kc_patchset_open(path, NULL, NULL, &ps, &err) < 0)
		fail_msg("open: %s", err.msg);
	assert_int_equal(kc_patchset_meta(ps)->npatches, 2);
	kc_patchset_free(ps);
	/* a directory that does not exist: no file, no temporary file */
	assert_int_equal(
	    kc_patchset_writer_write(w, "/nonexistent/x.tar.bz2", KC_PATCHSET_BZIP2, NULL, &err),
	    -ENOENT);
	assert_int_equal(kc_patchset_open("/nonexistent/x.tar.bz2", NULL, NULL, &ps, &err),
			 -ENOENT);
	assert_int_equal(kc_patchset_open(dir, NULL, NULL, &ps, &err), -EINVAL);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	kc_patchset_writer_free(w);
}

static void test_patchset__refuses_paths_and_types(void **state)
{
	static const uint8_t x[4] = "abc";

	(void)state;
	refuse_extra(&(struct mem){.name = "../x", .data = x, .len = 3}, 1, -EBADMSG,
		     "patchset: member '../x': path escapes the archive");
	refuse_extra(&(struct mem){.name = "patches/../../etc/cron.d/x", .data = x, .len = 3}, 1,
		     -EBADMSG, "path escapes the archive");
	refuse_extra(&(struct mem){.name = "/etc/passwd", .data = x, .len = 3}, 1, -EBADMSG,
		     "member '/etc/passwd': absolute path");
	refuse_extra(&(struct mem){.name = "patches/evil", .type = AE_IFLNK, .link = "/etc/shadow"},
		     1, -EBADMSG, "member 'patches/evil': is a symbolic link");
	refuse_extra(&(struct mem){.name = "patches/hard", .hardlink = "patches/fix-a.kpatch"}, 1,
		     -EBADMSG, "member 'patches/hard': is a hard link");
	refuse_extra(&(struct mem){.name = "patches/null", .type = AE_IFCHR}, 1, -EBADMSG,
		     "is a device");
	refuse_extra(&(struct mem){.name = "patches/fifo", .type = AE_IFIFO}, 1, -EBADMSG,
		     "is a FIFO");
	refuse_extra(&(struct mem){.name = "README", .data = x, .len = 3}, 1, -EBADMSG,
		     "member 'README': unexpected file");
	refuse_extra(&(struct mem){.name = "patches/sub/x", .data = x, .len = 3}, 1, -EBADMSG,
		     "unexpected file");
	refuse_extra(&(struct mem){.name = "docs", .type = AE_IFDIR}, 1, -EBADMSG,
		     "member 'docs/': unexpected directory");
	refuse_extra(&(struct mem){.name = "patches/extra.kpatch", .data = x, .len = 3}, 1,
		     -EBADMSG, "member 'patches/extra.kpatch': not listed in patchset.json");
	refuse_extra(&(struct mem){.name = "./patches//fix-a.kpatch", .data = x, .len = 3}, 1,
		     -EBADMSG, "duplicate of 'patches/fix-a.kpatch'");
	refuse_extra(&(struct mem){.name = "patches/bad\x01name", .data = x, .len = 3}, 1, -EBADMSG,
		     "member 'patches/bad\\x01name'");
}

static void test_patchset__accepts_dot_slash_and_dirs(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset *ps;
	size_t jlen, len;
	char *json = good_json(&jlen);
	uint8_t *a, *b, *buf;
	size_t alen, blen;

	(void)state;
	make_user("fix-a", 2, 0x11, "qemu-system-x86_64", &a, &alen);
	make_user("fix-b", 1, 0x22, "libc.so.6", &b, &blen);
	/* what `tar cjf x.tar.bz2 -C dir .` makes */
	craft((struct mem[]){{.name = "./", .type = AE_IFDIR},
			     {.name = "./patches/", .type = AE_IFDIR},
			     {.name = "./patches/fix-b.kpatch", .data = b, .len = blen},
			     {.name = "./patches/fix-a.kpatch", .data = a, .len = alen},
			     {.name = "./patchset.json", .data = json, .len = jlen}},
	      5, 'n', &buf, &len);
	if (kc_patchset_open_mem(buf, len, NULL, NULL, &ps, &err) < 0)
		fail_msg("open: %s", err.msg);
	kc_patchset_free(ps);
	free(buf);
	free(a);
	free(b);
	free(json);
}

static void test_patchset__refuses_content(void **state)
{
	size_t jlen, len;
	char *json;
	uint8_t *buf;

	(void)state;
	/* no patchset.json */
	craft_good(NULL, 0, NULL, 0, 'b', &buf, &len);
	expect_refused(buf, len, NULL, -EBADMSG, "patchset: no patchset.json in the archive");
	free(buf);
	/* a listed file missing */
	json = good_json(&jlen);
	{
		uint8_t *a;
		size_t alen;

		make_user("fix-a", 2, 0x11, "qemu-system-x86_64", &a, &alen);
		craft((struct mem[]){{.name = "patchset.json", .data = json, .len = jlen},
				     {.name = "patches/fix-a.kpatch", .data = a, .len = alen}},
		      2, 'b', &buf, &len);
		expect_refused(buf, len, NULL, -EBADMSG,
			       "member 'patches/fix-b.kpatch': listed in patchset.json but not in "
			       "the archive");
		free(buf);
		/* same length, other bytes */
		a[alen - 1] ^= 1;
		craft((struct mem[]){{.name = "patchset.json", .data = json, .len = jlen},
				     {.name = "patches/fix-a.kpatch", .data = a, .len = alen},
				     {.name = "patches/fix-b.kpatch", .data = a, .len = alen}},
		      3, 'b', &buf, &len);
		expect_refused(buf, len, NULL, -EBADMSG,
			       "member 'patches/fix-a.kpatch': sha256 differs from patchset.json");
		free(buf);
		free(a);
	}
	/* two patchset.json */
	craft_good(json, jlen, &(struct mem){.name = "./patchset.json", .data = json, .len = jlen},
		   1, 'b', &buf, &len);
	expect_refused(buf, len, NULL, -EBADMSG, "duplicate of 'patchset.json'");
	free(buf);
	free(json);

	refuse_json_edit("\"length\": ", "\"length\": 1", -EBADMSG, "bytes, patchset.json says 1");
	refuse_json_edit("{", "{{", -EBADMSG, "patchset: patchset.json: bad JSON");
	refuse_json_edit("\"product\": \"qemu\"", "\"product\": \"db\"", -EBADMSG,
			 "patchset: patchset.json: patchset name 'U20210818_01-qemu': suffix -qemu "
			 "is for product qemu, not db");
	refuse_json_edit("U20210818_01-qemu", "U20210818_01", -EBADMSG, "needs the suffix -qemu");
}

/*
 * The metadata must agree with the patch inside: patchset.json rewritten
 * with a consistent hash but another build-id, id or level is refused.
 */
static void test_patchset__refuses_identity_mismatch(void **state)
{
	static const struct {
		const char *from, *to, *msg;
	} cases[] = {
	    {"\"1111111111111111111111111111111111111111\"",
	     "\"3333333333333333333333333333333333333333\"",
	     "patch is for build-id 1111111111111111111111111111111111111111"},
	    {"\"id\": \"fix-a\"", "\"id\": \"fix-z\"", "patch id differs"},
	    {"\"level\": 2", "\"level\": 7", "patch level 2, patchset.json says 7"},
	    {"\"qemu-system-x86_64\"", "\"qemu-kvm\"", "target name differs"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refuse_json_edit(cases[i].from, cases[i].to, -EBADMSG, cases[i].msg);
}

/* A listed file that is no patch at all, with the right length and hash. */
static void test_patchset__refuses_invalid_patch(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_meta *m;
	unsigned char h[crypto_hash_sha256_BYTES];
	uint8_t *buf, *a;
	size_t jlen, len, alen;
	char *json = good_json(&jlen), hex[2 * crypto_hash_sha256_BYTES + 1];

	(void)state;
	make_user("fix-a", 2, 0x11, "qemu-system-x86_64", &a, &alen);
	assert_int_equal(kc_patchset_meta_parse(json, jlen, &m, &err), 0);
	a[0x28] ^= 0x40; /* e_shoff: the section headers are elsewhere now */
	crypto_hash_sha256(h, a, alen);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	json = replace(json, m->patches[0].sha256, hex);
	craft_good(json, strlen(json), NULL, 0, 'b', &buf, &len);
	/* craft_good() puts the intact patch in: swap in the broken one by crafting anew */
	free(buf);
	{
		uint8_t *b;
		size_t blen;

		make_user("fix-b", 1, 0x22, "libc.so.6", &b, &blen);
		craft((struct mem[]){{.name = "patchset.json", .data = json, .len = strlen(json)},
				     {.name = "patches/fix-a.kpatch", .data = a, .len = alen},
				     {.name = "patches/fix-b.kpatch", .data = b, .len = blen}},
		      3, 'b', &buf, &len);
		free(b);
	}
	expect_refused(buf, len, NULL, -EBADMSG,
		       "member 'patches/fix-a.kpatch': not a valid userspace patch");
	free(buf);
	kc_patchset_meta_free(m);
	free(a);
	free(json);
}

static void test_patchset__refuses_bad_compression(void **state)
{
	uint8_t *buf, junk[300];
	size_t len;

	(void)state;
	good_archive(KC_PATCHSET_BZIP2, &buf, &len);
	/* every truncation of the compressed stream */
	for (size_t cut = 0; cut < len; cut += (cut < 64 || len - cut < 64) ? 1 : 37) {
		struct kc_err err = KC_ERR_INIT;
		struct kc_patchset *ps;

		if (kc_patchset_open_mem(buf, cut, NULL, NULL, &ps, &err) == 0)
			fail_msg("a bzip2 stream cut at %zu of %zu was accepted", cut, len);
		assert_int_equal(err.code, -EBADMSG);
	}
	/* a flipped byte in the middle */
	buf[len / 2] ^= 0x55;
	expect_refused(buf, len, NULL, -EBADMSG, "patchset: ");
	free(buf);
	good_archive(KC_PATCHSET_GZIP, &buf, &len);
	expect_refused(buf, len - 4, NULL, -EBADMSG, "patchset: ");
	free(buf);
	/* not an archive at all, or empty */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	expect_refused(junk, sizeof(junk), NULL, -EBADMSG, "patchset: ");
	expect_refused(junk, 0, NULL, -EBADMSG, "patchset: ");
}

/* Compressed twice over: a bzip2 stream of a gzip stream of a tar. */
static void test_patchset__refuses_nested_compression(void **state)
{
	struct archive *a = archive_write_new();
	uint8_t *inner, *outer;
	size_t ilen, olen = 0;
	struct archive_entry *e = archive_entry_new();

	(void)state;
	good_archive(KC_PATCHSET_GZIP, &inner, &ilen);
	outer = malloc(ilen + 65536);
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_bzip2(a), ARCHIVE_OK);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open_memory(a, outer, ilen + 65536, &olen), ARCHIVE_OK);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_pathname(e, "x");
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, inner, ilen), (la_ssize_t)ilen);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	expect_refused(outer, olen, NULL, -EBADMSG, "compressed 2 times over");
	free(inner);
	free(outer);
}

static void test_patchset__limits(void **state)
{
	struct kc_patchset_limits lim = {0};
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset *ps;
	uint8_t *buf, *a, *b;
	size_t len, alen, blen, jlen;
	char *json = good_json(&jlen), msg[128];

	(void)state;
	make_user("fix-a", 2, 0x11, "qemu-system-x86_64", &a, &alen);
	make_user("fix-b", 1, 0x22, "libc.so.6", &b, &blen);
	good_archive(KC_PATCHSET_BZIP2, &buf, &len);
	/* json + dir + 2 patches: 4 members */
	lim.max_members = 3;
	expect_refused(buf, len, &lim, -E2BIG, "patchset: more than 3 members");
	lim.max_members = 4;
	assert_int_equal(kc_patchset_open_mem(buf, len, &lim, NULL, &ps, &err), 0);
	kc_patchset_free(ps);
	lim = (struct kc_patchset_limits){.max_member_size = alen - 1};
	snprintf(msg, sizeof(msg),
		 "member 'patches/fix-a.kpatch': %zu bytes, more than the limit of %zu", alen,
		 alen - 1);
	expect_refused(buf, len, &lim, -EFBIG, msg);
	lim = (struct kc_patchset_limits){.max_json_size = 100};
	expect_refused(buf, len, &lim, -EFBIG, "member 'patchset.json'");
	lim = (struct kc_patchset_limits){.max_total_size = jlen + alen + blen - 1};
	snprintf(msg, sizeof(msg),
		 "member 'patches/fix-b.kpatch': archive holds more than the limit of %zu bytes",
		 jlen + alen + blen - 1);
	expect_refused(buf, len, &lim, -EFBIG, msg);
	lim.max_total_size++;
	assert_int_equal(kc_patchset_open_mem(buf, len, &lim, NULL, &ps, &err), 0);
	kc_patchset_free(ps);
	free(buf);
	free(a);
	free(b);
	free(json);
}

/* One bzip2 stream of @len bytes of @data, or of zeros when @data is NULL; appended to @out. */
static void bz2_append(const void *data, size_t len, uint8_t **out, size_t *outlen)
{
	static uint8_t zeros[1 << 20];
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = 1 << 20, n = 0;
	uint8_t *buf = malloc(cap);

	assert_non_null(buf);
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_bzip2(a), ARCHIVE_OK);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &n), ARCHIVE_OK);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_pathname(e, "x");
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	for (size_t done = 0; done < len;) {
		size_t k = len - done > sizeof(zeros) ? sizeof(zeros) : len - done;

		assert_int_equal(
		    archive_write_data(a, data ? (const uint8_t *)data + done : zeros, k),
		    (la_ssize_t)k);
		done += k;
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	*out = realloc(*out, *outlen + n);
	assert_non_null(*out);
	memcpy(*out + *outlen, buf, n);
	*outlen += n;
	free(buf);
}

/*
 * A ustar header of @type for @name announcing @size bytes. Built by hand
 * because a bomb must say what libarchive's writer would not let us write
 * cheaply.
 */
static void ustar_header(uint8_t *hdr, const char *name, char type, uint64_t size)
{
	unsigned sum = 0;

	memset(hdr, 0, 512);
	strcpy((char *)hdr, name);
	memcpy(hdr + 100, "0000644", 8);
	memcpy(hdr + 108, "0000000", 8);
	memcpy(hdr + 116, "0000000", 8);
	snprintf((char *)hdr + 124, 12, "%011llo", (unsigned long long)size);
	memcpy(hdr + 136, "00000000000", 12);
	hdr[156] = (uint8_t)type;
	memcpy(hdr + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(hdr + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += hdr[i];
	snprintf((char *)hdr + 148, 8, "%06o", sum);
}

/*
 * A tar of one member "patches/bomb" of @count * @chunk zero bytes, as
 * concatenated bzip2 streams (which bzip2 -d and libarchive read as one):
 * the chunk is compressed once and repeated, so making it is cheap.
 */
static void make_bomb(uint64_t count, size_t chunk, uint8_t **buf, size_t *len)
{
	uint8_t hdr[512], *z = NULL;
	size_t zlen = 0;

	*buf = NULL;
	*len = 0;
	ustar_header(hdr, "patches/bomb", '0', count * chunk);
	bz2_append(hdr, sizeof(hdr), buf, len);
	bz2_append(NULL, chunk, &z, &zlen);
	for (uint64_t i = 0; i < count; i++) {
		*buf = realloc(*buf, *len + zlen);
		assert_non_null(*buf);
		memcpy(*buf + *len, z, zlen);
		*len += zlen;
	}
	free(z);
	bz2_append(NULL, 1024, buf, len); /* the end of the tar */
}

/*
 * A bzip2 bomb: a member of 1 GiB of zeros is under a kilobyte
 * compressed. The reader must refuse it at the limit within a fraction of
 * a second, not inflate the gigabyte. Same for members that only together
 * exceed the total.
 */
static void test_patchset__bzip2_bomb(void **state)
{
	uint8_t *buf;
	size_t len;
	double t0;
	struct kc_patchset_limits lim = {0};
	struct mem many[8];

	(void)state;
	make_bomb(16, 64u << 20, &buf, &len);
	print_message("bomb: 1 GiB member in %zu bytes\n", len);
	assert_true(len < 8192);
	t0 = now();
	expect_refused(buf, len, NULL, -EFBIG,
		       "member 'patches/bomb': 1073741824 bytes, more than the limit of 67108864");
	assert_true(now() - t0 < 2.0);
	free(buf);
	/* the same construction is a well-formed stream: under the limits it inflates fully */
	make_bomb(4, 1u << 20, &buf, &len);
	expect_refused(buf, len, NULL, -EBADMSG, "no patchset.json");
	free(buf);

	for (int i = 0; i < 8; i++) {
		static char names[8][32];

		snprintf(names[i], sizeof(names[i]), "patches/part%d", i);
		many[i] = (struct mem){.name = names[i], .zeros = 1u << 20};
	}
	craft(many, 8, 'b', &buf, &len);
	lim.max_total_size = 3u << 20;
	t0 = now();
	expect_refused(
	    buf, len, &lim, -EFBIG,
	    "member 'patches/part3': archive holds more than the limit of 3145728 bytes");
	assert_true(now() - t0 < 2.0);
	free(buf);
}

/*
 * A pax extended header is data that libarchive reads itself before our
 * checks see the member: it must not inflate without bound either
 * (libarchive refuses special headers over 1 MiB; the cap on the whole
 * decompressed stream would stop it otherwise).
 */
static void test_patchset__pax_header_bomb(void **state)
{
	struct kc_patchset_limits lim = {.max_total_size = 1u << 20, .max_members = 8};
	uint8_t hdr[512], *buf = NULL;
	size_t len = 0;
	double t0;
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset *ps;
	int ret;

	(void)state;
	ustar_header(hdr, "PaxHeaders/x", 'x', 64u << 20);
	bz2_append(hdr, sizeof(hdr), &buf, &len);
	bz2_append(NULL, (64u << 20) + 1024, &buf, &len);
	t0 = now();
	ret = kc_patchset_open_mem(buf, len, &lim, NULL, &ps, &err);
	print_message("pax bomb: %d '%s' after %.2f s\n", ret, err.msg, now() - t0);
	assert_true(ret == -EFBIG || ret == -EBADMSG);
	assert_true(now() - t0 < 2.0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_patchset__names),
	    cmocka_unit_test(test_patchset__products_and_times),
	    cmocka_unit_test(test_patchset__round_trip),
	    cmocka_unit_test(test_patchset__reproducible),
	    cmocka_unit_test(test_patchset__kernel),
	    cmocka_unit_test(test_patchset__kernel_tags),
	    cmocka_unit_test(test_patchset__sidecar),
	    cmocka_unit_test(test_patchset__writer_refusals),
	    cmocka_unit_test(test_patchset__json),
	    cmocka_unit_test(test_patchset__extract),
	    cmocka_unit_test(test_patchset__extract_rolls_back),
	    cmocka_unit_test(test_patchset__file),
	    cmocka_unit_test(test_patchset__refuses_paths_and_types),
	    cmocka_unit_test(test_patchset__accepts_dot_slash_and_dirs),
	    cmocka_unit_test(test_patchset__refuses_content),
	    cmocka_unit_test(test_patchset__refuses_identity_mismatch),
	    cmocka_unit_test(test_patchset__refuses_invalid_patch),
	    cmocka_unit_test(test_patchset__refuses_bad_compression),
	    cmocka_unit_test(test_patchset__refuses_nested_compression),
	    cmocka_unit_test(test_patchset__limits),
	    cmocka_unit_test(test_patchset__bzip2_bomb),
	    cmocka_unit_test(test_patchset__pax_header_bomb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
