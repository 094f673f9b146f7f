/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The scanner behind `uchecker`: which running processes still execute a
 * program or a shared library that is no longer the one on disk (upgraded
 * since the process started, or removed), so that a package update has
 * not reached them. A process whose old copy carries live patches is
 * still listed, with those patches named: the disk has moved on, the live
 * patch covers only what it fixes.
 */
#ifndef KCARE_UCHECKER_H
#define KCARE_UCHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "kcare/buildid.h"
#include "kcare/err.h"

enum kc_uchk_reason {
	KC_UCHK_REPLACED, /* the file at its path now has another build-id */
	KC_UCHK_REMOVED,  /* nothing (or not an ELF file) at its path any more */
};

struct kc_uchk_finding {
	pid_t pid;
	char comm[64];
	char *path;	 /* owned: as the process maps it (inside its own root) */
	bool is_program; /* the process's executable, not a library */
	enum kc_uchk_reason reason;
	struct kc_buildid mapped, on_disk; /* on_disk.len 0 when removed */
	char *live; /* owned: "ID level N[, ...]" of live patches applied to it, NULL if none */
};

struct kc_uchk_result {
	struct kc_uchk_finding *v; /* owned, by pid then address */
	size_t n;
	size_t procs;	   /* processes looked at */
	size_t objects;	   /* file-backed ELF objects looked at */
	size_t unreadable; /* processes whose maps could not be read (permission) */
};

/* What the scan is doing, for a front end's debug output (may be NULL). */
typedef void kc_uchk_trace_fn(void *ctx, pid_t pid, const char *path, const char *verdict);

/*
 * Scans the processes @pids (@n of them), or every process when @pids is
 * NULL. Processes that exit meanwhile are skipped; one whose memory map
 * cannot be read is counted in @out->unreadable. Returns 0, or a negative
 * errno when the scan itself fails (no /proc, out of memory); release
 * @out with kc_uchk_result_release() either way.
 */
int kc_uchk_scan(const pid_t *pids, size_t n, kc_uchk_trace_fn *trace, void *ctx,
		 struct kc_uchk_result *out, struct kc_err *err);

void kc_uchk_result_release(struct kc_uchk_result *r);

#endif
