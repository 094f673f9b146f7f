// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The patch's unwind table (format version 2): kc_pack() on real objects
 * (compiled here with gcc -O2) keeps one FDE per function of the image,
 * rebased so that each starts where its function lands; a fix without
 * tables gives a version 1 file; a function with a personality routine
 * gets no entry while the others keep theirs. Then every rule of the
 * validator, each broken on a copy of a good table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "build/pack.h"
#include "kcare/patch.h"
#include "lib/patchfile.h"
#include "scratch.h"

#define CFLAGS_FIX "gcc -O2 -fPIC -ffunction-sections -fdata-sections -c"

static int group_setup(void **state)
{
	(void)state;
	if (scratch_make("pack-unwind") < 0)
		return -1;
	/* long enough for the entry jump */
	scratch_put("tgt.c", "__attribute__((noipa)) int compute(int x) "
			     "{ volatile int y = x; return y + 1; }\n"
			     "__attribute__((noipa)) int other(int x) "
			     "{ volatile int y = x; return y * 2; }\n");
	scratch_put("fix.c", "__attribute__((noipa)) int helper(int x) { return x * 5 + 3; }\n"
			     "int compute(int x) { return helper(x) + 2; }\n"
			     "int other(int x) { return helper(x) * 2; }\n");
	/* the cleanup runs when ext() throws: a personality routine and an LSDA */
	scratch_put("eh.c", "void done(int *p);\nvoid ext(int);\n"
			    "int compute(int x) { int v __attribute__((cleanup(done))) = x;\n"
			    "  ext(v); return v + 1; }\n"
			    "int other(int x) { return x * 3; }\n");
	scratch_run("gcc -O2 -fPIC -shared -o libtgt.so tgt.c && " CFLAGS_FIX
		    " fix.c -o fix.o && " CFLAGS_FIX " -fno-asynchronous-unwind-tables "
		    "-fno-unwind-tables fix.c -o bare.o && " CFLAGS_FIX
		    " -fexceptions eh.c -o eh.o");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return scratch_remove();
}

/* Packs @obj against libtgt.so; the version of the file written is in *version. */
static struct kc_patch *pack_read(const char *obj, uint32_t *version)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_pack_opts o = {.target = scratch_path("libtgt.so"),
				 .object = scratch_path(obj),
				 .output = scratch_path("out.kcp")};
	struct kc_patch *p = NULL;
	uint8_t buf[1 << 16];
	ssize_t n;
	int fd;

	if (kc_pack(&o, NULL, &err) < 0)
		fail_msg("kc_pack: %s", err.msg);
	if (kc_patch_read_file(o.output, &p, &err) < 0)
		fail_msg("read back: %s", err.msg);
	fd = open(o.output, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n > 0);
	/* the metadata is the only section that starts with the magic */
	for (ssize_t i = 0; i + 12 <= n; i++)
		if (!memcmp(buf + i, KC_PF_MAGIC, 8)) {
			memcpy(version, buf + i + 8, 4);
			return p;
		}
	fail_msg("no metadata in the file");
	return NULL;
}

static int32_t s32(const uint8_t *b)
{
	int32_t v;

	memcpy(&v, b, 4);
	return v;
}

/* The image offsets the table's entries start at, in order; returns their count. */
static size_t table_starts(const struct kc_patch *p, int64_t *out, size_t max)
{
	const uint8_t *t = p->image + p->unwind_off;
	uint32_t count;

	memcpy(&count, t + 8, 4);
	for (size_t i = 0; i < count && i < max; i++) {
		int64_t fde = s32(t + KC_PF_EH_HDR_SIZE + 8 * i + 4);

		out[i] = p->unwind_off + s32(t + KC_PF_EH_HDR_SIZE + 8 * i);
		/* pc_begin of the FDE names the same start, relative to its own field */
		assert_int_equal(p->unwind_off + fde + 8 + s32(t + fde + 8), out[i]);
	}
	return count;
}

static bool has_start(const int64_t *v, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == (int64_t)off)
			return true;
	return false;
}

static void test_pack_unwind__one_entry_per_function(void **state)
{
	uint32_t version = 0;
	struct kc_patch *p = pack_read("fix.o", &version);
	int64_t starts[8];
	size_t n;

	(void)state;
	assert_int_equal(version, KC_PF_VERSION);
	assert_true(p->unwind_size > 0);
	assert_true(p->unwind_off >= p->rodata_off &&
		    p->unwind_off + p->unwind_size <= p->rodata_off + p->rodata_size);
	n = table_starts(p, starts, 8);
	/* compute, other and the new helper */
	assert_int_equal(n, 3);
	assert_int_equal(p->nfuncs, 2);
	assert_true(has_start(starts, n, p->funcs[0].image_off));
	assert_true(has_start(starts, n, p->funcs[1].image_off));
	assert_true(starts[0] < starts[1] && starts[1] < starts[2]);
	kc_patch_free(p);
}

static void test_pack_unwind__no_tables_is_version_1(void **state)
{
	uint32_t version = 0;
	struct kc_patch *p = pack_read("bare.o", &version);

	(void)state;
	assert_int_equal(version, KC_PF_VERSION_1);
	assert_int_equal(p->unwind_size, 0);
	assert_int_equal(p->unwind_off, 0);
	kc_patch_free(p);
}

