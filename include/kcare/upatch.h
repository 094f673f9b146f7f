/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The userspace live patching engine, as front ends call it: apply
 * patches to a running process, revert them, and describe its state.
 * Each call attaches, works and detaches; the target keeps all state
 * itself (patch regions), so calls are independent.
 */
#ifndef KCARE_UPATCH_H
#define KCARE_UPATCH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kcare/buildid.h"
#include "kcare/err.h"
#include "kcare/patch.h"

struct kc_upatch_opts {
	double timeout; /* seconds to keep retrying while a thread is busy, or another patcher holds
			   the process */
	/*
	 * Set asynchronously (by a signal handler) to cancel: an operation that
	 * has not written its entries yet is rolled back and fails with -EINTR;
	 * one that has completes. May be NULL.
	 */
	const volatile int *cancel;
	/*
	 * The start time (field 22 of /proc/PID/stat) of the process the caller
	 * chose, or 0: then the one read when the call begins. A process found
	 * at the PID with another start time (the PID was reused) is not
	 * touched: -ESRCH, "... its PID was reused".
	 */
	uint64_t starttime;
};

/* Figures of one operation on one process (for --stats and benchmarks). */
struct kc_upatch_stats {
	unsigned threads;     /* threads stopped in the final stop */
	unsigned attempts;    /* stop-and-check rounds */
	uint64_t stop_us;     /* final stop: first interrupt to the end of the writes and cleanup */
	uint64_t max_stop_us; /* longest single stop of any round */
	uint64_t total_us;    /* the whole operation on this process */
	unsigned driven;      /* busy threads driven out of the replaced code (in every round) */
	/*
	 * The scans for suspended stacks (coroutines): apply's before its stop,
	 * unpatch's and upgrade's in the final stop (part of stop_us).
	 */
	uint64_t scan_us;
	uint64_t scan_kib;	/* memory they read */
	uint64_t scan_stop_kib; /* of that, read in the stop (all, or what was written since) */
};

enum kc_upatch_outcome {
	KC_UPATCH_PATCHED,	      /* applied */
	KC_UPATCH_UPGRADED,	      /* applied, replacing a lower level of the same id */
	KC_UPATCH_ALREADY,	      /* this level is already applied */
	KC_UPATCH_NEWER,	      /* a higher level of the same id is applied: nothing done */
	KC_UPATCH_SKIPPED,	      /* no object with the patch's build-id in the process */
	KC_UPATCH_UNPATCHED,	      /* reverted */
	KC_UPATCH_RECOVERED_ROLLBACK, /* an apply killed half way was undone */
	KC_UPATCH_RECOVERED_REVERT,   /* a revert killed half way was finished */
};

struct kc_upatch_event {
	pid_t pid;
	enum kc_upatch_outcome outcome;
	const char *patch_file; /* as given, or NULL */
	const char *id;
	uint32_t level;
	uint32_t other_level; /* replaced level (UPGRADED) or applied level (NEWER) */
	const char *object;   /* path of the patched object in the process */
	size_t nfuncs;
	const char *target_name;
	const char *build_id;		     /* hex */
	const struct kc_upatch_stats *stats; /* PATCHED, UPGRADED, UNPATCHED only, else NULL */
	/*
	 * UPGRADED, UNPATCHED, RECOVERED_*: bytes of the code given up that stay
	 * mapped (RETIRED) because a suspended stack may still return into it;
	 * a later run unmaps them once nothing does. 0 if it was unmapped.
	 */
	uint64_t kept_bytes;
	/* kept because scanning for such stacks would have read too much in the stop */
	bool kept_unscanned;
};

typedef void (*kc_upatch_report_fn)(void *ctx, const struct kc_upatch_event *ev);

/*
 * Applies to process @pid every patch of @patches whose build-id matches
 * an object it maps; @files[i] names patches[i] in reports. Stops at the
 * first failure (patches applied before it stay applied). Errors: -ESRCH
 * (process gone), -EBUSY (a thread stayed in a function to replace past
 * the timeout, or the process is traced by someone else), -ENOENT
 * (undefined symbol), -EEXIST (function already patched by another id).
 */
