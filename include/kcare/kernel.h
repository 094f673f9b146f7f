/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kcarectl's kernel back end (KernelCare): the patch level this kernel
 * should run, from the patch server's signed "kernel" feed or from the
 * cache (/var/cache/kcare/kernel), loaded as a livepatch module after it
 * was checked against the running kernel; unloading; what is live; the
 * status and check answers. The kernel side itself is src/kpatch.
 */
#ifndef KCARE_KERNEL_H
#define KCARE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kcare/agent.h"
#include "kcare/kpatch.h"
#include "kcare/libcare.h"

struct json_object;

/* One patch level for one kernel, as the signed feed entry describes it. */
struct kc_kernel_entry {
	char patchset[96];
	char sha256[65];
	uint64_t length;
	char build_id[129]; /* "" when the entry names the kernel by kernel_id */
	char kernel_id[41]; /* "" when by build_id */
	char module[KC_KPATCH_NAME_MAX];
	uint32_t level;
	int64_t released;
	char file[KC_AGENT_PATH_MAX + 80]; /* the cached module */
	struct json_object *meta;	   /* owned: the signed entry (cves, kpatch-* fields) */
};

struct kc_kernel_plan {
	bool found; /* the feed (or cache) has a level for this kernel */
	struct kc_kernel_entry e;
	char feed[65];
	size_t held_back; /* levels for this kernel left out by the delay or sticky date */
	bool from_cache;
};
void kc_kernel_plan_release(struct kc_kernel_plan *p);

struct kc_kernel_plan_opts {
	const char *prefix; /* --prefix, NULL: PREFIX */
	enum kc_lc_policy policy;
	bool metadata_only; /* --check: nothing downloaded, the cache record untouched */
};

/*
 * The level for kernel @id. Remote: TUF update of the feed file for
 * product "kernel", the entries of kind "module" whose build_id or
 * kernel_id is this kernel's, within the delay and sticky date, the highest
 * level (then the newest); its module downloaded into the cache, verified,
 * and recorded in the cache's selected.json. Local: the record for this
 * kernel, the module verified again. LOCAL_FIRST takes the cache when it
 * has a level for this kernel and the server otherwise (as the documents
 * say). No level for this kernel is not an error: @out->found is false.
 * *@fell_back is set when the cache was used instead of the server.
 */
int kc_kernel_plan_make(struct kc_agent *a, const struct kc_kernel_ident *id,
			const struct kc_kernel_plan_opts *o, struct kc_kernel_plan *out,
			bool *fell_back, struct kc_err *err);

struct kc_kernel_apply_opts {
	struct kc_kpatch_wait_opts wait;
	bool load_sysctl; /* LOAD_KCARE_SYSCTL */
};

struct kc_kernel_result {
	bool already;	/* that level was live already: nothing loaded */
	double seconds; /* the transition */
	unsigned signals;
	bool forced;
	char removed[256]; /* older kcare modules removed, comma-separated */
	unsigned sysctl_set;
	char sysctl_warn[512]; /* a sysctl.conf line that could not be applied ("" none) */
};

/*
 * Loads the plan's level: the kernel can take it, no other vendor's
 * livepatch and no transition is active, the cached module's bytes match
 * the signed entry, its .modinfo names this kernel (kc_kpatch_modinfo_check),
 * then finit_module, the transition wait, and removal of every older kcare
 * module the replace left behind; then kernel.kcare_* lines of
 * /etc/sysconfig/kcare/sysctl.conf. A failure leaves the kernel as before
 * (a reversed transition's module is removed). Returns -EOPNOTSUPP
 * (cannot load), -EBUSY (another vendor, a transition running), -EXDEV
 * (module for another kernel), -EILSEQ (corrupted blob), -ETIMEDOUT
 * (transition reversed), ...
 */
int kc_kernel_apply(struct kc_agent *a, const struct kc_kernel_ident *id,
		    const struct kc_kernel_plan *plan, const struct kc_kernel_apply_opts *o,
		    struct kc_kernel_result *res, struct kc_err *err);

/*
 * Disables every kcare livepatch (waiting for each transition) and removes
 * every kcare module; never touches another vendor's. *@removed counts the
 * modules removed.
 */
int kc_kernel_unload(struct kc_agent *a, const struct kc_kpatch_wait_opts *o, size_t *removed,
		     struct kc_err *err);

/* Applies the kernel.kcare_* lines of sysctl.conf to the live level's switches. */
int kc_kernel_sysctl_apply(struct kc_agent *a, unsigned *set, char *warn, size_t warn_size,
			   struct kc_err *err);

/*
 * kcarectl --patch-info: the OS:/kernel:/time:/uname: header and the
 * kpatch-* blocks of the live level (from /proc/kcare/patches), as text
 * (caller frees). Nothing live gives the header alone.
 */
int kc_kernel_patch_info(struct kc_agent *a, const struct kc_kernel_ident *id, char **out,
			 struct kc_err *err);

/*
 * kcarectl --info: the live state as a JSON object (module, id, level,
 * effective version, release, transition, cves, other vendors' patches,
 * and the cached level for this kernel).
 */
int kc_kernel_info(struct kc_agent *a, const struct kc_kernel_ident *id, struct json_object **out,
		   struct kc_err *err);

/* What the patch server wants at check-in: kernel_id, patch_level (-1 none), effective_version. */
void kc_kernel_checkin_fields(const struct kc_agent *a, struct json_object *body);

#endif
