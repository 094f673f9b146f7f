// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The text and table work of kcare-build kmod: sympos as livepatch counts
 * it, System.map and Module.symvers, kallsyms decoded from a synthetic
 * table laid out as scripts/kallsyms does, the fix header, the module
 * name and the ftrace call site at a function entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "build/kmod.h"
#include "build/ksyms-image.h"
#include "build/ksyms.h"

static void test_kmod__sympos_counts_every_symbol_of_the_name(void **state)
{
	struct kc_ksyms t;
	struct kc_ksym_match m;

	(void)state;
	kc_ksyms_init(&t);
	assert_int_equal(kc_ksyms_add(&t, "dup", 't', 0x10, 0), 0);
	assert_int_equal(kc_ksyms_add(&t, "only", 'd', 0x20, 0), 0);
	assert_int_equal(kc_ksyms_add(&t, "dup", 't', 0x30, 0), 0);
	assert_int_equal(kc_ksyms_add(&t, "mixed", 'd', 0x40, 0), 0);
	assert_int_equal(kc_ksyms_add(&t, "mixed", 't', 0x50, 0), 0);
	assert_int_equal(kc_ksyms_sort(&t), 0);

	assert_int_equal(kc_ksyms_find(&t, "only", 0, 0, &m), 0);
	assert_int_equal(m.sympos, 0);
	assert_int_equal(m.sym->addr, 0x20);
	assert_int_equal(kc_ksyms_find(&t, "dup", 0, 1, &m), -ENOTUNIQ);
	assert_int_equal(m.count, 2);
	assert_int_equal(kc_ksyms_find(&t, "dup", 2, 1, &m), 0);
	assert_int_equal(m.sym->addr, 0x30);
	assert_int_equal(m.sympos, 2);
	assert_int_equal(kc_ksyms_find(&t, "dup", 3, 1, &m), -ERANGE);
	/* one function among data of its name: still found, at its position */
	assert_int_equal(kc_ksyms_find(&t, "mixed", 0, 1, &m), 0);
	assert_int_equal(m.sympos, 2);
	assert_int_equal(kc_ksyms_find(&t, "mixed", 0, 0, &m), -ENOTUNIQ);
	assert_int_equal(kc_ksyms_find(&t, "absent", 0, 0, &m), -ENOENT);
	kc_ksyms_release(&t);
}

