/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel side of the agent (src/kpatch): who the running kernel is,
 * whether it can take live patches, what a livepatch module says about
 * itself (.modinfo), loading and removing modules, and the livepatch sysfs
 * state with the wait for a transition. Every path under /proc and /sys
 * goes through a system root ("" for the real one) so that tests can use
 * fake trees. Not here: which module to load (src/kcare/kernel-*.c).
 */
#ifndef KCARE_KPATCH_H
#define KCARE_KPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kcare/err.h"

/* Module names are at most 55 characters (the kernel's MODULE_NAME_LEN - 1). */
#define KC_KPATCH_NAME_MAX 64
/* Every module kcare loads starts with this; any other livepatch is another vendor's. */
#define KC_KPATCH_PREFIX "kcare_"

/* ROOT + @abs into @out. -ENAMETOOLONG if it does not fit. */
int kc_kpatch_path(const char *sysroot, const char *abs, char *out, size_t size,
		   struct kc_err *err);

/*
 * Reads a small file under the root into @buf (NUL-terminated, one trailing
 * newline dropped); returns its length. -ENOENT if missing.
 */
int kc_kpatch_read(const char *sysroot, const char *abs, char *buf, size_t size,
		   struct kc_err *err);

/* Writes @text to a sysfs/procfs file under the root (one write(2)). */
int kc_kpatch_write(const char *sysroot, const char *abs, const char *text, struct kc_err *err);

/* The running kernel. */
struct kc_kernel_ident {
	char sysname[65], nodename[65], release[65], version[257], machine[65];
	char kernel_id[41]; /* sha1 hex of the bytes of /proc/version; "" if unreadable */
	char build_id[129]; /* GNU build-id of vmlinux from /sys/kernel/notes; "" if none */
};

/*
 * Fills @id: uname(2), with release and version taken from
 * /proc/sys/kernel/{osrelease,version} under the root when those exist
 * (so fake trees can name another kernel), the kernel id and the build-id.
 * A missing /proc/version or notes file leaves that field empty; only a
 * failing uname(2) is an error.
 */
int kc_kpatch_ident(const char *sysroot, struct kc_kernel_ident *id, struct kc_err *err);

/*
 * The GNU build-id in a sequence of ELF notes (the bytes of
 * /sys/kernel/notes), as lowercase hex into @hex. -ENOENT if no
 * NT_GNU_BUILD_ID note, -EBADMSG if a note runs past the end.
 */
int kc_kpatch_notes_buildid(const void *buf, size_t len, char *hex, size_t size,
			    struct kc_err *err);

/*
 * Whether this kernel can take live patches: module loading exists
 * (/proc/modules), livepatch exists (/sys/kernel/livepatch), loading is not
 * disabled (/proc/sys/kernel/modules_disabled) and lockdown does not forbid
 * unsigned modules... in one line. Returns 0 or -EOPNOTSUPP with the reason
 * ("this kernel cannot load live patches (module loading is not available)").
 */
int kc_kpatch_supported(const char *sysroot, struct kc_err *err);

/* What a module's .modinfo says (kernel tags and docs/kernel-patches.md's kcare_* tags). */
struct kc_modinfo {
	char name[KC_KPATCH_NAME_MAX];
	char vermagic[256];
	char kcare_id[64];
	uint32_t kcare_level; /* 0 if absent */
	char kcare_build_id[129];
	char kcare_kernel_id[41];
	char kcare_release[65];
	char kcare_effective[65];
	bool livepatch; /* livepatch=Y */
};

/*
 * Parses the .modinfo section of the ELF relocatable object in @buf
 * (libelf, from memory). -ENOEXEC if it is not an ELF relocatable object
 * with .modinfo, -EBADMSG for a tag too long or a bad kcare_level.
 */
int kc_kpatch_modinfo_parse(const void *buf, size_t len, struct kc_modinfo *mi, struct kc_err *err);

/*
 * Whether @mi is a kcare live patch for the kernel @id, before anything is
 * loaded: name starts with kcare_, livepatch=Y, vermagic's release is
 * @id->release, kcare_build_id equals @id->build_id when both are known and
 * kcare_kernel_id equals @id->kernel_id when both are known. -EXDEV with
 * the difference for a module built for another kernel, -EINVAL otherwise.
 */
int kc_kpatch_modinfo_check(const struct kc_modinfo *mi, const struct kc_kernel_ident *id,
			    struct kc_err *err);

/* Whether a livepatch or module name is kcare's. */
bool kc_kpatch_is_ours(const char *name);

/* One patch in /sys/kernel/livepatch. */
struct kc_klp {
	char name[KC_KPATCH_NAME_MAX];
	bool enabled, transition;
	bool ours; /* kc_kpatch_is_ours(name) */
};

/* Every livepatch, sorted by name; caller frees *@v. None (or no directory) is 0 patches. */
int kc_kpatch_klp_list(const char *sysroot, struct kc_klp **v, size_t *n, struct kc_err *err);

/* One livepatch's state; -ENOENT once it is gone from sysfs. */
int kc_kpatch_klp_get(const char *sysroot, const char *name, struct kc_klp *out,
		      struct kc_err *err);

/*
 * Names of the loaded modules (/proc/modules) that start with @prefix
 * (NULL: all), in the file's order; caller frees *@names.
 */
