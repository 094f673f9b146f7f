// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Thread control of one target process (see ptrace.h for the states).
 * Owns the wait loop and the decoding of ptrace stops; does not decide
 * when to stop or what to write, which is the transaction's job.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kcare/proc.h"
#include "upatch/ptrace.h"
#include "upatch/seccomp.h"

#define SEIZE_OPTIONS (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC)
#define MAX_REQUEUE   64 /* signals stashed during one remote syscall */

struct stashed_sig {
	siginfo_t info;
};

static struct kc_thread *thread_find(struct kc_proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].tid == tid)
			return &p->threads[i];
	return NULL;
}

static struct kc_thread *thread_add(struct kc_proc *p, pid_t tid, enum kc_thread_state st)
{
	struct kc_thread *t = thread_find(p, tid);

	if (t)
		return t;
	if (p->nthreads == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct kc_thread *v = realloc(p->threads, cap * sizeof(*v));

		if (!v)
			return NULL;
		p->threads = v;
		p->cap = cap;
	}
	t = &p->threads[p->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->state = st;
	return t;
}

size_t kc_ptrace_live_threads(const struct kc_proc *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nthreads; i++)
		n += p->threads[i].state != KC_THREAD_GONE;
	return n;
}

/* 'Z' or 'X' in /proc/PID/task/TID/stat: a thread that will never stop for us. */
static bool thread_is_dead(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *rp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return !rp || rp[1] != ' ' || rp[2] == 'Z' || rp[2] == 'X';
}

static int tracer_of(pid_t pid)
{
	char path[64], line[256];
	int tracer = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

/*
 * How two patchers on one process recognise each other, whichever front end
 * each is and in whatever mount or PID namespace: every process that runs
 * this engine holds a memfd of this name (created at its first attach), and
 * the ptrace attachment itself is the lock.
 */
#define PATCHER_MARK "kcare-upatch-patcher"

static void mark_patcher(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = memfd_create(PATCHER_MARK, MFD_CLOEXEC);
}

static bool is_patcher(pid_t tracer)
{
	static const char want[] = "/memfd:" PATCHER_MARK " (deleted)";
	char path[64], link[sizeof(want) + 1];
	bool found = false;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", tracer);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%.16s", tracer, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		found = n == (ssize_t)sizeof(want) - 1 && !memcmp(link, want, (size_t)n);
	}
	closedir(d);
	return found;
}

/*
 * EPERM and no tracer we can see: one in an ancestor PID namespace (a host
 * patcher, seen from a container's kcarectl), or one that has just let go.
 * Either is worth waiting for, unless we could not trace the process anyway.
 */
static bool tracer_hidden(pid_t pid)
{
	char path[64];
	struct stat st;
	int scope = 0;
	FILE *f;

	if (geteuid() == 0)
		return true;
	/* Yama refuses a non-root tracer its non-children: no use waiting then */
	f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d", pid);
	return scope == 0 && stat(path, &st) == 0 && st.st_uid == geteuid();
}

static int seize_thread(struct kc_proc *p, pid_t tid, struct kc_err *err)
{
	if (thread_is_dead(p->pid, tid))
		return 0;
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)SEIZE_OPTIONS) < 0) {
		int e = errno;
		int tracer;

		if (e == ESRCH)
			return 0; /* exited between listing and seizing */
		tracer = tracer_of(tid);
		if (e == EPERM && tracer > 0 && tracer != getpid()) {
			char comm[64] = "?";

			kc_proc_comm(tracer, comm, sizeof(comm), NULL);
			/* another of us: the caller may wait for it to finish */
			if (is_patcher(tracer))
				return kc_err_set(err, -EAGAIN,
						  "process %d is being patched by %s (pid %d)",
						  p->pid, comm, tracer);
			return kc_err_set(err, -EBUSY,
					  "process %d is already traced by process %d (%s)", p->pid,
					  tracer, comm);
		}
		if (e == EPERM && tracer == 0 && tracer_hidden(tid))
			return kc_err_set(err, -EAGAIN,
					  "process %d is traced by a process outside this PID "
					  "namespace",
					  p->pid);
		return kc_err_set(err, -e, "cannot attach to thread %d of process %d: %s", tid,
				  p->pid, strerror(e));
	}
	if (!thread_add(p, tid, KC_THREAD_RUNNING))
		return kc_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