static void test_kmod__parses_maps_and_symvers(void **state)
{
	static const char map[] = "ffffffff81000000 T _text\n"
				  "ffffffff814105a0 t cmdline_proc_show\n"
				  "ffffffffc0000000 t bm_status_read\t[binfmt_misc]\n";
	static const char symvers[] = "0x12345678\tseq_puts\tvmlinux\tEXPORT_SYMBOL\t\n"
				      "0x9abcdef0\tsome_mod_fn\tfs/foo\tEXPORT_SYMBOL_GPL\t\n";
	struct kc_err err = KC_ERR_INIT;
	struct kc_ksyms t, v, mods;
	struct kc_ksym_match m;

	(void)state;
	kc_ksyms_init(&t);
	kc_ksyms_init(&v);
	kc_ksyms_init(&mods);
	assert_int_equal(kc_ksyms_parse_map(map, sizeof(map) - 1, &t, &err), 0);
	assert_int_equal(kc_ksyms_find(&t, "cmdline_proc_show", 0, 1, &m), 0);
	assert_int_equal(m.sym->addr, 0xffffffff814105a0ULL);
	assert_int_equal(m.sym->type, 't');
	assert_int_equal(kc_ksyms_find(&t, "bm_status_read", 0, 1, &m), 0);
	kc_ksyms_release(&t);
	assert_int_equal(kc_ksyms_parse_map("xyz\n", 4, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bad line 1"));
	kc_ksyms_release(&t);

	assert_int_equal(kc_ksyms_parse_symvers(symvers, sizeof(symvers) - 1, &v, &mods, &err), 0);
	assert_int_equal(kc_ksyms_find(&v, "seq_puts", 0, 0, &m), 0);
	assert_int_equal(kc_ksyms_find(&v, "some_mod_fn", 0, 0, &m), -ENOENT);
	assert_int_equal(kc_ksyms_find(&mods, "some_mod_fn", 0, 0, &m), 0);
	kc_ksyms_release(&v);
	assert_int_equal(kc_ksyms_parse_symvers("seq_puts vmlinux\n", 17, &v, NULL, &err), -EINVAL);
	kc_ksyms_release(&v);
	kc_ksyms_release(&mods);
}

/* A kallsyms table as scripts/kallsyms lays it out, 8-aligned labels, after some junk. */
struct synth {
	uint8_t *b;
	size_t len;
};

static void put(struct synth *s, const void *p, size_t n)
{
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

static void align8(struct synth *s)
{
	while (s->len % 8)
		s->b[s->len++] = 0;
}

static void put32(struct synth *s, uint32_t v)
{
	put(s, &v, 4);
}

static void synth_table(struct synth *s, const char *const *names, const int32_t *offs, size_t n,
			uint64_t base, int with_seqs)
{
	uint32_t idx[256], pos = 0;
	size_t tt;

	memset(s->b, 0x5a, 100); /* junk */
	s->len = 100;
	align8(s);
	for (size_t i = 0; i < n; i++)
		put32(s, (uint32_t)offs[i]);
	align8(s);
	put(s, &base, 8);
	put32(s, (uint32_t)n);
	align8(s);
	for (size_t i = 0; i < n; i++) {
		uint8_t l = (uint8_t)strlen(names[i]);

		put(s, &l, 1); /* one token per character: printable tokens are themselves */
		put(s, names[i], l);
	}
	align8(s);
	put32(s, 0); /* markers: one per 256 names */
	align8(s);
	if (with_seqs) {
		for (size_t i = 0; i < 3 * n; i++)
			s->b[s->len++] = (uint8_t)i;
		align8(s);
	}
	tt = s->len;
	for (int i = 0; i < 256; i++) {
		char tok[3] = {(char)i, 0, 0};

		if (i < 0x20 || i > 0x7e) { /* tokens of unused bytes: any non-empty string */
			tok[0] = '~';
			tok[1] = (char)('a' + i % 26);
		}
		idx[i] = pos;
		put(s, tok, strlen(tok) + 1);
		pos += (uint32_t)strlen(tok) + 1;
	}
	align8(s);
	for (int i = 0; i < 256; i++) {
		uint16_t v = (uint16_t)idx[i];

		put(s, &v, 2);
	}
	(void)tt;
}

static void test_kmod__decodes_kallsyms(void **state)
{
	static const char *const names[] = {"Tstartup_64",   "tcmdline_proc_show",
					    "Dlinux_banner", "tdup",
					    "tdup",	     "Afixed_percpu_data"};
	/* relative to base (negative: base - 1 - off), and one absolute per-cpu symbol */
	static const int32_t offs[] = {-1, -0x4105a1, -0x1161901, -0x200, -0x300, 0x1000};
	struct kc_err err = KC_ERR_INIT;
	struct synth s = {calloc(1, 1 << 16), 0};
	struct kc_ksyms t;
	struct kc_ksym_match m;

	(void)state;
	for (int seqs = 0; seqs < 2; seqs++) {
		kc_ksyms_init(&t);
		synth_table(&s, names, offs, 6, 0xffffffff81000000ULL, seqs);
		assert_int_equal(kc_kallsyms_decode(s.b, s.len, 0xffffffff81000000ULL, &t, &err),
				 0);
		assert_int_equal(t.n, 6);
		assert_string_equal(t.syms[0].name, "startup_64");
		assert_int_equal(t.syms[0].addr, 0xffffffff81000000ULL);
		assert_int_equal(kc_ksyms_find(&t, "cmdline_proc_show", 0, 1, &m), 0);
		assert_int_equal(m.sym->addr, 0xffffffff814105a0ULL);
		assert_int_equal(m.sym->type, 't');
		assert_int_equal(kc_ksyms_find(&t, "dup", 2, 1, &m), 0);
		assert_int_equal(m.sym->addr, 0xffffffff810002ffULL);
		assert_int_equal(kc_ksyms_find(&t, "fixed_percpu_data", 0, 0, &m), 0);
		assert_int_equal(m.sym->addr, 0x1000);
		kc_ksyms_release(&t);
		/* another relative base is another table */
		assert_int_equal(kc_kallsyms_decode(s.b, s.len, 0xffffffff82000000ULL, &t, &err),
				 -ENOENT);
		kc_ksyms_release(&t);
	}
	free(s.b);
}

static void test_kmod__reads_the_fix_header(void **state)
{
	static const char src[] = "// SPDX-License-Identifier: GPL-2.0-or-later\n"
				  "/*\n"
				  " * kpatch-name: proc-cmdline-suffix\n"
				  " * kpatch-description: cmdline: say the kernel is patched\n"
				  " * kpatch-cve: CVE-2026-0001, CVE-2026-10002\n"
				  " * kpatch-cve: CVE-2025-0003\n"
				  " * kpatch-cvss: 7.8\n"
				  " * kcare-switch: cmdline_suffix\n"
				  " * kcare-sympos: binfmt_misc:enabled,1\n"
				  " * Some words: not a key of ours.\n"
				  " */\n"
				  "/* kpatch-patch-url: after the header, ignored */\n";
	struct kc_err err = KC_ERR_INIT;
	struct kc_kmod_fix f = {0};

	(void)state;
	assert_int_equal(kc_kmod_fix_parse(src, sizeof(src) - 1, &f, &err), 0);
	assert_string_equal(f.name, "proc-cmdline-suffix");
	assert_string_equal(f.description, "cmdline: say the kernel is patched");
	assert_int_equal(f.ncves, 3);
	assert_string_equal(f.cves[1], "CVE-2026-10002");
	assert_string_equal(f.cvss, "7.8");
	assert_string_equal(f.sw, "cmdline_suffix");
	assert_int_equal(f.npicks, 1);
	assert_string_equal(f.picks[0], "binfmt_misc:enabled,1");
	assert_null(f.patch_url);
	kc_kmod_fix_release(&f);

	assert_int_equal(kc_kmod_fix_parse("int x;\n/* kpatch-name: late */\n", 30, &f, &err), 0);
	assert_null(f.name);
	kc_kmod_fix_release(&f);
	assert_int_equal(kc_kmod_fix_parse("// kpatch-cve: CVE-26-1\n", 24, &f, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "bad CVE id 'CVE-26-1'"));
	kc_kmod_fix_release(&f);
	assert_int_equal(kc_kmod_fix_parse("/* kcare-switch: a b */", 23, &f, &err), -EINVAL);
	kc_kmod_fix_release(&f);
	assert_int_equal(kc_kmod_fix_parse("// kpatch-name: a\n// kpatch-name: b\n", 36, &f, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "said twice"));
	kc_kmod_fix_release(&f);
	assert_int_equal(kc_kmod_fix_parse("/* kcare-sympos: x */", 21, &f, &err), -EINVAL);
	kc_kmod_fix_release(&f);
}

static void test_kmod__module_name(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char name[64];

	(void)state;
	assert_int_equal(kc_kmod_module_name("debian-6.1.0-57", 2, name, sizeof(name), &err), 0);
	assert_string_equal(name, "kcare_debian_6_1_0_57_2");
	/* 6 + 47 + 1 + 1 = 55: the longest name the kernel takes */
	assert_int_equal(kc_kmod_module_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1,
					     name, sizeof(name), &err),
			 0);
	assert_int_equal(strlen(name), 55);
	assert_int_equal(kc_kmod_module_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 10,
					     name, sizeof(name), &err),
			 -ENAMETOOLONG);
	assert_int_equal(kc_kmod_module_name("a/b", 1, name, sizeof(name), &err), -EINVAL);
	assert_int_equal(kc_kmod_module_name("", 1, name, sizeof(name), &err), -EINVAL);
	assert_int_equal(kc_kmod_module_name("a", 0, name, sizeof(name), &err), -EINVAL);
}

static void test_kmod__ftrace_call_site(void **state)
{
	static const uint8_t call[] = {0xe8, 0xab, 0x60, 0xc6, 0xff, 0x53};
	static const uint8_t ibt_nop[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x0f,
					  0x1f, 0x44, 0x00, 0x00, 0x55};
	static const uint8_t plain[] = {0x55, 0x48, 0x89, 0xe5, 0x90, 0x90};

	(void)state;
	assert_int_equal(kc_kimage_ftrace_skip(call, sizeof(call)), 5);
	assert_int_equal(kc_kimage_ftrace_skip(ibt_nop, sizeof(ibt_nop)), 9);
	assert_int_equal(kc_kimage_ftrace_skip(plain, sizeof(plain)), -1);
	assert_int_equal(kc_kimage_ftrace_skip(call, 3), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kmod__sympos_counts_every_symbol_of_the_name),
	    cmocka_unit_test(test_kmod__parses_maps_and_symvers),
	    cmocka_unit_test(test_kmod__decodes_kallsyms),
	    cmocka_unit_test(test_kmod__reads_the_fix_header),
	    cmocka_unit_test(test_kmod__module_name),
	    cmocka_unit_test(test_kmod__ftrace_call_site),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
