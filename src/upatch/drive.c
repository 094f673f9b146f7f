// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Driving busy threads out of the replaced code through return stubs (see
 * drive.h). Only the busy threads run, resumed with PTRACE_SYSCALL so that
 * the stub's syscall stops them; their own syscalls are let through, their
 * signals and clones passed on as without us. A thread that has not come
 * back by the deadline is interrupted and gets its return address back;
 * the budget is CPU time for a runnable thread (up to RUNQUEUE_MAX_US
 * more), so that an overloaded machine does not fail the round.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "upatch/drive.h"
#include "upatch/session.h"

/* a stop must come soon after PTRACE_INTERRUPT: past this the thread is lost to us */
#define SETTLE_US 2000000u

/* where the stub's syscall instruction ends: the pc of its syscall-entry stop */
#define STUB_SYSCALL_END 8

/* the most the deadline moves for threads that did not get a CPU (see drive_starved()) */
#define RUNQUEUE_MAX_US	 30000u
#define RUNQUEUE_STEP_US 500u

enum drive_state {
	DRIVE_RUNNING,	/* on its way, resumed with PTRACE_SYSCALL */
	DRIVE_SETTLING, /* came back (or gave up): interrupted, to end in an event-stop */
	DRIVE_DONE,	/* event-stop, or gone */
};

struct drive_thread {
	pid_t tid;
	uint64_t slot, ret, stub;
	uint64_t run_ns; /* its CPU time when resumed (schedstat), 0 if unknown */
	enum drive_state state;
	bool back; /* came back through its stub */
	bool interrupted;
};

void kc_drive_stub(uint8_t out[KC_DRIVE_STUB_SIZE], uint64_t ret)
{
	static const uint8_t code[] = {
	    0x50,				      /* push %rax */
	    0xb8, SYS_getpid, 0,    0,	  0,	      /* mov $SYS_getpid, %eax */
	    0x0f, 0x05,				      /* syscall (STUB_SYSCALL_END is after it) */
	    0x58,				      /* pop %rax */
	    0xff, 0x25,	      0x00, 0x00, 0x00, 0x00, /* jmp *0(%rip): the next 8 bytes */
	};

	memset(out, 0xcc, KC_DRIVE_STUB_SIZE);
	memcpy(out, code, sizeof(code));
	memcpy(out + sizeof(code), &ret, sizeof(ret));
}

bool kc_drive_call_before(const uint8_t b[7])
{
	/* call rel32; call *disp32(%rip) or with SIB; call *disp8(reg); call *%reg */
	return b[2] == 0xe8 || (b[1] == 0xff && (b[2] & 0x38) == 0x10) ||
	       (b[0] == 0xff && (b[1] & 0x38) == 0x10) || (b[4] == 0xff && (b[5] & 0x38) == 0x10) ||
	       (b[5] == 0xff && (b[6] & 0xf8) == 0xd0);
}

bool kc_drive_is_return_address(struct kc_proc *p, uint64_t ret)
{
	uint8_t b[7];

	if (ret < sizeof(b) || kc_ptrace_read(p, ret - sizeof(b), b, sizeof(b), NULL) < 0)
		return false;
	return kc_drive_call_before(b);
}

static struct kc_thread *thread_of(struct kc_proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].tid == tid)
			return &p->threads[i];
	return NULL;
}

static struct drive_thread *drive_of(struct drive_thread *d, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].tid == tid)
			return &d[i];
	return NULL;
}

/* The CPU time @tid has used, in ns (schedstat); 0 if unknown. */
static uint64_t drive_run_ns(pid_t pid, pid_t tid)
{
	char path[64];
	unsigned long long run = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &run) != 1)
		run = 0;
	fclose(f);
	return run;
}

/* Whether @tid is runnable (running, or waiting for a CPU): 'R' in its stat. */
static bool drive_runnable(pid_t pid, pid_t tid)
{
	char path[64], buf[512];
	const char *paren;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] == 'R';
}

/*
 * Whether a thread still on its way has not had its budget yet: it is
 * runnable but has used less CPU time than @budget_us since it was resumed.
 * On an overloaded machine such a thread may not have run at all within
 * the budget, which says nothing about whether it can leave; one that
 * sleeps (blocked on a lock a held thread owns) or that spins through its
 * CPU time has had its chance.
 */
static bool drive_starved(const struct kc_proc *p, const struct drive_thread *d, size_t n,
			  uint64_t budget_us)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t run;

		if (d[i].state != DRIVE_RUNNING || d[i].back || !d[i].run_ns)
			continue;
		run = drive_run_ns(p->pid, d[i].tid);
		if (run && run - d[i].run_ns < budget_us * 1000 && drive_runnable(p->pid, d[i].tid))
			return true;
	}
	return false;
}

static bool group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Its return slot still holds our stub while it has not come back: put the real address back. */
static void drive_unhook(struct kc_proc *p, struct drive_thread *d)
{
	uint64_t cur = 0;

	if (!d->back && kc_ptrace_read(p, d->slot, &cur, sizeof(cur), NULL) == 0 && cur == d->stub)
		kc_ptrace_write(p, d->slot, &d->ret, sizeof(d->ret), NULL);
}