int kc_ptrace_attach(struct kc_proc *p, pid_t pid, struct kc_err *err)
{
	char path[64];
	int ret = 0;

	mark_patcher();
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->memfd = -1;
	p->mm_tid = kc_proc_mm_tid(pid);
	snprintf(path, sizeof(path), "/proc/%d/mem", p->mm_tid);
	p->memfd = open(path, O_RDWR | O_CLOEXEC);
	if (p->memfd < 0)
		return kc_err_set(err, errno == ENOENT ? -ESRCH : -errno,
				  "cannot open memory of process %d: %s", pid, strerror(errno));

	/* Threads created by seized threads are auto-attached (TRACECLONE);
	 * re-scan until a pass finds nothing new to catch the others. */
	for (int pass = 0; pass < 1000; pass++) {
		pid_t *tids = NULL;
		size_t n = 0, added = 0;

		ret = kc_proc_tids(pid, &tids, &n, err);
		if (ret < 0)
			break;
		for (size_t i = 0; i < n && ret == 0; i++) {
			if (thread_find(p, tids[i]))
				continue;
			ret = seize_thread(p, tids[i], err);
			added++;
		}
		free(tids);
		if (ret < 0 || added == 0)
			break;
	}
	if (ret == 0 && kc_ptrace_live_threads(p) == 0)
		ret = kc_err_set(err, -ESRCH, "process %d has exited", pid);
	if (ret < 0) {
		struct kc_err ignored = KC_ERR_INIT;

		kc_ptrace_detach(p, &ignored);
	}
	return ret;
}

static bool is_group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * Decodes one wait status of @tid. With @want_stop, every stop other than
 * an event-stop is passed through after re-arming PTRACE_INTERRUPT, so the
 * thread ends in an event-stop once it has delivered its signal; without,
 * the thread is let go. Returns a negative errno only on a ptrace failure
 * that leaves the thread in an unknown state.
 */
static int handle_status(struct kc_proc *p, pid_t tid, int status, bool want_stop,
			 struct kc_err *err)
{
	struct kc_thread *t = thread_find(p, tid);
	int sig, event;

	if (!t) {
		/* an auto-attached new thread whose first stop beat its clone event */
		t = thread_add(p, tid, KC_THREAD_RUNNING);
		if (!t)
			return kc_err_set(err, -ENOMEM, "out of memory");
	}
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->state = KC_THREAD_GONE;
		return 0;
	}
	if (!WIFSTOPPED(status))
		return 0;
	sig = WSTOPSIG(status);
	event = status >> 16;

	switch (event) {
	case PTRACE_EVENT_STOP:
		if (want_stop || is_group_stop_sig(sig)) {
			int ret = kc_arch_getregs(tid, &t->regs, err);

			if (ret == -ESRCH) {
				t->state = KC_THREAD_GONE;
				return 0;
			}
			if (ret < 0)
				return ret;
			t->state = KC_THREAD_STOPPED;
			t->group_stop_sig = is_group_stop_sig(sig) ? sig : 0;
			return 0;
		}
		/* a late interrupt, or a new thread's first stop: let it run */
		if (ptrace(PTRACE_CONT, tid, NULL, NULL) < 0 && errno != ESRCH)
			return kc_err_set(err, -errno, "cannot resume thread %d: %s", tid,
					  strerror(errno));
		t->state = KC_THREAD_RUNNING;
		return 0;
	case PTRACE_EVENT_EXEC:
		/* every other thread is gone; the leader's tid now runs the new image */
		for (size_t i = 0; i < p->nthreads; i++)
			if (p->threads[i].tid != tid)
				p->threads[i].state = KC_THREAD_GONE;
		p->execed = true;
		t->state = KC_THREAD_STOPPED;
		t->group_stop_sig = 0;
		return kc_arch_getregs(tid, &t->regs, err) == -ESRCH ? 0 : 0;
	case PTRACE_EVENT_CLONE: {
		unsigned long child = 0;

		if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &child) == 0 && child)
			if (!thread_add(p, (pid_t)child, KC_THREAD_RUNNING))
				return kc_err_set(err, -ENOMEM, "out of memory");
		sig = 0;
		break;
	}
	case 0:
		if (sig == (SIGTRAP | 0x80))
			sig = 0; /* a stray syscall-stop: nothing to deliver */
		break;
	default:
		sig = 0;
		break;
	}
	/* pass the stop through, delivering its signal unchanged */
	if (want_stop && ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 && errno != ESRCH)
		return kc_err_set(err, -errno, "cannot interrupt thread %d: %s", tid,
				  strerror(errno));
	if (ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig) < 0) {
		if (errno == ESRCH)
			return 0; /* died meanwhile: its exit status follows */
		return kc_err_set(err, -errno, "cannot resume thread %d: %s", tid, strerror(errno));
	}
	t->state = KC_THREAD_RUNNING;
	return 0;
}

