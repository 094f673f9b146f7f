// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * x86_64 implementation of arch.h: user_regs_struct access through
 * PTRACE_GETREGS/SETREGS, the syscall ABI (rax, rdi, rsi, rdx, r10, r8,
 * r9) and a 5-byte `jmp rel32` as the entry jump.
 */
#include <string.h>
#include <sys/ptrace.h>

#include "upatch/arch.h"

const uint8_t kc_arch_syscall_insn[2] = {0x0f, 0x05};

int kc_arch_getregs(pid_t tid, struct kc_regs *regs, struct kc_err *err)
{
	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs->r) < 0)
		return kc_err_set(err, -errno, "cannot read registers of thread %d: %s", tid,
				  strerror(errno));
	return 0;
}

int kc_arch_setregs(pid_t tid, const struct kc_regs *regs, struct kc_err *err)
{
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs->r) < 0)
		return kc_err_set(err, -errno, "cannot write registers of thread %d: %s", tid,
				  strerror(errno));
	return 0;
}

uint64_t kc_arch_pc(const struct kc_regs *regs)
{
	return regs->r.rip;
}

uint64_t kc_arch_sp(const struct kc_regs *regs)
{
	return regs->r.rsp;
}

uint64_t kc_arch_tp(const struct kc_regs *regs)
{
	return regs->r.fs_base;
}

void kc_arch_setup_syscall(struct kc_regs *regs, uint64_t insn, long nr, const uint64_t args[6])
{
	regs->r.rip = insn;
	regs->r.rax = (uint64_t)nr;
	/*
	 * orig_rax = -1 tells the kernel no syscall is in progress, so the
	 * restart logic of an interrupted syscall cannot rewrite rip/rax
	 * on the way back to user mode.
	 */
	regs->r.orig_rax = (uint64_t)-1;
	regs->r.rdi = args[0];
	regs->r.rsi = args[1];
	regs->r.rdx = args[2];
	regs->r.r10 = args[3];
	regs->r.r8 = args[4];
	regs->r.r9 = args[5];
}

long kc_arch_syscall_result(const struct kc_regs *regs)
{
	return (long)regs->r.rax;
}

int kc_arch_encode_jump(uint64_t from, uint64_t to, uint8_t out[KC_ARCH_JUMP_SIZE])
{
	int64_t rel = (int64_t)(to - (from + KC_ARCH_JUMP_SIZE));
	int32_t rel32;

	if (rel < INT32_MIN || rel > INT32_MAX)
		return -ERANGE;
	rel32 = (int32_t)rel;
	out[0] = 0xe9;
	memcpy(out + 1, &rel32, sizeof(rel32));
	return 0;
}
