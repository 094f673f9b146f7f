// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Nudging the tasks that hold a livepatch transition back (the "freezer"
 * of PATCH_METHOD and --freezer). A task switches to the new code only
 * while no function being replaced is on its stack, so a task asleep in
 * such a function blocks the transition until it wakes. Kernels before
 * 5.10 have <patch>/signal for a fake signal to those tasks; later kernels
 * send one by themselves, but only every 15 s. Here, without that file, a
 * user task is woken the way a debugger does it: PTRACE_SEIZE and
 * PTRACE_INTERRUPT end its interruptible sleep in a ptrace stop outside the
 * function (its system call restarts later, as after a stop signal), the
 * kernel switches it at its next retry (about once a second), and
 * PTRACE_DETACH lets it go on, re-injecting a signal that arrived
 * meanwhile. A task stays stopped at most HOLD_S. Kernel threads, tasks
 * another tracer holds and tasks in uninterruptible sleep are left to the
 * kernel. If kcarectl dies while holding tasks, the kernel detaches them.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kcare/kpatch.h"

#define HOLD_S	1.5
#define STEP_NS (20 * 1000 * 1000)

struct held {
	pid_t pid, tid;
	bool stopped;
	int sig; /* a signal that arrived while held, for PTRACE_DETACH */
};

static bool switched(const char *sysroot, const struct held *h, int target)
{
	char abs[128], v[16];

	snprintf(abs, sizeof(abs), "/proc/%d/task/%d/patch_state", h->pid, h->tid);
	/* a task that is gone (or whose transition ended) holds nothing back */
	return kc_kpatch_read(sysroot, abs, v, sizeof(v), NULL) <= 0 || atoi(v) == target ||
	       atoi(v) == -1;
}

static void reap_stop(struct held *h)
{
	int st;

	if (h->stopped || waitpid(h->tid, &st, WNOHANG | __WALL) != h->tid)
		return;
	if (!WIFSTOPPED(st)) {
		h->tid = 0; /* exited */
		return;
	}
	h->stopped = true;
	/* a signal-delivery stop (not our PTRACE_EVENT_STOP): hand the signal back on detach */
	if ((st >> 16) == 0)
		h->sig = WSTOPSIG(st);
}

static unsigned nudge_ptrace(const char *sysroot, int target)
{
	struct kc_kpatch_blocker *b;
	struct timespec step = {0, STEP_NS};
	struct held *h;
	size_t n, nh = 0;
	double waited = 0;
	bool all;

	if (kc_kpatch_blockers(sysroot, target, &b, &n, NULL) < 0 || n == 0)
		return 0;
	h = calloc(n, sizeof(*h));
	for (size_t i = 0; h && i < n; i++) {
		if (b[i].pid == getpid())
			continue;
		if (ptrace(PTRACE_SEIZE, b[i].tid, NULL, NULL) < 0)
			continue;
		if (ptrace(PTRACE_INTERRUPT, b[i].tid, NULL, NULL) < 0) {
			ptrace(PTRACE_DETACH, b[i].tid, NULL, NULL);
			continue;
		}
		h[nh++] = (struct held){b[i].pid, b[i].tid, false, 0};
	}
	free(b);
	/* the kernel retries the transition about once a second */
	do {
		nanosleep(&step, NULL);
		waited += STEP_NS / 1e9;
		all = true;
		for (size_t i = 0; i < nh; i++) {
			if (!h[i].tid)
				continue;
			reap_stop(&h[i]);
			if (h[i].tid && !switched(sysroot, &h[i], target))
				all = false;
		}
	} while (!all && waited < HOLD_S);
	for (size_t i = 0; i < nh; i++) {
		if (!h[i].tid)
			continue;
		for (int k = 0; !h[i].stopped && h[i].tid && k < 10; k++) {
			reap_stop(&h[i]);
			if (!h[i].stopped)
				nanosleep(&step, NULL);
		}
		/* not stopped yet (uninterruptible sleep): it stops later and our exit frees it */
		ptrace(PTRACE_DETACH, h[i].tid, NULL, (void *)(long)h[i].sig);
	}
	free(h);
	return (unsigned)nh;
}

unsigned kc_kpatch_nudge(const char *sysroot, const char *name, int target)
{
	char abs[256], path[4096];
	struct stat st;

	snprintf(abs, sizeof(abs), "/sys/kernel/livepatch/%s/signal", name);
	if (kc_kpatch_path(sysroot, abs, path, sizeof(path), NULL) == 0 && stat(path, &st) == 0)
		return kc_kpatch_write(sysroot, abs, "1", NULL) == 0;
	/* a fake tree has no tasks to trace */
	if (sysroot && *sysroot)
		return 0;
	return nudge_ptrace(sysroot, target);
}