static int wait_any(struct kc_proc *p, bool want_stop, int flags, struct kc_err *err)
{
	int status;
	pid_t tid = waitpid(-1, &status, __WALL | flags);

	if (tid == 0)
		return 0;
	if (tid < 0) {
		if (errno == EINTR)
			return 0;
		if (errno == ECHILD) {
			for (size_t i = 0; i < p->nthreads; i++)
				p->threads[i].state = KC_THREAD_GONE;
			return 0;
		}
		return kc_err_set(err, -errno, "waitpid: %s", strerror(errno));
	}
	int ret = handle_status(p, tid, status, want_stop, err);

	return ret < 0 ? ret : 1;
}

/*
 * Waits for the next wait status of @t. Events of other threads are
 * handled meanwhile (running ones are let go): waiting on one tid alone
 * could deadlock, as a traced zombie leader is only reported once its
 * tracer has reaped the other threads of an exiting process.
 */
static int wait_thread(struct kc_proc *p, struct kc_thread *t, int *status, struct kc_err *err)
{
	for (;;) {
		int st, ret;
		pid_t w = waitpid(-1, &st, __WALL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD) {
				for (size_t i = 0; i < p->nthreads; i++)
					p->threads[i].state = KC_THREAD_GONE;
				return kc_err_set(err, -ESRCH, "process %d exited", p->pid);
			}
			return kc_err_set(err, -errno, "waitpid: %s", strerror(errno));
		}
		if (w == t->tid) {
			*status = st;
			return 0;
		}
		ret = handle_status(p, w, st, false, err);
		if (ret < 0)
			return ret;
	}
}

static bool any_running(const struct kc_proc *p)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].state == KC_THREAD_RUNNING)
			return true;
	return false;
}

static int interrupt_thread(struct kc_proc *p, struct kc_thread *t, struct kc_err *err)
{
	if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) == 0)
		return 0;
	if (errno == ESRCH) {
		/* exited (its status will come) or a zombie that never stops */
		if (thread_is_dead(p->pid, t->tid))
			t->state = KC_THREAD_GONE;
		return 0;
	}
	return kc_err_set(err, -errno, "cannot interrupt thread %d: %s", t->tid, strerror(errno));
}

static int check_alive(struct kc_proc *p, struct kc_err *err)
{
	if (kc_ptrace_live_threads(p) == 0)
		return kc_err_set(err, -ESRCH, "process %d exited", p->pid);
	if (p->execed)
		return kc_err_set(err, -ESRCH, "process %d called execve during the operation",
				  p->pid);
	return 0;
}

/*
 * Sleeps until a SIGCHLD (blocked by the caller, so none is missed) or @ms
 * pass; false if the time passed with no event.
 */
static bool wait_for_child_event(const sigset_t *chld, int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	return sigtimedwait(chld, NULL, &ts) > 0 || errno == EINTR;
}

