/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One engine call's view of a target process: its maps, objects and patch
 * regions (read without stopping it), and, once attached, the ptrace
 * handle and the unwinder. Shared by apply.c and revert.c.
 */
#ifndef KC_UPATCH_SESSION_H
#define KC_UPATCH_SESSION_H

#include "kcare/objs.h"
#include "kcare/proc.h"
#include "kcare/resolve.h"
#include "kcare/unwind.h"
#include "kcare/upatch.h"
#include "upatch/ptrace.h"
#include "upatch/region.h"

struct kc_session {
	pid_t pid;
	struct kc_proc_maps maps;
	struct kc_objs objs;
	struct kc_regions regions;
	struct kc_proc proc;
	bool attached;
	struct kc_unwinder *unw;
	const struct kc_upatch_opts *opts;
	struct kc_upatch_stats stats; /* of the latest kc_session_in_stop() */
	uint64_t stop_t0;    /* start of the stop kc_session_in_stop() left held, 0 if none */
	uint64_t started_us; /* when the session was opened */
	uint64_t starttime;  /* of the process, as chosen: a reused PID is another process */
	/* busy threads found by the latest check, for driving them out (drive.h) */
	struct kc_busy {
		pid_t tid;
		uint64_t leave_sp; /* 0: cannot be driven (no complete unwind) */
		uint64_t ret;	   /* where its outermost busy frame returns to */
	} * busy;
	size_t nbusy, busy_cap;
	const struct kc_range *busy_ranges;
	size_t busy_nranges;
	const uint64_t *busy_entries;
	size_t busy_nentries;
	uint64_t stub_page; /* the drive's return stubs (drive.h), 0 until needed */
	bool stub_keep;	    /* a thread may still return through a stub: never unmap it */
};

/* Monotonic microseconds. */
uint64_t kc_session_now_us(void);

/* Whether the caller asked to cancel (opts->cancel). */
bool kc_session_cancelled(const struct kc_session *s);

/* Reads maps, objects and regions. */
int kc_session_open(struct kc_session *s, pid_t pid, const struct kc_upatch_opts *opts,
		    struct kc_err *err);
/* Attaches (all threads seized, running) if not yet. */
int kc_session_attach(struct kc_session *s, struct kc_err *err);
/* Re-reads maps and regions (after the engine mapped or unmapped something). */
int kc_session_refresh(struct kc_session *s, struct kc_err *err);
/* Detaches and frees everything; safe after a failed open. */
void kc_session_close(struct kc_session *s);

/*
 * Runs syscalls in one briefly stopped thread (or in an already stopped
 * one when every thread is stopped). @nargs rows of 6 arguments;
 * results in @rets.
 */
int kc_session_syscalls(struct kc_session *s, const long *nrs, const uint64_t (*args)[6],
			long *rets, size_t n, struct kc_err *err);

/* Unmaps a region (best effort cleanup included). */
int kc_session_unmap(struct kc_session *s, uint64_t start, uint64_t size, struct kc_err *err);

/*
 * The safety check, with every thread stopped: 0 if no thread executes
 * in or returns into any of @ranges; -EBUSY with a message naming the
 * thread and @names[i] of the range it is in.
 */
int kc_session_check_threads(struct kc_session *s, const struct kc_range *ranges,
			     const char *const *names, size_t n, struct kc_err *err);

/*
 * The same, where @entries are the entries whose bytes the writes replace:
 * a thread whose pc is exactly on one has not begun that function and is
 * not busy. Busy threads are recorded for kc_session_in_stop() to drive
 * out of @ranges while the others stay held.
 */
int kc_session_check_threads_at(struct kc_session *s, const struct kc_range *ranges,
				const char *const *names, size_t n, const uint64_t *entries,
				size_t nentries, struct kc_err *err);

/*
 * The stop-check-write loop: stops every thread, calls @check, and if it
 * reports -EBUSY drives the busy threads it recorded out of the checked
 * ranges (single-stepped while the others stay held, a few ms at most) and
 * calls @check again in the same stop; if they are still busy, lets the
 * threads run and retries with backoff until the timeout. When @check returns 0, calls @write with
 * everything stopped. On success every thread is left stopped, so that cleanup syscalls and the
 * final detach need no further stop; the caller resumes them with kc_session_release_stop() before
 * any work done while the target runs. On failure the threads run again. Returns @check's or
 * @write's error.
 */
typedef int (*kc_txn_fn)(struct kc_session *s, void *ctx, struct kc_err *err);
int kc_session_in_stop(struct kc_session *s, kc_txn_fn check, kc_txn_fn write, void *ctx,
		       struct kc_err *err);

/* Finishes or rolls back interrupted operations found in the regions (recover.c). */
int kc_session_recover(struct kc_session *s, kc_upatch_report_fn report, void *ctx,
		       struct kc_err *err);

/* Loads the unwind table of @o before a stop needs it (see kc_unwind_warm()). */
void kc_session_warm_unwind(struct kc_session *s, const struct kc_obj *o);

/* Completes the stats of the final stop (after kc_session_release_stop(), or it ends the stop now).
 */
const struct kc_upatch_stats *kc_session_stats_done(struct kc_session *s);

/* Resumes threads left stopped by kc_session_in_stop(). */
int kc_session_release_stop(struct kc_session *s, struct kc_err *err);

#endif
