// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A classic BPF interpreter for seccomp filters (the instruction subset
 * the kernel accepts for seccomp), and reading a thread's filters with
 * PTRACE_SECCOMP_GET_FILTER. See seccomp.h for why.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "upatch/arch.h"
#include "upatch/seccomp.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#define MAX_FILTERS 64

struct prog {
	struct sock_filter *insns;
	size_t n;
};

struct kc_seccomp {
	struct prog progs[MAX_FILTERS];
	size_t n;
};

uint32_t kc_seccomp_run(const void *insns_v, size_t n, const void *data_v)
{
	const struct sock_filter *insns = insns_v;
	const uint8_t *data = data_v;
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0};

	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &insns[pc];
		uint32_t k = f->k, src = BPF_SRC(f->code) == BPF_X ? X : k;
		size_t skip = 0;

		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
			if (f->code == (BPF_LD | BPF_W | BPF_ABS)) {
				if (k > sizeof(struct seccomp_data) - 4 || (k & 3))
					return SECCOMP_RET_KILL_PROCESS;
				memcpy(&A, data + k, 4);
			} else if (f->code == (BPF_LD | BPF_W | BPF_LEN)) {
				A = sizeof(struct seccomp_data);
			} else if (f->code == (BPF_LD | BPF_IMM)) {
				A = k;
			} else if (f->code == (BPF_LD | BPF_MEM) && k < BPF_MEMWORDS) {
				A = M[k];
			} else {
				return SECCOMP_RET_KILL_PROCESS;
			}
			break;
		case BPF_LDX:
			if (f->code == (BPF_LDX | BPF_W | BPF_LEN))
				X = sizeof(struct seccomp_data);
			else if (f->code == (BPF_LDX | BPF_IMM))
				X = k;
			else if (f->code == (BPF_LDX | BPF_MEM) && k < BPF_MEMWORDS)
				X = M[k];
			else
				return SECCOMP_RET_KILL_PROCESS;
			break;
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return SECCOMP_RET_KILL_PROCESS;
			M[k] = BPF_CLASS(f->code) == BPF_ST ? A : X;
			break;
		case BPF_ALU:
			switch (BPF_OP(f->code)) {
			case BPF_ADD:
				A += src;
				break;
			case BPF_SUB:
				A -= src;
				break;
			case BPF_MUL:
				A *= src;
				break;
			case BPF_DIV:
				if (!src)
					return SECCOMP_RET_KILL_PROCESS;
				A /= src;
				break;
			case BPF_MOD:
				if (!src)
					return SECCOMP_RET_KILL_PROCESS;
				A %= src;
				break;
			case BPF_AND:
				A &= src;
				break;
			case BPF_OR:
				A |= src;
				break;
			case BPF_XOR:
				A ^= src;
				break;
			case BPF_LSH:
				A = src < 32 ? A << src : 0;
				break;
			case BPF_RSH:
				A = src < 32 ? A >> src : 0;
				break;
			case BPF_NEG:
				A = -A;
				break;
			default:
				return SECCOMP_RET_KILL_PROCESS;
			}
			break;
		case BPF_JMP:
			switch (BPF_OP(f->code)) {
			case BPF_JA:
				skip = k;
				break;
			case BPF_JEQ:
				skip = A == src ? f->jt : f->jf;
				break;
			case BPF_JGT:
				skip = A > src ? f->jt : f->jf;
				break;
			case BPF_JGE:
				skip = A >= src ? f->jt : f->jf;
				break;
			case BPF_JSET:
				skip = (A & src) ? f->jt : f->jf;
				break;
			default:
				return SECCOMP_RET_KILL_PROCESS;
			}
			pc += skip; /* past the end falls out of the loop: rejected */
			break;
		case BPF_RET:
			return BPF_RVAL(f->code) == BPF_A ? A : k;
		case BPF_MISC:
			if (BPF_MISCOP(f->code) == BPF_TAX)
				X = A;
			else
				A = X;
			break;
		default:
			return SECCOMP_RET_KILL_PROCESS;
		}
	}
	return SECCOMP_RET_KILL_PROCESS; /* fell off the end: the kernel would not load it */
}

static bool seccomp_mode_filter(pid_t pid, pid_t tid)
{
	char path[64], line[128];
	int mode = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode == 2;
}

int kc_seccomp_load(pid_t pid, pid_t tid, struct kc_seccomp **out, struct kc_err *err)
{
	struct kc_seccomp *s = calloc(1, sizeof(*s));

	if (!s)
		return kc_err_set(err, -ENOMEM, "out of memory");
	*out = s;
	if (!seccomp_mode_filter(pid, tid))
		return 0;
	for (unsigned long i = 0; i < MAX_FILTERS; i++) {
		long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)i, NULL);
		struct prog *p;

		if (n < 0 && errno == ENOENT)
			break;
		if (n <= 0 || n > BPF_MAXINSNS) {
			int e = n < 0 ? errno : EINVAL;

			kc_seccomp_free(s);
			*out = NULL;
			return kc_err_set(err, -e,
					  "cannot read the seccomp filters of thread %d: %s", tid,
					  strerror(e));
		}
		p = &s->progs[s->n];
		p->insns = calloc((size_t)n, sizeof(*p->insns));
		if (!p->insns) {
			kc_seccomp_free(s);
			*out = NULL;
			return kc_err_set(err, -ENOMEM, "out of memory");
		}
		p->n = (size_t)ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)i, p->insns);
		s->n++;
	}
	return 0;
}

void kc_seccomp_free(struct kc_seccomp *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->progs[i].insns);
	free(f);
}

bool kc_seccomp_allows(const struct kc_seccomp *f, long nr, const uint64_t args[6], uint64_t ip)
{
	struct seccomp_data d;

	if (!f || !f->n)
		return true;
	memset(&d, 0, sizeof(d));
	d.nr = (int)nr;
	d.arch = kc_arch_audit_arch;
	d.instruction_pointer = ip;
	for (int i = 0; i < 6; i++)
		d.args[i] = args[i];
	for (size_t i = 0; i < f->n; i++) {
		uint32_t act =
		    kc_seccomp_run(f->progs[i].insns, f->progs[i].n, &d) & SECCOMP_RET_ACTION_FULL;

		if (act != SECCOMP_RET_ALLOW && act != SECCOMP_RET_LOG)
			return false;
	}
	return true;
}