int kc_ptrace_stop_all(struct kc_proc *p, struct kc_err *err)
{
	sigset_t chld, oldmask;
	int ret;

	/* a tracee's stop raises SIGCHLD: keep it pending for wait_for_child_event() */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &oldmask);

	for (size_t i = 0; i < p->nthreads; i++) {
		struct kc_thread *t = &p->threads[i];

		if (t->state != KC_THREAD_RUNNING)
			continue;
		ret = interrupt_thread(p, t, err);
		if (ret < 0)
			goto out;
	}
	while (any_running(p)) {
		size_t before = p->nthreads;

		int got = wait_any(p, true, WNOHANG, err);

		if (got < 0) {
			ret = got;
			goto out;
		}
		/* threads learnt of just now were created after our interrupts */
		for (size_t i = before; i < p->nthreads; i++)
			if (p->threads[i].state == KC_THREAD_RUNNING &&
			    (ret = interrupt_thread(p, &p->threads[i], err)) < 0)
				goto out;
		if (got > 0 || wait_for_child_event(&chld, 10))
			continue;
		/*
		 * Quiet for 10 ms: a zombie leader never reports a stop, so look
		 * for dead threads (only now: a look after every event would
		 * cost one /proc read per waiting thread each time).
		 */
		for (size_t i = 0; i < p->nthreads; i++)
			if (p->threads[i].state == KC_THREAD_RUNNING &&
			    thread_is_dead(p->pid, p->threads[i].tid))
				p->threads[i].state = KC_THREAD_GONE;
	}
	ret = check_alive(p, err);
out:
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return ret;
}

int kc_ptrace_resume_one(struct kc_proc *p, struct kc_thread *t, struct kc_err *err)
{
	(void)p;
	if (t->state != KC_THREAD_STOPPED || t->group_stop_sig)
		return 0;
	if (ptrace(PTRACE_CONT, t->tid, NULL, NULL) < 0) {
		if (errno == ESRCH) {
			t->state = KC_THREAD_GONE;
			return 0;
		}
		return kc_err_set(err, -errno, "cannot resume thread %d: %s", t->tid,
				  strerror(errno));
	}
	t->state = KC_THREAD_RUNNING;
	return 0;
}

int kc_ptrace_resume_all(struct kc_proc *p, struct kc_err *err)
{
	int ret = 0;

	for (size_t i = 0; i < p->nthreads; i++) {
		int r = kc_ptrace_resume_one(p, &p->threads[i], err);

		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

int kc_ptrace_stop_one(struct kc_proc *p, struct kc_thread **out, struct kc_err *err)
{
	struct kc_thread *t = NULL;
	int ret, status;

	/* prefer a thread that is already stopped */
	for (size_t i = 0; i < p->nthreads && !t; i++)
		if (p->threads[i].state == KC_THREAD_STOPPED)
			t = &p->threads[i];
	for (size_t i = 0; i < p->nthreads && !t; i++)
		if (p->threads[i].state == KC_THREAD_RUNNING)
			t = &p->threads[i];
	if (!t) {
		int ret2 = check_alive(p, err);

		return ret2 < 0 ? ret2 : kc_err_set(err, -ESRCH, "no thread to stop");
	}
	if (t->state == KC_THREAD_RUNNING) {
		pid_t tid = t->tid;

		ret = interrupt_thread(p, t, err);
		if (ret < 0)
			return ret;
		while ((t = thread_find(p, tid)) && t->state == KC_THREAD_RUNNING) {
			if (wait_thread(p, t, &status, err) < 0) {
				t->state = KC_THREAD_GONE;
				break;
			}
			ret = handle_status(p, tid, status, true, err);
			if (ret < 0)
				return ret;
		}
		if (!t || t->state != KC_THREAD_STOPPED) {
			/* it exited; try another one */
			ret = check_alive(p, err);
			return ret < 0 ? ret : kc_ptrace_stop_one(p, out, err);
		}
	}
	*out = t;
	return check_alive(p, err);
}

int kc_ptrace_service(struct kc_proc *p, int ms, struct kc_err *err)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int ret = wait_any(p, false, WNOHANG, err);
		long el;

		if (ret < 0)
			return ret;
		if (ret > 0)
			continue; /* drain whatever is queued */
		clock_gettime(CLOCK_MONOTONIC, &now);
		el = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (el >= ms)
			break;
		/* short naps keep signal delivery latency low while we wait */
		struct timespec nap = {0, (ms - el) > 1 ? 1000000 : 200000};
		nanosleep(&nap, NULL);
	}
	return check_alive(p, err);
}

