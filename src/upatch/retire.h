/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Code that a suspended stack may still return into. A coroutine
 * (makecontext/swapcontext, qemu's coroutines, green threads) suspended
 * inside a function lives on a stack no thread is using, so the thread
 * check cannot see it. This finds such stacks by a conservative scan of
 * the target's private writable memory for words that are return
 * addresses into given code (the bytes before them end with a call), and
 * uses it twice:
 *   - retiring a patch region (unpatch, upgrade, recovery): unmapped only
 *     when nothing returns into its code, else kept mapped as RETIRED and
 *     scanned again by a later run (kc_retire_or_unmap());
 *   - apply's consistency check: a suspended stack inside a function being
 *     replaced makes it busy (kc_refscan_recheck() in the stop, after a
 *     scan while the target runs).
 * The stacks of threads that run on them are left out: their live frames
 * are the unwinder's (precise), the rest is dead.
 */
#ifndef KC_UPATCH_RETIRE_H
#define KC_UPATCH_RETIRE_H

#include "upatch/session.h"

/* A word of the target at @at holding @val, a return address into ranges[range]. */
struct kc_ref {
	uint64_t at, val;
	size_t range;
};

struct kc_refscan {
	struct kc_range *ranges; /* owned: the code looked for */
	uint8_t **code;		 /* owned: per range the bytes [lo - 8, hi), read once */
	size_t n;
	uint64_t lo, span; /* bounding box of the ranges: a word w is looked at if w - lo < span */
	struct kc_range *skip; /* owned: memory never scanned (the patch regions themselves) */
	size_t nskip;
	struct kc_ref *refs; /* owned: found by the latest scan or recheck */
	size_t nrefs, cap;
	uint64_t bytes; /* figures of the latest kc_refscan_memory(): bytes read, time */
	uint64_t us;
};

/*
 * Prepares a scan for return addresses into @ranges (a return address may
 * also equal a range's end: a call as its last instruction), reading
 * their code now. The patch regions of @s are never scanned.
 */
int kc_refscan_init(struct kc_refscan *rs, struct kc_session *s, const struct kc_range *ranges,
		    size_t n, struct kc_err *err);
void kc_refscan_release(struct kc_refscan *rs);

/*
 * Scans every private writable mapping of the target (resident anonymous
 * pages only, as /proc/PID/pagemap tells; all pages where it cannot be
 * read) into rs->refs. With every thread stopped, the stacks the threads
 * run on are left out; while they run, kc_refscan_recheck() in the stop
 * leaves them out.
 */
int kc_refscan_memory(struct kc_refscan *rs, struct kc_session *s, struct kc_err *err);

/*
 * With every thread stopped: keeps only the refs whose word still holds
 * its value and is not on a stack a thread runs on. Cheap (a few reads),
 * but it cannot see a word written after the scan.
 */
int kc_refscan_recheck(struct kc_refscan *rs, struct kc_session *s, struct kc_err *err);

/*
 * With every thread stopped, once no entry jump leads into region @r any
 * more: unmaps it if no thread executes or returns into its code and no
 * word of the target's memory is a return address into it; otherwise marks
 * it RETIRED (region.h) and keeps it mapped, setting *kept to the bytes
 * kept (else 0). The scan runs in the stop, so it is exact.
 */
int kc_retire_or_unmap(struct kc_session *s, const struct kc_region *r, uint64_t *kept,
		       struct kc_err *err);

#endif
