// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Waiting for a livepatch transition with a deadline, and what to do when
 * it does not finish. The kernel switches each task to the new state when
 * that task is at a safe point (no function being replaced on its stack);
 * this file only watches <patch>/transition and pulls livepatch's levers:
 *
 *   nudges           wake the tasks still in the old state (nudge.c: the
 *                    signal file of older kernels, or a short ptrace
 *                    interrupt); how often is the method (PATCH_METHOD,
 *                    --freezer)
 *   <patch>/force    1 = mark every task switched without checking its
 *                    stack (--force; unsafe for a task that is inside a
 *                    replaced function, which is why it is never the default)
 *   <patch>/enabled  written with the opposite value during a transition,
 *                    reverses it; the reversal is a transition of its own
 *
 * States of one wait: WAITING -> DONE (0); WAITING -> FORCED -> DONE (0,
 * forced); WAITING -> REVERSING -> REVERSED (-ETIMEDOUT) or STUCK (-EBUSY).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcare/kpatch.h"

#define POLL_NS		  (20 * 1000 * 1000)
#define SMART_FIRST	  1.0 /* seconds before the first signal */
#define SMART_EVERY	  3.0
#define FULL_EVERY	  1.0
#define FORCE_SETTLE	  5.0 /* after force, the kernel completes at its next retry */
#define REPORT_BLOCKERS_N 5

int kc_kpatch_method_parse(const char *s, enum kc_kpatch_method *out, struct kc_err *err)
{
	if (!strcasecmp(s, "smart"))
		*out = KC_KPATCH_SMART;
	else if (!strcasecmp(s, "full") || !strcasecmp(s, "normal"))
		*out = KC_KPATCH_FULL;
	else if (!strcasecmp(s, "none") || !strcasecmp(s, "nofreeze"))
		*out = KC_KPATCH_NONE;
	else
		return kc_err_set(
		    err, -EINVAL,
		    "freezer '%s' is not none, full or smart (PATCH_METHOD: nofreeze, "
		    "normal or smart)",
		    s);
	return 0;
}