/*
 * Resumes @t with @req and waits for its next stop, returning the wait
 * status. With @stash, signal-delivery-stops on the way are stashed (to
 * be re-queued) and suppressed, so the thread only runs the injected
 * instruction; without, they are delivered and the stop re-armed.
 */
static int step_thread(struct kc_proc *p, struct kc_thread *t, int req, int *status,
		       struct stashed_sig *stash, size_t *nstash, struct kc_err *err)
{
	int extra_traps = 0;
	long data = 0;

	for (;;) {
		pid_t w;

		if (ptrace(req, t->tid, NULL, (void *)data) < 0) {
			if (errno == ESRCH)
				t->state = KC_THREAD_GONE;
			return kc_err_set(err, -errno, "cannot resume thread %d: %s", t->tid,
					  strerror(errno));
		}
		data = 0;
		w = wait_thread(p, t, status, err) < 0 ? -1 : t->tid;
		if (w < 0 || WIFEXITED(*status) || WIFSIGNALED(*status)) {
			t->state = KC_THREAD_GONE;
			return kc_err_set(err, -ESRCH, "thread %d of process %d exited", t->tid,
					  p->pid);
		}
		if ((*status >> 16) == PTRACE_EVENT_EXEC) {
			handle_status(p, t->tid, *status, true, err);
			return check_alive(p, err);
		}
		if ((*status >> 16) == 0 && WSTOPSIG(*status) != (SIGTRAP | 0x80)) {
			siginfo_t si;

			if (!stash) {
				/* deliver it now; the re-armed interrupt stops the thread after */
				data = WSTOPSIG(*status);
				if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) < 0 &&
				    errno != ESRCH)
					return kc_err_set(err, -errno, "cannot interrupt thread %d",
							  t->tid);
				continue;
			}
			/* a signal arrived while we borrow the thread: keep it for later */
			if (ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si) == 0 &&
			    *nstash < MAX_REQUEUE)
				stash[(*nstash)++].info = si;
			continue;
		}
		if ((*status >> 16) == PTRACE_EVENT_CLONE)
			continue; /* cannot happen for our syscalls; tolerate it */
		/*
		 * A trap still pending from our interrupt, or from seizing a
		 * group-stopped thread, may come first: resume again (bounded).
		 */
		if ((*status >> 16) == PTRACE_EVENT_STOP && req == PTRACE_SYSCALL &&
		    ++extra_traps <= 8)
			continue;
		return 0;
	}
}

/* Runs one syscall in @t from an event-stop or a syscall-exit-stop; ends at the syscall-exit-stop.
 */
static int inject_once(struct kc_proc *p, struct kc_thread *t, long nr, const uint64_t args[6],
		       uint64_t sigmask, long *ret, struct stashed_sig *stash, size_t *nstash,
		       struct kc_err *err)
{
	struct kc_regs regs = t->regs;
	uint64_t all = ~0ull;
	int status, r;

	if (p->tramp) {
		uint8_t block[KC_ARCH_TRAMP_BLOCK];
		uint64_t baddr, slots[2], soff;

		kc_arch_tramp_frame(&t->regs, sigmask, p->tramp, nr, args, block, &baddr, slots,
				    &soff, &regs);
		r = kc_ptrace_write(p, baddr, block, sizeof(block), err);
		if (r == 0)
			r = kc_ptrace_write(p, p->tramp + soff, slots, sizeof(slots), err);
		if (r < 0)
			return r;
	} else {
		kc_arch_setup_syscall(&regs, p->syscall_insn, nr, args);
	}
	r = kc_arch_setregs(t->tid, &regs, err);
	if (r < 0)
		return r;
	/*
	 * Blocked only now that the registers lead into the trampoline, whose
	 * tail restores the mask should we die before restoring it ourselves.
	 */
	if (ptrace(PTRACE_SETSIGMASK, t->tid, (void *)sizeof(all), &all) < 0)
		return kc_err_set(err, -errno, "cannot block signals of thread %d: %s", t->tid,
				  strerror(errno));
	r = step_thread(p, t, PTRACE_SYSCALL, &status, stash, nstash, err); /* entry */
	if (r < 0)
		return r;
	if (WSTOPSIG(status) != (SIGTRAP | 0x80))
		return kc_err_set(err, -EPROTO,
				  "thread %d did not enter the injected syscall (stop 0x%x)",
				  t->tid, status);
	r = step_thread(p, t, PTRACE_SYSCALL, &status, stash, nstash, err); /* exit */
	if (r < 0)
		return r;
	if (WSTOPSIG(status) != (SIGTRAP | 0x80))
		return kc_err_set(err, -EPROTO, "thread %d did not leave the injected syscall",
				  t->tid);
	r = kc_arch_getregs(t->tid, &regs, err);
	if (r < 0)
		return r;
	*ret = kc_arch_syscall_result(&regs);
	return 0;
}

