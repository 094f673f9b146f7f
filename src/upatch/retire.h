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
 *     replaced makes it busy (kc_refscan_begin(), then kc_refscan_finish()
 *     in the stop).
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
	uint64_t bytes; /* figures of the scans: bytes read, time */
	uint64_t us;
	uint64_t stop_bytes; /* of those, read by kc_refscan_finish() in the stop */
	/*
	 * Ranges [0, nloose) are apply's replaced functions: a miss there is an
	 * inconsistency, not a crash, so the stop looks again only where the scan
	 * before it found something, and at what it did not see. The others are
	 * code to retire: exact in the stop, or (over @budget bytes to read in
	 * the stop) @over_budget, and kept.
	 */
	size_t nloose;
	bool prescanned, over_budget;
	uint64_t budget, prescan_bytes;
	/* "do not dump" mappings (and VM_IO/VM_PFNMAP ones), from smaps: never scanned */
	struct kc_range *nodump;
	size_t nnodump;
	bool nodump_read;
	/*
	 * Soft-dirty tracking (kc_retire_begin()): the bits were cleared before
	 * the scan, which read @covered but for @holes; the stop reads again only
	 * the pages written since, and what the scan did not see.
	 */
	bool tracked, finished;
	struct kc_range *covered, *holes;
	size_t ncovered, covered_cap, nholes, holes_cap;
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
 * read) into rs->refs, but those marked "do not dump" (VmFlags dd, io, pf
 * in smaps, read at the first scan of @rs). With every thread stopped, the stacks the threads
 * run on are left out; while they run, kc_refscan_finish() in the stop
 * leaves them out.
 */
int kc_refscan_memory(struct kc_refscan *rs, struct kc_session *s, struct kc_err *err);

/*
 * While the target runs, before the stop that needs to know: prepares @rs
 * for return addresses into @ranges and scans now. Where the kernel keeps
 * soft-dirty bits (/proc/PID/clear_refs, pagemap), clears them first, so
 * that the stop reads only what the target wrote since: exact. Elsewhere,
 * for ranges from @nloose on (code to retire), the stop scans again in
 * whole if that reads at most rs->budget bytes (KC_SCAN_BUDGET_MIB, 64 by
 * default), else sets rs->over_budget; for the first @nloose (apply's
 * replaced functions) it reads again only the pages where this scan found
 * something and the memory it did not see (mappings new since). A word
 * read while the target runs proves nothing by itself (a resumed coroutine
 * can consume one and leave another where the scan has already been). One
 * such scan per process at a time: each clears the bits.
 */
int kc_refscan_begin(struct kc_refscan *rs, struct kc_session *s, const struct kc_range *ranges,
		     size_t n, size_t nloose, struct kc_err *err);

/* The same for the code of the regions @rv (range i is rv[i]'s code). */
int kc_retire_begin(struct kc_refscan *rs, struct kc_session *s, const struct kc_region *const *rv,
		    size_t n, struct kc_err *err);

/*
 * In the stop: rs->refs becomes the return addresses into the ranges that
 * the target's memory holds now (stacks threads run on left out): exact for
 * the ranges from rs->nloose on unless rs->over_budget. May be called again
 * in a later stop.
 */
int kc_refscan_finish(struct kc_refscan *rs, struct kc_session *s, struct kc_err *err);

/*
 * With every thread stopped, once no entry jump leads into region @r any
 * more: unmaps it if no thread executes or returns into its code and no
 * word of the target's memory is a return address into it; otherwise (or
 * when rs->over_budget: not known) marks it RETIRED (region.h) and keeps
 * it mapped, setting *kept to the bytes kept (else 0). @r is region @idx of the kc_retire_begin()
 * that prepared
 * @rs (completed here at the first call), or @rs is NULL: a whole scan for
 * @r alone, now.
 */
int kc_retire_or_unmap(struct kc_session *s, const struct kc_region *r, struct kc_refscan *rs,
		       size_t idx, uint64_t *kept, struct kc_err *err);

/*
 * The same in two steps, so that a caller can unmap after the stop: in the
 * stop, whether @r must be kept (@threads_checked: the caller's own check
 * of every thread against @r's code ran in this stop, after which nothing
 * ran), and marking it RETIRED. Once no entry leads into @r, no thread is
 * in it and no stack returns into it, nothing can reach it again: the
 * unmap may wait until the threads run.
 */
int kc_retire_decide(struct kc_session *s, const struct kc_region *r, struct kc_refscan *rs,
		     size_t idx, bool threads_checked, bool *retire, struct kc_err *err);
int kc_retire_mark(struct kc_session *s, const struct kc_region *r, uint64_t *kept,
		   struct kc_err *err);

#endif
