// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * x86_64 implementation of arch.h: user_regs_struct access through
 * PTRACE_GETREGS/SETREGS, the syscall ABI (rax, rdi, rsi, rdx, r10, r8,
 * r9) and a 5-byte `jmp rel32` as the entry jump.
 */
#include <linux/audit.h>
#include <string.h>
#include <sys/ptrace.h>

#include "upatch/arch.h"

const uint8_t kc_arch_syscall_insn[2] = {0x0f, 0x05};
const uint32_t kc_arch_audit_arch = AUDIT_ARCH_X86_64;

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

/*
 * syscall; rt_sigprocmask(SIG_SETMASK, block + 128, NULL, 8); pop rax, rcx,
 * rdx, rbx, rbp, rsi, rdi, r8-r15; popfq; mov slot_rsp(%rip), %rsp;
 * jmp *slot_rip(%rip); int3 padding; the two slots.
 */
#define TRAMP_SLOT_RSP 72
#define TRAMP_SLOT_RIP 80
#define TRAMP_CODE_END 67

void kc_arch_tramp_code(uint8_t out[KC_ARCH_TRAMP_SIZE])
{
	static const uint8_t code[TRAMP_CODE_END] = {
	    0x0f, 0x05,					    /* syscall */
	    0xb8, 0x0e, 0x00, 0x00, 0x00,		    /* mov $14, %eax */
	    0xbf, 0x02, 0x00, 0x00, 0x00,		    /* mov $2, %edi */
	    0x48, 0x8d, 0xb4, 0x24, 0x80, 0x00, 0x00, 0x00, /* lea 128(%rsp), %rsi */
	    0x31, 0xd2,					    /* xor %edx, %edx */
	    0x41, 0xba, 0x08, 0x00, 0x00, 0x00,		    /* mov $8, %r10d */
	    0x0f, 0x05,					    /* syscall */
	    0x58, 0x59, 0x5a, 0x5b, 0x5d, 0x5e, 0x5f,	    /* pop rax..rdi */
	    0x41, 0x58, 0x41, 0x59, 0x41, 0x5a, 0x41, 0x5b, /* pop r8-r11 */
	    0x41, 0x5c, 0x41, 0x5d, 0x41, 0x5e, 0x41, 0x5f, /* pop r12-r15 */
	    0x9d,					    /* popfq */
	    0x48, 0x8b, 0x25, 0,    0,	  0,	0,	    /* mov slot_rsp(%rip), %rsp */
	    0xff, 0x25, 0,    0,    0,	  0,		    /* jmp *slot_rip(%rip) */
	};
	int32_t rel;

	memset(out, 0xcc, KC_ARCH_TRAMP_SIZE);
	memcpy(out, code, sizeof(code));
	rel = TRAMP_SLOT_RSP - (54 + 7);
	memcpy(out + 57, &rel, 4);
	rel = TRAMP_SLOT_RIP - (61 + 6);
	memcpy(out + 63, &rel, 4);
	memset(out + TRAMP_SLOT_RSP, 0, 16);
}

void kc_arch_tramp_frame(const struct kc_regs *orig, uint64_t sigmask, uint64_t tramp, long nr,
			 const uint64_t args[6], uint8_t block[KC_ARCH_TRAMP_BLOCK],
			 uint64_t *block_addr, uint64_t slots[2], uint64_t *slots_off,
			 struct kc_regs *regs)
{
	const struct user_regs_struct *o = &orig->r;
	uint64_t rax = o->rax, rip = o->rip;
	uint64_t v[16];

	/* an interrupted syscall is restarted the way the kernel's signal code does */
	if ((int64_t)o->orig_rax >= 0) {
		int64_t r = (int64_t)o->rax;

		if (r == -512 || r == -513 || r == -514) { /* ERESTARTSYS, NOINTR, NOHAND */
			rax = o->orig_rax;
			rip -= 2;
		} else if (r == -516) { /* ERESTART_RESTARTBLOCK */
			rax = 219;	/* __NR_restart_syscall */
			rip -= 2;
		}
	}
	v[0] = rax;
	v[1] = o->rcx;
	v[2] = o->rdx;
	v[3] = o->rbx;
	v[4] = o->rbp;
	v[5] = o->rsi;
	v[6] = o->rdi;
	v[7] = o->r8;
	v[8] = o->r9;
	v[9] = o->r10;
	v[10] = o->r11;
	v[11] = o->r12;
	v[12] = o->r13;
	v[13] = o->r14;
	v[14] = o->r15;
	v[15] = o->eflags;
	memset(block, 0, KC_ARCH_TRAMP_BLOCK);
	memcpy(block, v, sizeof(v));
	memcpy(block + sizeof(v), &sigmask, sizeof(sigmask));
	/* below the 128-byte red zone the interrupted code may be using */
	*block_addr = (o->rsp - 128 - KC_ARCH_TRAMP_BLOCK) & ~(uint64_t)15;
	slots[0] = o->rsp;
	slots[1] = rip;
	*slots_off = TRAMP_SLOT_RSP;
	*regs = *orig;
	kc_arch_setup_syscall(regs, tramp, nr, args);
	regs->r.rsp = *block_addr;
}