int kc_ptrace_syscall(struct kc_proc *p, struct kc_thread *t, long nr, const uint64_t args[6],
		      long *ret, struct kc_err *err)
{
	struct stashed_sig stash[MAX_REQUEUE];
	size_t nstash = 0, requeued = 0;
	uint64_t sigmask = 0,
		 ip = (p->tramp ? p->tramp : p->syscall_insn) + sizeof(kc_arch_syscall_insn);
	int r, status;

	if (t->state != KC_THREAD_STOPPED)
		return kc_err_set(err, -EINVAL, "thread %d is not stopped", t->tid);
	if (!p->syscall_insn && !p->tramp)
		return kc_err_set(err, -ENOEXEC, "no syscall instruction found in process %d",
				  p->pid);
	if (p->seccomp_tid != t->tid) {
		kc_seccomp_free(p->seccomp);
		p->seccomp = NULL;
		p->seccomp_tid = 0;
		r = kc_seccomp_load(p->pid, t->tid, &p->seccomp, err);
		if (r < 0)
			return r;
		p->seccomp_tid = t->tid;
	}
	/* a filter could kill the whole process for a syscall it does not expect */
	if (!kc_seccomp_allows(p->seccomp, nr, args, ip))
		return kc_err_set(err, -EPERM,
				  "the seccomp filter of process %d does not allow syscall %ld",
				  p->pid, nr);
	/*
	 * No signal may be delivered while we borrow the thread: they stay
	 * queued, in order, and are taken after we give it back (SIGKILL and
	 * SIGSTOP cannot be blocked; a SIGSTOP is stashed and re-queued).
	 */
	if (ptrace(PTRACE_GETSIGMASK, t->tid, (void *)sizeof(sigmask), &sigmask) < 0)
		return kc_err_set(err, -errno, "cannot read the signal mask of thread %d: %s",
				  t->tid, strerror(errno));
	r = inject_once(p, t, nr, args, sigmask, ret, stash, &nstash, err);
	if (r < 0)
		goto restore;

	/*
	 * Give back the signals that arrived meanwhile. The thread queues them
	 * to itself, which rt_tgsigqueueinfo allows for any si_code, so the
	 * siginfo (sigqueue values included) is kept. It names itself by the
	 * ids of its own PID namespace (a container's differ from ours). The
	 * siginfo lies below the trampoline's register block, which every
	 * injection rewrites.
	 */
	if (nstash) {
		uint64_t none[6] = {0};
		long nspid = p->pid, nstid = t->tid;

		if (kc_seccomp_allows(p->seccomp, SYS_getpid, none, ip) &&
		    kc_seccomp_allows(p->seccomp, SYS_gettid, none, ip)) {
			r = inject_once(p, t, SYS_getpid, none, sigmask, &nspid, stash, &nstash,
					err);
			if (r == 0)
				r = inject_once(p, t, SYS_gettid, none, sigmask, &nstid, stash,
						&nstash, err);
			if (r < 0)
				goto restore;
		}
		while (requeued < nstash) {
			uint64_t buf = (kc_arch_sp(&t->regs) - 128 - KC_ARCH_TRAMP_BLOCK - 16 -
					sizeof(siginfo_t)) &
				       ~(uint64_t)15;
			siginfo_t *si = &stash[requeued++].info;
			uint64_t a[6] = {(uint64_t)nspid, (uint64_t)nstid, (uint64_t)si->si_signo,
					 buf};
			long qret = 0;

			if (!kc_seccomp_allows(p->seccomp, SYS_rt_tgsigqueueinfo, a, ip)) {
				r = kc_err_set(
				    err, -EPERM,
				    "the seccomp filter of process %d does not allow giving "
				    "signal %d back",
				    p->pid, si->si_signo);
				goto restore;
			}
			r = kc_ptrace_write(p, buf, si, sizeof(*si), err);
			if (r == 0)
				r = inject_once(p, t, SYS_rt_tgsigqueueinfo, a, sigmask, &qret,
						stash, &nstash, err);
			if (r == 0 && qret < 0)
				r = kc_err_set(err, (int)qret,
					       "cannot give signal %d back to thread %d: %s",
					       si->si_signo, t->tid, strerror((int)-qret));
			if (r < 0)
				goto restore;
		}
	}

restore:
	if (t->state == KC_THREAD_GONE || p->execed)
		return r < 0 ? r : check_alive(p, err);
	/*
	 * Back to the original registers, then through the kernel's signal
	 * path once more (the interrupt makes it stop there), so that an
	 * interrupted syscall is restarted by the kernel itself exactly as
	 * it would have been without us.
	 */
	{
		struct kc_err e2 = KC_ERR_INIT;
		int rr = 0;

		/* mask first: until the registers are back, the trampoline still covers us */
		if (ptrace(PTRACE_SETSIGMASK, t->tid, (void *)sizeof(sigmask), &sigmask) < 0)
			rr = kc_err_set(&e2, -errno, "cannot restore the signal mask of thread %d",
					t->tid);
		if (rr == 0)
			rr = kc_arch_setregs(t->tid, &t->regs, &e2);

		if (rr == 0 && ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) < 0)
			rr = kc_err_set(&e2, -errno, "cannot interrupt thread %d", t->tid);
		if (rr == 0) {
			rr = step_thread(p, t, PTRACE_CONT, &status, NULL, NULL, &e2);
			if (rr == 0 && (status >> 16) != PTRACE_EVENT_STOP)
				rr = kc_err_set(&e2, -EPROTO,
						"thread %d did not stop after restore", t->tid);
			/* a SIGSTOP that came meanwhile leaves it in the group-stop */
			if (rr == 0)
				t->group_stop_sig =
				    is_group_stop_sig(WSTOPSIG(status)) ? WSTOPSIG(status) : 0;
		}
		if (rr < 0 && r == 0) {
			if (err)
				*err = e2;
			r = rr;
		}
	}
	return r;
}

