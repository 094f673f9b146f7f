/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kcarectl's userspace back end (LibraryCare, QEMUCare, DatabaseCare): the
 * patches this host should run, fetched from the patch server's signed
 * feeds or taken from the local cache, and applied to every running
 * process that maps a target, except blacklisted ones; what is applied
 * where; unloading; the status and check answers.
 */
#ifndef KCARE_LIBCARE_H
#define KCARE_LIBCARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kcare/agent.h"

struct json_object;

enum kc_lc_policy {
	KC_LC_REMOTE,	   /* the server only; it being down is an error */
	KC_LC_LOCAL,	   /* the cache only; never the network */
	KC_LC_LOCAL_FIRST, /* the server; if it cannot be reached, the cache */
};

/* UPDATE_POLICY of the config; -EINVAL for an unknown value. */
int kc_lc_policy_get(const struct kc_agent *a, enum kc_lc_policy *out, struct kc_err *err);

/* What one run works with: the chosen patches, verified, parsed. */
struct kc_lc_plan;

struct kc_lc_plan_opts {
	unsigned products;  /* KC_PRODUCT_{LIBS,QEMU,DB} to apply */
	const char *prefix; /* --prefix, NULL: PREFIX from the config */
	enum kc_lc_policy policy;
	bool metadata_only; /* --check: no blob is downloaded or parsed */
};

/*
 * Builds the plan. Remote: a TUF update of the trust state for the wanted
 * feed files (one per product), the choice (kc_choose), the chosen blobs
 * downloaded into the cache (verified, written atomically) and the choice
 * saved to selected.json. Local: selected.json and the cached blobs, each
 * verified again against its recorded length and SHA-256 (a corrupted file
 * is refused and removed). *@fell_back is set when LOCAL_FIRST used the
 * cache because the server failed (@warn then holds the reason).
 */
int kc_lc_plan_make(struct kc_agent *a, const struct kc_lc_plan_opts *o, struct kc_lc_plan **out,
		    bool *fell_back, struct kc_err *warn, struct kc_err *err);
void kc_lc_plan_free(struct kc_lc_plan *p);

/* Number of patches in the plan, and the newest patchset chosen per product ("" if none). */
size_t kc_lc_plan_count(const struct kc_lc_plan *p);
const char *kc_lc_plan_newest(const struct kc_lc_plan *p, unsigned product);
size_t kc_lc_plan_held_back(const struct kc_lc_plan *p);
const char *kc_lc_plan_feed(const struct kc_lc_plan *p);

/* One process's result in an update. */
enum kc_lc_proc_state {
	KC_LC_PATCHED,	/* at least one patch applied or upgraded */
	KC_LC_UPTODATE, /* every patch for it was already applied */
	KC_LC_SKIPPED,	/* blacklisted, or gone */
	KC_LC_FAILED,
};

struct kc_lc_proc {
	pid_t pid;
	char comm[32];
	char exe[512];
	enum kc_lc_proc_state state;
	char reason[512]; /* SKIPPED: the rule ("blacklisted by filename:x"); FAILED: the error */
	unsigned applied; /* patches applied or upgraded in this run */
};

struct kc_lc_result {
	struct kc_lc_proc *procs; /* only processes that map a target */
	size_t nprocs;
	size_t patched, uptodate, skipped, failed;
	char blacklist_source[KC_AGENT_PATH_MAX]; /* "" when no blacklist file exists */
};
void kc_lc_result_free(struct kc_lc_result *r);

/* Progress: called once per process that maps a target, as soon as it is done. */
typedef void (*kc_lc_proc_fn)(void *ctx, const struct kc_lc_proc *p);

struct kc_lc_apply_opts {
	double timeout; /* seconds per process (LIBCARE_TIMEOUT) */
	const volatile int
	    *cancel;		/* stop between processes; an operation in progress rolls back */
	kc_lc_proc_fn progress; /* may be NULL */
	void *progress_ctx;
};

/*
 * Applies the plan to every process that maps a target, except kcarectl
 * itself and blacklisted processes (reported SKIPPED with the rule).
 * Failures of single processes are in the result, not in the return value,
 * which is negative only when nothing could be tried (the blacklist does
 * not parse, /proc cannot be read). Updates the CVE list of applied
 * userspace patches.
 */