/* The stub's syscall stopped it: registers as if its frame had returned normally. */
static int drive_came_back(struct kc_proc *p, struct drive_thread *d, struct kc_regs *regs,
			   struct kc_err *err)
{
	uint64_t rax = 0;
	int ret = kc_ptrace_read(p, regs->r.rsp, &rax, sizeof(rax), err);

	if (ret < 0)
		return ret;
	regs->r.rax = rax;
	regs->r.rsp += 8;
	regs->r.rip = d->ret;
	regs->r.orig_rax = (uint64_t)-1; /* the getpid is skipped */
	ret = kc_arch_setregs(d->tid, regs, err);
	if (ret < 0)
		return ret;
	d->back = true;
	return 0;
}

/* Moves @d towards an event-stop: interrupt armed, then let it reach it. */
static int drive_settle(struct drive_thread *d, int sig, struct kc_err *err)
{
	if (!d->interrupted && ptrace(PTRACE_INTERRUPT, d->tid, NULL, NULL) < 0 && errno != ESRCH)
		return kc_err_set(err, -errno, "cannot interrupt thread %d", d->tid);
	d->interrupted = true;
	d->state = DRIVE_SETTLING;
	if (ptrace(PTRACE_CONT, d->tid, NULL, (void *)(long)sig) < 0 && errno != ESRCH)
		return kc_err_set(err, -errno, "cannot resume thread %d", d->tid);
	return 0;
}

/* One wait status of a driven thread. *more: a new thread appeared. */
static int drive_event(struct kc_proc *p, struct drive_thread *d, int status, bool *more,
		       struct kc_err *err)
{
	struct kc_thread *t = thread_of(p, d->tid);
	int event = status >> 16, sig = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
	int req = d->state == DRIVE_RUNNING ? PTRACE_SYSCALL : PTRACE_CONT;
	struct kc_regs regs;

	if (!WIFSTOPPED(status)) {
		if (t)
			t->state = KC_THREAD_GONE;
		d->state = DRIVE_DONE;
		d->back = true; /* it left, the hard way */
		return 0;
	}
	switch (event) {
	case PTRACE_EVENT_STOP:
		if (d->state == DRIVE_RUNNING && !group_stop_sig(sig) && !d->interrupted)
			break; /* a stale interrupt: go on */
		if (kc_arch_getregs(d->tid, &regs, err) < 0)
			return -ESRCH;
		if (t) {
			t->regs = regs;
			t->state = KC_THREAD_STOPPED;
			t->group_stop_sig = group_stop_sig(sig) ? sig : 0;
		}
		if (!d->back)
			drive_unhook(p, d);
		d->state = DRIVE_DONE;
		return 0;
	case PTRACE_EVENT_EXEC:
		/* every other thread is gone; the operation ends (the caller sees execed) */
		for (size_t i = 0; i < p->nthreads; i++)
			p->threads[i].state =
			    p->threads[i].tid == d->tid ? KC_THREAD_STOPPED : KC_THREAD_GONE;
		p->execed = true;
		d->state = DRIVE_DONE;
		d->back = true;
		return 0;
	case PTRACE_EVENT_CLONE: {
		unsigned long child = 0;

		if (ptrace(PTRACE_GETEVENTMSG, d->tid, NULL, &child) == 0 && child) {
			if (!kc_ptrace_thread_add(p, (pid_t)child))
				return kc_err_set(err, -ENOMEM, "out of memory");
			*more = true;
		}
		sig = 0;
		break;
	}
	case 0:
		if (sig != (SIGTRAP | 0x80))
			break; /* a signal: delivered, its handler runs on the way */
		sig = 0;
		if (d->state != DRIVE_RUNNING)
			break;
		if (kc_arch_getregs(d->tid, &regs, err) < 0)
			return -ESRCH;
		if (regs.r.rip == d->stub + STUB_SYSCALL_END && regs.r.orig_rax == SYS_getpid) {
			int ret = drive_came_back(p, d, &regs, err);

			return ret < 0 ? ret : drive_settle(d, 0, err);
		}
		break; /* one of its own syscalls */
	default:
		sig = 0;
		break;
	}
	/* any ptrace stop clears a pending interrupt: arm it again */
	if (d->interrupted && ptrace(PTRACE_INTERRUPT, d->tid, NULL, NULL) < 0 && errno != ESRCH)
		return kc_err_set(err, -errno, "cannot interrupt thread %d", d->tid);
	if (ptrace(req, d->tid, NULL, (void *)(long)sig) < 0 && errno != ESRCH)
		return kc_err_set(err, -errno, "cannot resume thread %d", d->tid);
	return 0;
}