int kc_ptrace_find_syscall_insn(struct kc_proc *p, const struct kc_proc_maps *maps,
				struct kc_err *err)
{
	static const size_t chunk = 1 << 16;
	uint8_t *buf;
	int pass;

	if (p->syscall_insn)
		return 0;
	buf = malloc(chunk + 1);
	if (!buf)
		return kc_err_set(err, -ENOMEM, "out of memory");
	/* the vDSO first: always mapped, small, and its fallbacks hold syscalls */
	for (pass = 0; pass < 2 && !p->syscall_insn; pass++) {
		for (size_t i = 0; i < maps->n && !p->syscall_insn; i++) {
			const struct kc_proc_map *m = &maps->v[i];
			bool vdso = strcmp(m->path, "[vdso]") == 0;

			if (!(m->prot & PROT_EXEC) || vdso != (pass == 0))
				continue;
			for (uint64_t a = m->start; a < m->end && !p->syscall_insn; a += chunk) {
				size_t len = m->end - a < chunk ? m->end - a : chunk;

				if (kc_ptrace_read(p, a, buf, len, NULL) < 0)
					break;
				for (size_t j = 0; j + 1 < len; j++)
					if (buf[j] == kc_arch_syscall_insn[0] &&
					    buf[j + 1] == kc_arch_syscall_insn[1]) {
						p->syscall_insn = a + j;
						break;
					}
			}
		}
	}
	free(buf);
	if (!p->syscall_insn)
		return kc_err_set(err, -ENOEXEC, "no syscall instruction found in process %d",
				  p->pid);
	return 0;
}