const char *kc_kpatch_method_name(enum kc_kpatch_method m)
{
	return m == KC_KPATCH_FULL ? "full" : m == KC_KPATCH_NONE ? "none" : "smart";
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool numeric(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* "[<0>] do_nanosleep+0x7a/0x150" -> "do_nanosleep" */
static void frame_func(const char *line, char *out, size_t size)
{
	const char *p = strstr(line, "] ");
	size_t l;

	p = p ? p + 2 : line;
	l = strcspn(p, "+ \n");
	snprintf(out, size, "%.*s", (int)l, p);
}

static void task_stack(const char *sysroot, const char *dir, struct kc_kpatch_blocker *b)
{
	char abs[512], text[4096], func[128];
	char *line, *save = NULL;
	size_t used = 0;
	int frames = 0;

	snprintf(abs, sizeof(abs), "%s/stack", dir);
	if (kc_kpatch_read(sysroot, abs, text, sizeof(text), NULL) <= 0)
		return;
	for (line = strtok_r(text, "\n", &save); line && frames < 6;
	     line = strtok_r(NULL, "\n", &save), frames++) {
		int n;

		frame_func(line, func, sizeof(func));
		if (frames == 0)
			snprintf(b->func, sizeof(b->func), "%s", func);
		n = snprintf(b->stack + used, sizeof(b->stack) - used, "%s%s", frames ? " < " : "",
			     func);
		if (n < 0 || (size_t)n >= sizeof(b->stack) - used)
			break;
		used += (size_t)n;
	}
}

static int blockers_of(const char *sysroot, const char *pid, int target,
		       struct kc_kpatch_blocker **v, size_t *n, struct kc_err *err)
{
	char abs[512], path[4096], v_state[16];
	struct dirent *de;
	DIR *d;

	snprintf(abs, sizeof(abs), "/proc/%s/task", pid);
	if (kc_kpatch_path(sysroot, abs, path, sizeof(path), err) < 0)
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return 0; /* exited meanwhile */
	while ((de = readdir(d))) {
		char dir[128];
		struct kc_kpatch_blocker *nv, *b;
		long state;

		if (!numeric(de->d_name))
			continue;
		snprintf(dir, sizeof(dir), "/proc/%.24s/task/%.24s", pid, de->d_name);
		snprintf(abs, sizeof(abs), "%s/patch_state", dir);
		if (kc_kpatch_read(sysroot, abs, v_state, sizeof(v_state), NULL) <= 0)
			continue;
		state = strtol(v_state, NULL, 10);
		if (state == -1 || state == target)
			continue;
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv) {
			closedir(d);
			return kc_err_set(err, -ENOMEM, "out of memory");
		}
		*v = nv;
		b = &nv[(*n)++];
		memset(b, 0, sizeof(*b));
		b->pid = (pid_t)atoi(pid);
		b->tid = (pid_t)atoi(de->d_name);
		snprintf(abs, sizeof(abs), "%s/comm", dir);
		kc_kpatch_read(sysroot, abs, b->comm, sizeof(b->comm), NULL);
		task_stack(sysroot, dir, b);
	}
	closedir(d);
	return 0;
}

int kc_kpatch_blockers(const char *sysroot, int target, struct kc_kpatch_blocker **v, size_t *n,
		       struct kc_err *err)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int ret = kc_kpatch_path(sysroot, "/proc", path, sizeof(path), err);

	*v = NULL;
	*n = 0;
	if (ret < 0)
		return ret;
	d = opendir(path);
	if (!d)
		return kc_err_set(err, -errno, "cannot list '%s': %s", path, strerror(errno));
	while (ret == 0 && (de = readdir(d)))
		if (numeric(de->d_name))
			ret = blockers_of(sysroot, de->d_name, target, v, n, err);
	closedir(d);
	if (ret < 0) {
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return ret;
}

void kc_kpatch_wait_result_release(struct kc_kpatch_wait_result *r)
{
	free(r->blockers);
	memset(r, 0, sizeof(*r));
}

/* 1 when @name reached the end of a transition toward @enable, 0 while not, <0 on error. */
static int reached(const char *sysroot, const char *name, bool enable, struct kc_err *err)
{
	struct kc_klp k;
	int ret = kc_kpatch_klp_get(sysroot, name, &k, err);

	if (ret == -ENOENT) {
		/* a disabled patch leaves sysfs; an enabled one must stay */
		if (!enable)
			return 1;
		return kc_err_set(err, -EIO, "livepatch '%s' went away during its transition",
				  name);
	}
	if (ret < 0)
		return ret;
	return !k.transition && k.enabled == enable;
}

static void nudge(const char *sysroot, const char *name, bool enable,
		  struct kc_kpatch_wait_result *res)
{
	res->signals += kc_kpatch_nudge(sysroot, name, enable ? 1 : 0);
}

/*
 * Polls until @name reaches @enable or @timeout passes, signalling as
 * @method says. 1 reached, 0 timed out or cancelled, <0 error.
 */
static int poll_until(const char *sysroot, const char *name, bool enable,
		      enum kc_kpatch_method method, double timeout, const volatile int *cancel,
		      struct kc_kpatch_wait_result *res, struct kc_err *err)
{
	struct timespec pause = {0, POLL_NS};
	double t0 = now_s(), last = -1e9;

	for (;;) {
		double t = now_s(), el = t - t0;
		int r = reached(sysroot, name, enable, err);

		if (r != 0)
			return r;
		if (el >= timeout || (cancel && *cancel))
			return 0;
		if ((method == KC_KPATCH_FULL && t - last >= FULL_EVERY) ||
		    (method == KC_KPATCH_SMART && el >= SMART_FIRST && t - last >= SMART_EVERY)) {
			nudge(sysroot, name, enable, res);
			last = t;
		}
		nanosleep(&pause, NULL);
	}
}

static void blockers_text(const struct kc_kpatch_wait_result *res, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < res->nblockers && i < REPORT_BLOCKERS_N; i++) {
		const struct kc_kpatch_blocker *b = &res->blockers[i];
		int n = snprintf(out + used, size - used, "%s%d %s (in %s)", i ? ", " : "", b->tid,
				 b->comm, b->func[0] ? b->func : "?");

		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
	if (res->nblockers > REPORT_BLOCKERS_N)
		snprintf(out + used, size - used, " and %zu more",
			 res->nblockers - REPORT_BLOCKERS_N);
	if (!res->nblockers)
		snprintf(out, size, "no task named (patch_state unreadable)");
}

int kc_kpatch_transition_wait(const char *sysroot, const char *name, bool enable,
			      const struct kc_kpatch_wait_opts *o,
			      struct kc_kpatch_wait_result *res, struct kc_err *err)
{
	char abs[256], who[320];
	double t0 = now_s();
	int r;

	memset(res, 0, sizeof(*res));
	r = poll_until(sysroot, name, enable, o->method, o->timeout, o->cancel, res, err);
	res->seconds = now_s() - t0;
	if (r != 0)
		return r < 0 ? r : 0;
	/* the deadline (or a cancel): who held it back, then force or reverse */
	kc_kpatch_blockers(sysroot, enable ? 1 : 0, &res->blockers, &res->nblockers, NULL);
	blockers_text(res, who, sizeof(who));
	if (o->force) {
		snprintf(abs, sizeof(abs), "/sys/kernel/livepatch/%s/force", name);
		r = kc_kpatch_write(sysroot, abs, "1", err);
		if (r < 0 && reached(sysroot, name, enable, NULL) != 1)
			return r;
		res->forced = true;
		r = poll_until(sysroot, name, enable, KC_KPATCH_NONE, FORCE_SETTLE, NULL, res, err);
		res->seconds = now_s() - t0;
		if (r < 0)
			return r;
		if (r == 0)
			return kc_err_set(err, -EBUSY,
					  "livepatch '%s': the transition did not end even after "
					  "force",
					  name);
		return 0;
	}
	snprintf(abs, sizeof(abs), "/sys/kernel/livepatch/%s/enabled", name);
	r = kc_kpatch_write(sysroot, abs, enable ? "0" : "1", err);
	if (r < 0) {
		/* it finished just now: take it */
		if (reached(sysroot, name, enable, NULL) == 1)
			return 0;
		return r;
	}
	res->reversed = true;
	r = poll_until(sysroot, name, !enable,
		       o->method == KC_KPATCH_NONE ? KC_KPATCH_NONE : KC_KPATCH_FULL,
		       o->timeout > 5 ? o->timeout : 5, NULL, res, err);
	if (r < 0)
		return r;
	if (r == 0)
		return kc_err_set(err, -EBUSY,
				  "livepatch '%s': the transition did not finish in %.0f s and its "
				  "reversal is still running; blocked by: %s",
				  name, o->timeout, who);
	return kc_err_set(err, -ETIMEDOUT,
			  "livepatch '%s': the transition did not finish in %.0f s and was "
			  "reversed; blocked by: %s",
			  name, o->timeout, who);
}