int kc_kpatch_modules(const char *sysroot, const char *prefix, char (**names)[KC_KPATCH_NAME_MAX],
		      size_t *n, struct kc_err *err);

/*
 * finit_module(2) of the module in @fd, no parameters. -EEXIST when a
 * module of that name is loaded, -EPERM when loading is forbidden, else the
 * kernel's errno, each with one line.
 */
int kc_kpatch_module_load(int fd, const char *name, struct kc_err *err);

/*
 * delete_module(2) of @name (O_NONBLOCK), retried while the kernel still
 * holds it (livepatch drops its reference asynchronously after a patch is
 * disabled or replaced) for up to @timeout seconds. -ENOENT if not loaded.
 */
int kc_kpatch_module_unload(const char *name, double timeout, struct kc_err *err);

/*
 * How the wait for a transition nudges the tasks that block it (PATCH_METHOD
 * and --freezer): livepatch switches a sleeping task only when its stack
 * holds no function being replaced; a nudge (kc_kpatch_nudge()) wakes such
 * tasks so that they pass through a switch point.
 */
enum kc_kpatch_method {
	KC_KPATCH_SMART, /* wait; after the first second, nudge every few seconds */
	KC_KPATCH_FULL,	 /* nudge at once and every second */
	KC_KPATCH_NONE,	 /* never nudge: only wait */
};

/*
 * One nudge of the tasks that block livepatch @name's transition toward
 * @target (1 patching, 0 unpatching): <patch>/signal where the kernel has
 * it (before 5.10), else a short ptrace interrupt of each blocking user
 * task (nudge.c says how). Returns the number of tasks (or signal writes)
 * nudged; failures only mean fewer.
 */
unsigned kc_kpatch_nudge(const char *sysroot, const char *name, int target);

/* "smart"/"full"/"none", and PATCH_METHOD's "smart"/"normal"/"nofreeze". -EINVAL otherwise. */
int kc_kpatch_method_parse(const char *s, enum kc_kpatch_method *out, struct kc_err *err);
const char *kc_kpatch_method_name(enum kc_kpatch_method m);

/* A task that holds a transition back. */
struct kc_kpatch_blocker {
	pid_t pid, tid;
	char comm[32];
	char func[128];	 /* top function of its kernel stack ("" if unknown) */
	char stack[512]; /* the first frames, "f1 < f2 < ..." */
};

/*
 * Tasks whose /proc/PID/task/TID/patch_state is neither @target nor -1
 * (not in a transition). Caller frees *@v.
 */
int kc_kpatch_blockers(const char *sysroot, int target, struct kc_kpatch_blocker **v, size_t *n,
		       struct kc_err *err);

struct kc_kpatch_wait_opts {
	enum kc_kpatch_method method;
	bool force;	/* at the deadline write 1 to <patch>/force instead of reversing */
	double timeout; /* seconds until the deadline */
	const volatile int *cancel; /* set: act as at the deadline now */
};

struct kc_kpatch_wait_result {
	double seconds;	  /* how long the transition took (or until the deadline) */
	unsigned signals; /* tasks nudged (kc_kpatch_nudge()) */
	bool forced;	  /* finished by writing to force */
	bool reversed;	  /* did not finish: reversed */
	struct kc_kpatch_blocker *blockers; /* owned; the tasks at the deadline */
	size_t nblockers;
};
void kc_kpatch_wait_result_release(struct kc_kpatch_wait_result *r);

/*
 * Waits for the transition of livepatch @name toward @enable (true: the
 * patch applies; false: it is removed) with a deadline. At the deadline
 * (or on cancel) with @o->force the force knob ends it; otherwise the
 * blockers are recorded, the transition is reversed (enabled := !@enable)
 * and that reversal is waited for too. Returns 0 when the wanted state was
 * reached, -ETIMEDOUT when it was reversed (kernel as before; the message
 * names the blockers), -EBUSY when even the reversal did not end.
 */
int kc_kpatch_transition_wait(const char *sysroot, const char *name, bool enable,
			      const struct kc_kpatch_wait_opts *o,
			      struct kc_kpatch_wait_result *res, struct kc_err *err);

/* The kcare level live in the kernel: the kernel's own truth (/proc/kcare, livepatch sysfs). */
struct kc_kpatch_live {
	char module[KC_KPATCH_NAME_MAX]; /* the enabled kcare livepatch, "" if none */
	bool transition;		 /* it is still in its transition */
	bool proc;			 /* /proc/kcare exists */
	char id[64];			 /* /proc/kcare/id */
	uint32_t level;	    /* /proc/kcare/level, else the module name's _N suffix; 0 none */
	char effective[65]; /* /proc/kcare/effective_version ("" if none) */
	char others[256];   /* other vendors' livepatches, comma-separated ("" if none) */
	size_t nothers;
};

/* Reads the live state. Errors only for unreadable sysfs; nothing live is not an error. */
int kc_kpatch_live_read(const char *sysroot, struct kc_kpatch_live *out, struct kc_err *err);

/*
 * The release the kernel counts as (kcare-uname -r, kcarectl --uname): the
 * live level's effective version when one is published, else @id->release.
 */
void kc_kpatch_effective(const char *sysroot, const struct kc_kernel_ident *id, char *out,
			 size_t size);

#endif
