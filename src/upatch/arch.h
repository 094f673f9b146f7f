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

#define KC_ARCH_JUMP_SIZE 5 /* bytes written over a replaced function's entry */
#define KC_ARCH_JUMP_RANGE ((int64_t)1 << 31)

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
 * Encodes the entry jump from @from to @to into @out. Returns -ERANGE if
 * @to is out of reach of the jump (more than +-2 GiB away on x86_64).
 */
int kc_arch_encode_jump(uint64_t from, uint64_t to, uint8_t out[KC_ARCH_JUMP_SIZE]);

#endif
