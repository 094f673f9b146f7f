/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Driving busy threads out of the code being replaced while every other
 * thread stays held. The return address of each busy thread's outermost
 * frame in that code is pointed at a small stub of ours, and only the busy
 * threads run, at full speed, until each comes back through its stub, where
 * a syscall stops it and its registers are set as if it had returned
 * normally. The stub itself does the same when nobody is tracing any more
 * (it saves rax, makes a getpid, restores rax and jumps to the real return
 * address), so a patcher killed meanwhile leaves a working process: unlike
 * a breakpoint, which would kill it, or single-stepping, which on virtual
 * machines costs tens of microseconds an instruction.
 */
#ifndef KC_UPATCH_DRIVE_H
#define KC_UPATCH_DRIVE_H

#include "kcare/unwind.h"
#include "upatch/ptrace.h"

#define KC_DRIVE_STUB_SIZE 32 /* bytes of one thread's stub */

struct kc_drive {
	pid_t tid;
	uint64_t leave_sp; /* the caller's sp once the outermost busy frame returned */
	uint64_t ret;	   /* that frame's return address, at leave_sp - 8 */
};

/*
 * The stub for the return address @ret at @at, into @out.
 */
void kc_drive_stub(uint8_t out[KC_DRIVE_STUB_SIZE], uint64_t ret);

/* Whether the 7 bytes @b, those before an address, end with a call instruction. */
bool kc_drive_call_before(const uint8_t b[7]);

/* Whether the instruction before @ret (read from the target) is a call: a real return address. */
bool kc_drive_is_return_address(struct kc_proc *p, uint64_t ret);

/*
 * Runs the @n STOPPED threads @v (every other thread stopped) until each
 * has returned from its outermost busy frame, with the stubs at @stubs
 * (one KC_DRIVE_STUB_SIZE slot per thread, already written, executable),
 * or until @deadline_us (kc_session_now_us() time). Signals and clones on
 * the way are passed through as without us. Returns 0 when every one came
 * back (or exited), -EBUSY when one did not (it blocked, say: its return
 * address is put back), with every thread STOPPED or GONE again; another
 * negative errno if the process is gone or ptrace failed.
 */
int kc_drive_out(struct kc_proc *p, const struct kc_drive *v, size_t n, uint64_t stubs,
		 uint64_t deadline_us, struct kc_err *err);

#endif
