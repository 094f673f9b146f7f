/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control of every thread of one target process through ptrace:
 * seizing, stopping and resuming all threads, remote syscalls, and
 * memory access. Never SIGSTOP: PTRACE_SEIZE + PTRACE_INTERRUPT only.
 *
 * Thread states (struct kc_thread.state), and who moves between them:
 *
 *   RUNNING  --kc_ptrace_stop_all()-->  STOPPED   (PTRACE_EVENT_STOP)
 *   STOPPED  --kc_ptrace_resume_all()-> RUNNING   (PTRACE_CONT, no signal)
 *   any      --thread exit------------> GONE
 *
 * STOPPED always means an event-stop (interrupt or group-stop), never a
 * signal-delivery or clone stop: those are passed through at once, with
 * their signal, and the pending interrupt then stops the thread, so no
 * signal is lost or reordered by being held. A group-stop (the user sent
 * SIGSTOP) is STOPPED with group_stop_sig set; detaching leaves such a
 * process stopped, as the kernel re-enters the group-stop on detach.
 *
 * Remote syscalls run on a STOPPED thread and leave it STOPPED with its
 * registers and its interrupted-syscall restart exactly as they were;
 * signals that arrive meanwhile are re-queued to the thread by itself
 * (rt_tgsigqueueinfo), so their siginfo survives.
 */
#ifndef KC_UPATCH_PTRACE_H
#define KC_UPATCH_PTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kcare/err.h"
#include "upatch/arch.h"

enum kc_thread_state {
	KC_THREAD_RUNNING,
	KC_THREAD_STOPPED,
	KC_THREAD_GONE,
};

struct kc_thread {
	pid_t tid;
	enum kc_thread_state state;
	int group_stop_sig;  /* non-zero: stopped by a group-stop of this signal */
	struct kc_regs regs; /* valid while STOPPED (read at the stop) */
};

struct kc_proc {
	pid_t pid;
	pid_t
	    mm_tid; /* reaches the address space: pid, or a live thread if the leader is a zombie */
	int memfd;  /* /proc/MM_TID/mem, read-write */
	struct kc_thread *threads; /* owned */
	size_t nthreads, cap;
	uint64_t syscall_insn; /* address of a syscall instruction, 0 until found */
	uint64_t tramp;	       /* the syscall trampoline (arch.h), 0 if none */
	bool tramp_written;    /* we wrote it (and restore tramp_orig on detach) */
	uint8_t tramp_orig[KC_ARCH_TRAMP_SIZE];
	struct kc_seccomp *seccomp; /* filters of seccomp_tid, the thread we borrow */
	pid_t seccomp_tid;
	bool execed; /* the process called execve while seized */
};

/*
 * Seizes every thread of @pid (re-scanning /proc/PID/task until no new
 * thread appears; later threads are attached through PTRACE_O_TRACECLONE).
 * Threads keep running. Errors: -ESRCH (gone), -EPERM (e.g. traced by
 * another tracer: the message says which), -errno.
 */
int kc_ptrace_attach(struct kc_proc *p, pid_t pid, struct kc_err *err);

/*
 * Releases every thread (stopping the running ones first, as PTRACE_DETACH
 * needs a stopped tracee) and closes the memory handle. Safe on a partly
 * attached or vanished process. Returns the first error, but always
 * detaches what it can.
 */
int kc_ptrace_detach(struct kc_proc *p, struct kc_err *err);

/* Stops every thread (STOPPED), attaching and stopping new ones too. -ESRCH if the process died. */
int kc_ptrace_stop_all(struct kc_proc *p, struct kc_err *err);

/* Resumes every STOPPED thread that is not in a group-stop. */
int kc_ptrace_resume_all(struct kc_proc *p, struct kc_err *err);

/* Stops one thread (the first live one) and returns it in *out. */
int kc_ptrace_stop_one(struct kc_proc *p, struct kc_thread **out, struct kc_err *err);

/* Resumes one STOPPED thread (unless in group-stop). */
int kc_ptrace_resume_one(struct kc_proc *p, struct kc_thread *t, struct kc_err *err);

/*
 * Lets running threads make progress for up to @ms milliseconds while
 * passing through their signals and clone events (used while waiting
 * between safety-check attempts).
 */
int kc_ptrace_service(struct kc_proc *p, int ms, struct kc_err *err);

/*
 * Executes syscall @nr with @args in the STOPPED thread @t and stores its
 * return value (negative errno on failure) in *ret. The thread is left
 * STOPPED with its original registers. Returns a negative errno only if
 * the injection itself failed (thread died, exec...).
 */
int kc_ptrace_syscall(struct kc_proc *p, struct kc_thread *t, long nr, const uint64_t args[6],
		      long *ret, struct kc_err *err);

/*
 * Finds a syscall instruction in the target's executable mappings (the
 * vDSO first) for kc_ptrace_syscall(); works for static binaries too, as
 * nothing depends on the target's libc.
 */
struct kc_proc_maps;
int kc_ptrace_find_syscall_insn(struct kc_proc *p, const struct kc_proc_maps *maps,
				struct kc_err *err);

/*
 * Uses @addr (KC_ARCH_TRAMP_SIZE unused bytes of executable memory, or a
 * trampoline a previous run left there) for remote syscalls from now on,
 * so that a thread borrowed when the patcher dies goes back to where it
 * was. The original bytes are put back by kc_ptrace_detach().
 */
int kc_ptrace_use_trampoline(struct kc_proc *p, uint64_t addr, struct kc_err *err);

/* Memory of the target. Writes work on read-only and executable pages too. */
int kc_ptrace_read(struct kc_proc *p, uint64_t addr, void *buf, size_t len, struct kc_err *err);
int kc_ptrace_write(struct kc_proc *p, uint64_t addr, const void *buf, size_t len,
		    struct kc_err *err);

/* kc_mem_read_fn-compatible reader over a kc_proc (ctx is the kc_proc). */
int kc_ptrace_read_cb(void *ctx, uint64_t addr, void *buf, size_t len);

/*
 * Records a thread that was auto-attached (clone event) as RUNNING; the
 * array may move, so earlier kc_thread pointers are stale. NULL: no memory.
 */
struct kc_thread *kc_ptrace_thread_add(struct kc_proc *p, pid_t tid);

/* Number of live threads. */
size_t kc_ptrace_live_threads(const struct kc_proc *p);

#endif
