/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-architecture part of the userspace engine: register access,
 * the syscall calling convention, and the entry jump. A port adds
 * arch/<machine>.c implementing exactly these; nothing else in
 * src/upatch looks at registers or instruction bytes.
 */
#ifndef KC_UPATCH_ARCH_H
#define KC_UPATCH_ARCH_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "kcare/err.h"

struct kc_regs {
	struct user_regs_struct r;
};

#define KC_ARCH_JUMP_SIZE  5 /* bytes written over a replaced function's entry */
#define KC_ARCH_JUMP_RANGE ((int64_t)1 << 31)

/* AUDIT_ARCH_* value seccomp filters see for this architecture's syscalls. */
extern const uint32_t kc_arch_audit_arch;

/* The bytes of the syscall instruction (searched for in the target's code). */
extern const uint8_t kc_arch_syscall_insn[2];

int kc_arch_getregs(pid_t tid, struct kc_regs *regs, struct kc_err *err);
int kc_arch_setregs(pid_t tid, const struct kc_regs *regs, struct kc_err *err);

uint64_t kc_arch_pc(const struct kc_regs *regs);
uint64_t kc_arch_sp(const struct kc_regs *regs);
uint64_t kc_arch_tp(const struct kc_regs *regs); /* thread pointer (fs_base) */

/*
 * Prepares @regs to execute syscall @nr with @args at the syscall
 * instruction @insn, with no syscall restart pending.
 */
void kc_arch_setup_syscall(struct kc_regs *regs, uint64_t insn, long nr, const uint64_t args[6]);
/* The return value of a completed syscall (negative errno on failure). */
long kc_arch_syscall_result(const struct kc_regs *regs);

/*
 * The syscall trampoline, for remote syscalls that survive the patcher's
 * death: its code runs the syscall, then restores every register of the
 * borrowed thread from a block on that thread's stack and jumps back to
 * where the thread was, so a thread let go in the middle of an injection
 * (because the tracer was killed) carries on unharmed. A live tracer stops
 * the thread right after the syscall and never lets the rest run.
 */
#define KC_ARCH_TRAMP_SIZE  96	/* code + slots, written once per process */
#define KC_ARCH_TRAMP_BLOCK 144 /* bytes of the register block on the stack */

/* The trampoline's bytes for its address. */
void kc_arch_tramp_code(uint8_t out[KC_ARCH_TRAMP_SIZE]);

/*
 * For a thread stopped with registers @orig, fills the register block (to
 * be written at *block_addr on its stack, below the red zone) and the two
 * trampoline slots (@slots, written at @tramp + *slots_off), and @regs,
 * the registers that run syscall @nr with @args through the trampoline.
 * The block holds @orig with an interrupted syscall already set up to be
 * restarted, as the kernel would have done, and the thread's signal mask
 * @sigmask, which the trampoline puts back before returning (the engine
 * blocks every signal of a borrowed thread).
 */
void kc_arch_tramp_frame(const struct kc_regs *orig, uint64_t sigmask, uint64_t tramp, long nr,
			 const uint64_t args[6], uint8_t block[KC_ARCH_TRAMP_BLOCK],
			 uint64_t *block_addr, uint64_t slots[2], uint64_t *slots_off,
			 struct kc_regs *regs);

/*
 * Encodes the entry jump from @from to @to into @out. Returns -ERANGE if
 * @to is out of reach of the jump (more than +-2 GiB away on x86_64).
 */
int kc_arch_encode_jump(uint64_t from, uint64_t to, uint8_t out[KC_ARCH_JUMP_SIZE]);

#endif