static void test_pack_unwind__personality_leaves_that_function_out(void **state)
{
	uint32_t version = 0;
	struct kc_patch *p = pack_read("eh.o", &version);
	int64_t starts[8];
	size_t n;
	const struct kc_patch_func *compute = NULL, *other = NULL;

	(void)state;
	for (size_t i = 0; i < p->nfuncs; i++) {
		if (!strcmp(p->funcs[i].name, "compute"))
			compute = &p->funcs[i];
		if (!strcmp(p->funcs[i].name, "other"))
			other = &p->funcs[i];
	}
	assert_non_null(compute);
	assert_non_null(other);
	assert_int_equal(version, KC_PF_VERSION);
	n = table_starts(p, starts, 8);
	assert_int_equal(n, 1);
	assert_true(has_start(starts, n, other->image_off));
	assert_false(has_start(starts, n, compute->image_off));
	kc_patch_free(p);
}

/* A mutation of the good table and the message the validator must give. */
struct unwind_mut {
	const char *name;
	size_t at; /* byte offset in the table, or SIZE_MAX for a field of the patch */
	uint32_t value;
	int width;
	const char *msg;
};

static void test_pack_unwind__validator_rules(void **state)
{
	uint32_t version = 0;
	struct kc_patch *p = pack_read("fix.o", &version);
	uint8_t *saved = malloc(p->image_size);
	uint32_t fde0, eh;
	const struct unwind_mut muts[] = {
	    {"header version", 0, 2, 1, "unsupported header"},
	    {"table encoding", 3, 0x1b, 1, "unsupported header"},
	    {"count 0", 8, 0, 4, "bad entry count"},
	    {"count huge", 8, 0x10000000, 4, "bad entry count"},
	    {"eh_frame pointer", 4, 0, 4, "do not follow the search table"},
	    {"entry outside text", KC_PF_EH_HDR_SIZE, 0, 4, "outside text or out of order"},
	    {"entry fde", KC_PF_EH_HDR_SIZE + 4, 0x7fff0000, 4, "outside the table"},
	    {"fde length", 0, 0x7fff, 4, "bad length"}, /* at is patched below */
	    {"fde cie pointer", 0, 3, 4, "no usable CIE"},
	    {"fde pc_begin", 0, 0x100, 4, "does not start where its entry says"},
	    {"fde range", 0, 0x7fffffff, 4, "covers more than text"},
	    {"cie augmentation", 0, 'P', 1, "no usable CIE"},
	    {"terminator", 0, 1, 4, "no terminator"},
	};
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	assert_non_null(saved);
	memcpy(saved, p->image, p->image_size);
	memcpy(&fde0, p->image + p->unwind_off + KC_PF_EH_HDR_SIZE + 4, 4);
	eh = KC_PF_EH_HDR_SIZE + 8 * 3;
	assert_int_equal(kc_patch_validate(p, &err), 0);
	for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		struct unwind_mut m = muts[i];
		uint8_t *t = p->image + p->unwind_off;

		if (!strcmp(m.name, "fde length"))
			m.at = fde0;
		else if (!strcmp(m.name, "fde cie pointer"))
			m.at = fde0 + 4;
		else if (!strcmp(m.name, "fde pc_begin"))
			m.at = fde0 + 8;
		else if (!strcmp(m.name, "fde range"))
			m.at = fde0 + 12;
		else if (!strcmp(m.name, "cie augmentation"))
			m.at = eh + 10; /* "zR": the R */
		else if (!strcmp(m.name, "terminator"))
			m.at = p->unwind_size - 4;
		memcpy(p->image, saved, p->image_size);
		memcpy(t + m.at, &m.value, (size_t)m.width);
		err = (struct kc_err)KC_ERR_INIT;
		if (kc_patch_validate(p, &err) != -EINVAL || !strstr(err.msg, m.msg))
			fail_msg("%s: got '%s', want '%s'", m.name, err.msg, m.msg);
	}
	memcpy(p->image, saved, p->image_size);
	/* the table must stay inside rodata, and nothing may relocate it */
	p->unwind_size += p->rodata_size;
	assert_int_equal(kc_patch_validate(p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is not inside rodata"));
	p->unwind_size -= p->rodata_size;
	{
		struct kc_patch_reloc *r = realloc(p->relocs, (p->nrelocs + 1) * sizeof(*r));

		assert_non_null(r);
		p->relocs = r;
		r[p->nrelocs++] =
		    (struct kc_patch_reloc){p->unwind_off + 16, KC_PF_R_IMAGE64, KC_PF_NOSYM, 0};
		assert_int_equal(kc_patch_validate(p, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "lies in the unwind table"));
		p->nrelocs--;
	}
	assert_int_equal(kc_patch_validate(p, &err), 0);
	free(saved);
	kc_patch_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pack_unwind__one_entry_per_function),
	    cmocka_unit_test(test_pack_unwind__no_tables_is_version_1),
	    cmocka_unit_test(test_pack_unwind__personality_leaves_that_function_out),
	    cmocka_unit_test(test_pack_unwind__validator_rules),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