int kc_upatch_apply(pid_t pid, struct kc_patch *const *patches, const char *const *files, size_t n,
		    const struct kc_upatch_opts *opts, kc_upatch_report_fn report, void *ctx,
		    struct kc_err *err);

/*
 * Reverts the patches applied in @pid: all, or those of patch id @id, or
 * those for the object with build-id @bid (either may be NULL).
 */
int kc_upatch_revert(pid_t pid, const char *id, const struct kc_buildid *bid,
		     const struct kc_upatch_opts *opts, kc_upatch_report_fn report, void *ctx,
		     struct kc_err *err);

/*
 * Finishes or rolls back operations that a killed patcher left half done
 * in @pid (kc_upatch_apply() and kc_upatch_revert() do this first, too).
 */
int kc_upatch_recover(pid_t pid, const struct kc_upatch_opts *opts, kc_upatch_report_fn report,
		      void *ctx, struct kc_err *err);

/*
 * Describes @pid as a JSON object {pid, comm, objects: [{path, build_id,
 * patches: [{id, level, cves, description, functions, applied}],
 * retired: [{id, level, address, size}]}]} (retired: code no longer applied,
 * kept mapped while a suspended stack may return into it); the
 * caller owns *out (json_object_put). Reads the target without stopping it.
 */
int kc_upatch_info(pid_t pid, json_object **out, struct kc_err *err);

/*
 * Whether @pid maps a file whose build-id is one of @patches' targets: a
 * cheap pre-check for "all" (maps only, build-ids from @cache). Returns 1,
 * 0, or a negative errno (-ESRCH: gone).
 */
struct kc_bidcache;
int kc_upatch_wanted(pid_t pid, struct kc_patch *const *patches, size_t n,
		     struct kc_bidcache *cache, struct kc_err *err);

/*
 * How many patch regions are applied in @pid: a cheap look (maps and region
 * headers only, no ELF reading, no attach) for scans over every process.
 * Returns the count or a negative errno (-ESRCH: gone).
 */
int kc_upatch_count_applied(pid_t pid, struct kc_err *err);

/*
 * "-p all" for every front end. Calls @visit for every process of the PID
 * namespace that @candidate accepts (NULL: all), pinned by its start time,
 * then lists the processes again and visits those it has not seen yet
 * (forked meanwhile, perhaps from a process it just changed, so with the
 * old state), until a pass changes nothing. @visit returns 1 if it changed
 * the process, 0 if not, or a negative errno with @err set. A process that
 * is gone after a failure (exited, or its PID reused) was "gone", not a
 * failure; one that failed with -ESRCH while still alive (it called execve)
 * is visited again in the next pass. Other failures go to @failed, which
 * returns true to stop everything. Returns the number of failures, or a
 * negative errno if the processes cannot be listed or the passes do not
 * settle within @timeout seconds (then @err says how many were left).
 */
struct kc_upatch_all {
	bool (*candidate)(void *ctx, pid_t pid);
	int (*visit)(void *ctx, pid_t pid, uint64_t starttime, struct kc_err *err);
	bool (*failed)(void *ctx, pid_t pid, const struct kc_err *err);
	void *ctx;
	const volatile int *cancel;
	double timeout;
};
int kc_upatch_for_all(const struct kc_upatch_all *a, struct kc_err *err);

/* Start time of @pid (clock ticks since boot) and its state letter (may be NULL); -ESRCH: gone. */
int kc_upatch_starttime(pid_t pid, uint64_t *starttime, char *state);

/* @pid started at @start is gone: exiting, exited (a zombie counts), or its PID reused. */
bool kc_upatch_gone(pid_t pid, uint64_t start);

/* Thread @tid has begun to exit (or is gone): its process's memory may be going with it. */
bool kc_upatch_exiting(pid_t tid);

#endif
