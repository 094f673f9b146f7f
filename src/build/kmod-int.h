/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to kmod*.c: kbuild runs and the generated files. */
#ifndef KC_BUILD_KMOD_INT_H
#define KC_BUILD_KMOD_INT_H

#include "build/klp.h"
#include "build/kmod-target.h"
#include "build/kmod.h"

/* kmod-make.c */
/* Runs @argv in @dir, output to @log; 0 when it exits 0, else -ECHILD (err names @what). */
int kc_kmod_run(const char *dir, char *const argv[], const char *log, const char *what,
		struct kc_err *err);
/* The first "error:" line of a compiler log, with @workdir/FILE replaced by @from[i]. */
void kc_kmod_first_error(const char *log, const char *workdir, const char **work_names,
			 const char **from, size_t n, char *buf, size_t bufsz);

/* kmod-gen.c */
struct kc_kmod_gen {
	const char *module, *id;
	uint32_t level;
	const char *build_id, *kernel_id, *release, *effective;
	struct kc_kmod_fix *fixes;
	size_t nfixes;
};
/* Writes kcare-gen.h, kcare-sw.S (when a fix has a switch) into @dir. */
int kc_kmod_gen_write(const char *dir, const struct kc_kmod_gen *g, struct kc_err *err);
/* The placeholder symbol the switch code of fix @f, function @k jumps through. */
void kc_kmod_gen_orig_name(size_t f, size_t k, char *buf, size_t bufsz);

#endif