int kc_ptrace_use_trampoline(struct kc_proc *p, uint64_t addr, struct kc_err *err)
{
	uint8_t code[KC_ARCH_TRAMP_SIZE], cur[KC_ARCH_TRAMP_SIZE];
	int ret;

	kc_arch_tramp_code(code);
	ret = kc_ptrace_read(p, addr, cur, sizeof(cur), err);
	if (ret < 0)
		return ret;
	/* slots differ from run to run: compare the code part only */
	if (memcmp(cur, code, KC_ARCH_TRAMP_SIZE - 32) == 0) {
		p->tramp = addr; /* left by an earlier run that did not finish */
		return 0;
	}
	memcpy(p->tramp_orig, cur, sizeof(cur));
	ret = kc_ptrace_write(p, addr, code, sizeof(code), err);
	if (ret < 0)
		return ret;
	p->tramp = addr;
	p->tramp_written = true;
	return 0;
}

int kc_ptrace_read(struct kc_proc *p, uint64_t addr, void *buf, size_t len, struct kc_err *err)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
	ssize_t n = process_vm_readv(p->mm_tid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	/* pages without read permission, or partial: /proc/PID/mem reads them */
	n = pread(p->memfd, buf, len, (off_t)addr);
	if (n == (ssize_t)len)
		return 0;
	return kc_err_set(err, n < 0 ? -errno : -EFAULT,
			  "cannot read %zu bytes at 0x%llx in process %d", len,
			  (unsigned long long)addr, p->pid);
}

int kc_ptrace_write(struct kc_proc *p, uint64_t addr, const void *buf, size_t len,
		    struct kc_err *err)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n =
		    pwrite(p->memfd, (const char *)buf + done, len - done, (off_t)(addr + done));

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return kc_err_set(err, n < 0 ? -errno : -EFAULT,
					  "cannot write %zu bytes at 0x%llx in process %d: %s", len,
					  (unsigned long long)addr, p->pid,
					  n < 0 ? strerror(errno) : "short write");
		}
		done += (size_t)n;
	}
	return 0;
}

int kc_ptrace_read_cb(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return kc_ptrace_read(ctx, addr, buf, len, NULL);
}

int kc_ptrace_detach(struct kc_proc *p, struct kc_err *err)
{
	int ret = 0;

	if (p->nthreads && any_running(p)) {
		struct kc_err e2 = KC_ERR_INIT;

		if (kc_ptrace_stop_all(p, &e2) < 0 && kc_ptrace_live_threads(p) && ret == 0)
			ret = kc_err_set(err, e2.code, "%s", e2.msg);
	}
	/* no thread runs the trampoline outside an injection: put the bytes back */
	if (p->tramp_written && kc_ptrace_live_threads(p))
		kc_ptrace_write(p, p->tramp, p->tramp_orig, sizeof(p->tramp_orig), NULL);
	p->tramp_written = false;
	for (size_t i = 0; i < p->nthreads; i++) {
		struct kc_thread *t = &p->threads[i];

		if (t->state == KC_THREAD_GONE)
			continue;
		/* from an event-stop this resumes the thread, or re-enters its group-stop */
		if (ptrace(PTRACE_DETACH, t->tid, NULL, NULL) < 0 && errno != ESRCH && ret == 0)
			ret = kc_err_set(err, -errno, "cannot detach from thread %d: %s", t->tid,
					 strerror(errno));
		t->state = KC_THREAD_GONE;
	}
	free(p->threads);
	p->threads = NULL;
	kc_seccomp_free(p->seccomp);
	p->seccomp = NULL;
	p->seccomp_tid = 0;
	p->nthreads = p->cap = 0;
	if (p->memfd >= 0)
		close(p->memfd);
	p->memfd = -1;
	return ret;
}

struct kc_thread *kc_ptrace_thread_add(struct kc_proc *p, pid_t tid)
{
	return thread_add(p, tid, KC_THREAD_RUNNING);
}
