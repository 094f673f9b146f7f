// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for what kcare-build kmod reads of a target kernel:
 * System.map (or /proc/kallsyms) lines, Module.symvers, and the kallsyms
 * tables searched in vmlinux's .rodata. Whatever the bytes: in bounds,
 * no leak, and every symbol found is named.
 */
#include <stdint.h>
#include <stdlib.h>

#include "build/ksyms-image.h"
#include "build/ksyms.h"

/* After a successful parse every symbol can be found again by its name. */
static void check(struct kc_ksyms *t, int ret)
{
	struct kc_ksym_match m;

	for (size_t i = 0; ret == 0 && i < t->n; i++) {
		if (!t->syms[i].name)
			abort();
		if (i < 4 && kc_ksyms_find(t, t->syms[i].name, 0, 0, &m) == -ENOENT)
			abort();
	}
	kc_ksyms_release(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ksyms a, b;

	int ret;

	kc_ksyms_init(&a);
	ret = kc_ksyms_parse_map((const char *)data, size, &a, &err);
	check(&a, ret);
	kc_ksyms_init(&a);
	kc_ksyms_init(&b);
	ret = kc_ksyms_parse_symvers((const char *)data, size, &a, &b, &err);
	check(&a, ret);
	check(&b, ret);
	kc_ksyms_init(&a);
	ret = kc_kallsyms_decode(data, size, 0, &a, &err);
	check(&a, ret);
	return 0;
}