int kc_lc_apply(struct kc_agent *a, const struct kc_lc_plan *plan, const struct kc_lc_apply_opts *o,
		struct kc_lc_result *out, struct kc_err *err);

/*
 * Reverts every userspace patch in every process (kcarectl --lib-unload)
 * and empties the CVE list. Counts go to @out as for apply (PATCHED here
 * means "unpatched").
 */
int kc_lc_unload(struct kc_agent *a, const struct kc_lc_apply_opts *o, struct kc_lc_result *out,
		 struct kc_err *err);

/*
 * kcarectl --lib-info: a JSON array of the processes that have userspace
 * patches applied, each as kc_upatch_info() describes it. Reads targets
 * without stopping them.
 */
int kc_lc_info(struct kc_agent *a, struct json_object **out, struct kc_err *err);

/*
 * kcarectl --lib-patch-info: a JSON array, one object per applied patch
 * (id, level, build_id, object, cves, description, patchset and product when
 * the cache knows them, pids).
 */
int kc_lc_patch_info(struct kc_agent *a, struct json_object **out, struct kc_err *err);

/*
 * Compares the plan with what runs: *@pending = processes mapping a target
 * of the plan whose applied level is lower or missing (blacklisted ones are
 * not counted), *@applied = processes with any userspace patch applied.
 * @plan may be NULL (no plan yet: nothing is pending).
 */
int kc_lc_compare(struct kc_agent *a, const struct kc_lc_plan *plan, size_t *pending,
		  size_t *applied, struct kc_err *err);

/* The CVEs of the userspace patches applied now, one per line, sorted (libcare_cvelist). */
int kc_lc_write_cvelist(struct kc_agent *a, struct kc_err *err);

/* Seconds per process: @override when >= 0, else LIBCARE_TIMEOUT (0-3600), else 5. */
double kc_lc_timeout(const struct kc_agent *a, double override);

/*
 * The userspace products of a run: @list ("libs,qemu"...), else
 * USERSPACE_PATCHES, within what the registration @reg allows (NULL: not
 * registered, no limit). -EINVAL for a bad list or one naming the kernel.
 */
struct kc_reg;
int kc_lc_products(const struct kc_agent *a, const char *list, const struct kc_reg *reg,
		   unsigned *mask, struct kc_err *err);

/*
 * One userspace update (kcarectl --lib-update and the timer's
 * --auto-update), the whole workflow: UPDATE_POLICY, LIBCARE_DISABLED and
 * AUTO_UPDATE, the agent's lock, a check-in before (a failure is a warning:
 * the saved registration is used) and after, the plan, and applying it to
 * every process. Returns negative only when nothing was applied; failures
 * of single processes are in u->res. Free with kc_lc_update_free().
 */
enum kc_lc_update_outcome {
	KC_LC_UPDATE_DONE,
	KC_LC_UPDATE_AUTO_OFF,	 /* automatic, and AUTO_UPDATE is off */
	KC_LC_UPDATE_DISABLED,	 /* automatic, and userspace patching is disabled */
	KC_LC_UPDATE_NO_PRODUCT, /* the products asked for and the key's have none in common */
};

struct kc_lc_update_opts {
	const char *prefix;   /* --prefix, NULL: PREFIX */
	const char *products; /* --userspace-update's list, NULL: USERSPACE_PATCHES */
	bool automatic;	      /* the timer's run: switched off is not an error */
	double timeout;	      /* seconds per process, < 0: kc_lc_timeout() */
	const volatile int *cancel;
	kc_lc_proc_fn progress; /* may be NULL */
	void *progress_ctx;
	/* things worth saying that do not stop the update; may be NULL */
	void (*warn)(void *ctx, const char *line);
	void *warn_ctx;
};

struct kc_lc_update {
	enum kc_lc_update_outcome outcome;
	enum kc_lc_policy policy;
	unsigned products;	 /* applied for */
	bool fell_back;		 /* LOCAL_FIRST used the cache: the server could not be reached */
	struct kc_lc_plan *plan; /* DONE only */
	struct kc_lc_result res; /* DONE only */
};

int kc_lc_update(struct kc_agent *a, const struct kc_lc_update_opts *o, struct kc_lc_update *u,
		 struct kc_err *err);
void kc_lc_update_free(struct kc_lc_update *u);

#endif
