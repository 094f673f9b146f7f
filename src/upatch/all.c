// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * "Every process" as a fixed point rather than a snapshot: a process
 * forked from one we are changing, after we listed the processes but
 * before its parent's change, carries the parent's old state. So the list
 * is read again after each pass and the processes not seen yet are
 * visited, until a pass changes nothing. Processes are identified by PID
 * and start time, so a reused PID is a new process.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kcare/proc.h"
#include "upatch/session.h"

/* passes that found work to do, at most: a fork bomb must not keep us forever */
#define MAX_PASSES 1000

struct seen {
	pid_t pid;
	uint64_t start;
	bool retry; /* failed with -ESRCH while alive (execve): once more */
};

struct seen_set {
	struct seen *v;
	size_t n, cap;
};

/* The kernel's task flag for "in exit": set first thing in do_exit, before the mm goes. */
#define TASK_PF_EXITING 0x4u

/* Start time, state letter and task flags from /proc/PID/stat; -ESRCH: gone. */
static int stat_fields(pid_t pid, uint64_t *starttime, char *state, unsigned *flags)
{
	char path[64], buf[1024], *rp;
	unsigned long long st = 0;
	unsigned fl = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* the command name may hold anything: fields count from the last ')' */
	rp = strrchr(buf, ')');
	if (!rp || rp[1] != ' ' ||
	    sscanf(rp + 2,
		   "%*c %*d %*d %*d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
		   "%*d %llu",
		   &fl, &st) != 2)
		return -ESRCH;
	if (state)
		*state = rp[2];
	if (flags)
		*flags = fl;
	*starttime = st;
	return 0;
}

int kc_upatch_starttime(pid_t pid, uint64_t *starttime, char *state)
{
	return stat_fields(pid, starttime, state, NULL);
}

static struct seen *seen_find(struct seen_set *s, pid_t pid, uint64_t start)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].pid == pid && s->v[i].start == start)
			return &s->v[i];
	return NULL;
}

static struct seen *seen_add(struct seen_set *s, pid_t pid, uint64_t start)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct seen *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = (struct seen){.pid = pid, .start = start};
	return &s->v[s->n++];
}

bool kc_upatch_gone(pid_t pid, uint64_t start)
{
	uint64_t now;
	unsigned flags = 0;
	char state = 0;

	/* exiting counts: its memory may already be gone while it is not a zombie yet */
	return stat_fields(pid, &now, &state, &flags) < 0 || now != start || state == 'Z' ||
	       state == 'X' || (flags & TASK_PF_EXITING);
}

bool kc_upatch_exiting(pid_t tid)
{
	uint64_t start;
	unsigned flags = 0;
	char state = 0;

	return stat_fields(tid, &start, &state, &flags) < 0 || state == 'Z' || state == 'X' ||
	       (flags & TASK_PF_EXITING);
}

static double mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int kc_upatch_for_all(const struct kc_upatch_all *a, struct kc_err *err)
{
	struct seen_set seen = {0};
	double deadline = mono_sec() + (a->timeout > 0 ? a->timeout : 0);
	int failed = 0, ret = 0;
	bool stop = false;

	for (unsigned pass = 0; !stop; pass++) {
		pid_t *pids = NULL;
		size_t npids = 0, work = 0;

		if (pass > 0 && (pass >= MAX_PASSES || mono_sec() > deadline)) {
			ret = kc_err_set(err, -EAGAIN,
					 "new processes with the old state kept appearing after %u "
					 "passes over every process",
					 pass);
			break;
		}
		ret = kc_proc_pids(&pids, &npids, err);
		if (ret < 0)
			break;
		for (size_t i = 0; i < npids && !stop; i++) {
			struct kc_err e = KC_ERR_INIT;
			struct seen *sn;
			uint64_t start;
			int r;

			if (a->cancel && *a->cancel)
				break;
			if (kc_upatch_starttime(pids[i], &start, NULL) < 0)
				continue;
			sn = seen_find(&seen, pids[i], start);
			if (sn && !sn->retry)
				continue;
			if (!sn && !(sn = seen_add(&seen, pids[i], start))) {
				ret = kc_err_set(err, -ENOMEM, "out of memory");
				stop = true;
				break;
			}
			if (a->candidate && !a->candidate(a->ctx, pids[i])) {
				sn->retry = false;
				continue;
			}
			r = a->visit(a->ctx, pids[i], start, &e);
			if (r > 0)
				work++;
			if (r >= 0) {
				sn->retry = false;
				continue;
			}
			if (!(a->cancel && *a->cancel) && kc_upatch_gone(pids[i], start)) {
				sn->retry = false; /* exited at some step: not a failure */
				continue;
			}
			if (!(a->cancel && *a->cancel) && e.code == -ESRCH && !sn->retry) {
				sn->retry =
				    true; /* it called execve: the new image gets its turn */
				work++;
				continue;
			}
			sn->retry = false;
			failed++;
			if (a->failed && a->failed(a->ctx, pids[i], &e))
				stop = true;
		}
		free(pids);
		if (ret < 0 || (a->cancel && *a->cancel) || work == 0)
			break;
	}
	free(seen.v);
	return ret < 0 ? ret : failed;
}