int kc_drive_out(struct kc_proc *p, const struct kc_drive *v, size_t n, uint64_t stubs,
		 uint64_t deadline_us, struct kc_err *err)
{
	struct drive_thread *d = calloc(n, sizeof(*d));
	uint64_t settle_by = deadline_us + RUNQUEUE_MAX_US + SETTLE_US;
	uint64_t now0 = kc_session_now_us(),
		 budget_us = deadline_us > now0 ? deadline_us - now0 : 0,
		 deadline_max = deadline_us + RUNQUEUE_MAX_US;
	sigset_t chld, oldmask;
	bool more = false, giving_up = false, drained = false;
	size_t left = 0;
	int ret = 0;

	if (!d)
		return kc_err_set(err, -ENOMEM, "out of memory");
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &oldmask);
	/* every return address first, so that one thread's run cannot meet another's old one */
	for (size_t i = 0; i < n && ret == 0; i++) {
		d[i].tid = v[i].tid;
		d[i].slot = v[i].leave_sp - 8;
		d[i].ret = v[i].ret;
		d[i].stub = stubs + i * KC_DRIVE_STUB_SIZE;
		d[i].state = DRIVE_DONE;
		ret = kc_ptrace_write(p, d[i].slot, &d[i].stub, sizeof(d[i].stub), err);
		if (ret == 0)
			d[i].state = DRIVE_RUNNING;
		d[i].run_ns = drive_run_ns(p->pid, d[i].tid);
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct kc_thread *t = thread_of(p, d[i].tid);

		if (ptrace(PTRACE_SYSCALL, d[i].tid, NULL, NULL) < 0) {
			ret = kc_err_set(err, -errno, "cannot resume thread %d", d[i].tid);
			break;
		}
		if (t)
			t->state = KC_THREAD_RUNNING;
	}
	if (ret < 0)
		giving_up = true;
	for (;;) {
		int status, r;
		pid_t w;

		left = 0;
		for (size_t i = 0; i < n; i++)
			left += d[i].state != DRIVE_DONE;
		if (!left)
			break;
		/* a thread that did not get a CPU has not had its budget yet (up to a bound) */
		if (!giving_up && kc_session_now_us() >= deadline_us &&
		    deadline_us < deadline_max && drive_starved(p, d, n, budget_us))
			deadline_us = kc_session_now_us() + RUNQUEUE_STEP_US;
		/* the stops that came meanwhile first: we may be the late one */
		if (!giving_up && drained && kc_session_now_us() >= deadline_us) {
			/* blocked (a lock a held thread owns), or just slow: stop where it is */
			giving_up = true;
			for (size_t i = 0; i < n; i++)
				if (d[i].state == DRIVE_RUNNING && !d[i].interrupted) {
					if (ptrace(PTRACE_INTERRUPT, d[i].tid, NULL, NULL) < 0 &&
					    errno != ESRCH && ret == 0)
						ret = kc_err_set(err, -errno,
								 "cannot interrupt thread %d",
								 d[i].tid);
					d[i].interrupted = true;
				}
		}
		if (kc_session_now_us() >= settle_by) {
			if (ret == 0)
				ret = kc_err_set(err, -ETIMEDOUT,
						 "a thread of process %d does not stop", p->pid);
			break;
		}
		w = waitpid(-1, &status, __WALL | WNOHANG);
		if (w < 0 && errno == ECHILD) {
			for (size_t i = 0; i < n; i++)
				d[i].state = DRIVE_DONE;
			for (size_t i = 0; i < p->nthreads; i++)
				p->threads[i].state = KC_THREAD_GONE;
			break;
		}
		drained = w <= 0;
		if (w <= 0) {
			uint64_t now = kc_session_now_us(),
				 until = giving_up ? settle_by : deadline_us;
			uint64_t wait = until > now ? until - now : 0;
			struct timespec ts = {(time_t)(wait / 1000000u),
					      (long)(wait % 1000000u) * 1000};

			sigtimedwait(&chld, NULL, &ts);
			continue;
		}
		struct drive_thread *dt = drive_of(d, n, w);

		if (!dt) {
			/* a held thread exiting (exit_group), or a new thread's first stop */
			struct kc_thread *t = thread_of(p, w);

			if (!t && !(t = kc_ptrace_thread_add(p, w))) {
				ret = kc_err_set(err, -ENOMEM, "out of memory");
				continue;
			}
			if (!WIFSTOPPED(status))
				t->state = KC_THREAD_GONE;
			else if ((status >> 16) == PTRACE_EVENT_STOP &&
				 kc_arch_getregs(w, &t->regs, NULL) == 0)
				t->state = KC_THREAD_STOPPED;
			else
				more = true;
			continue;
		}
		r = drive_event(p, dt, status, &more, err);
		if (r < 0 && ret == 0)
			ret = r;
		if (r == 0 && giving_up && dt->state == DRIVE_RUNNING && !dt->interrupted) {
			/* resumed before the deadline handling saw it */
			if (ptrace(PTRACE_INTERRUPT, dt->tid, NULL, NULL) == 0)
				dt->interrupted = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!d[i].back)
			ret = ret ? ret : -EBUSY;
	if (more && ret != -ETIMEDOUT) {
		int r = kc_ptrace_stop_all(p, err);

		if (r < 0)
			ret = r;
	}
	if (ret == 0 && p->execed)
		ret = kc_err_set(err, -ESRCH, "process %d called execve during the operation",
				 p->pid);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	free(d);
	return ret;
}
