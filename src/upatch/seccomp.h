/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Seccomp filters of a target thread, read through ptrace and evaluated
 * here on the exact syscalls the engine is about to inject, so that a
 * filter that would kill the process (SIGSYS) or fail the call is known
 * before, and the process is never harmed by our remote syscalls.
 */
#ifndef KC_UPATCH_SECCOMP_H
#define KC_UPATCH_SECCOMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kcare/err.h"

struct kc_seccomp;

/*
 * Reads every filter of thread @tid (which must be ptrace-stopped). A
 * thread without filters gives an empty set. -EPERM if the filters exist
 * but cannot be read (needs CAP_SYS_ADMIN).
 */
int kc_seccomp_load(pid_t pid, pid_t tid, struct kc_seccomp **out, struct kc_err *err);
void kc_seccomp_free(struct kc_seccomp *f);

/*
 * Whether the filters let syscall @nr with @args, issued at @ip, run
 * (action ALLOW or LOG from every filter). A malformed program counts as
 * not allowing.
 */
bool kc_seccomp_allows(const struct kc_seccomp *f, long nr, const uint64_t args[6], uint64_t ip);

/* Evaluates one classic BPF program on a seccomp_data (exposed for tests and fuzzing). */
uint32_t kc_seccomp_run(const void *insns, size_t ninsns, const void *data);

#endif
