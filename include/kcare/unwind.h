/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stack safety check: is any thread of a stopped process executing, or
 * due to return into, one of the given address ranges? A precise check
 * through libunwind-ptrace, and a conservative word scan of the stack for
 * when unwinding is unreliable. Stopping the threads is the caller's job.
 */
#ifndef KCARE_UNWIND_H
#define KCARE_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kcare/err.h"
#include "kcare/resolve.h"

struct kc_range {
	uint64_t lo, hi; /* [lo, hi) */
};

struct kc_unwinder; /* per process: caches unwind tables per object across calls and threads */

/* Returns NULL with @err set on failure. Free with kc_unwind_free(). */
struct kc_unwinder *kc_unwind_new(pid_t pid, struct kc_err *err);
void kc_unwind_free(struct kc_unwinder *u);

/*
 * Thread @tid must be in a ptrace-stop (the engine guarantees it). Walks its stack with
 * libunwind-ptrace (_UPT accessors; set a caching policy so tables are reused), at most 256
 * frames. Returns:
 *   0       no frame's pc lies in any range (for caller frames test pc-1, i.e. the call site,
 *           and pc itself);
 *   -EBUSY  the top pc or a return address lies in a range: *hit = that pc;
 *   -EINVAL the stack cannot be unwound reliably to its end and the part walked found nothing.
 * For -EINVAL the engine will fall back to a conservative scan (kc_unwind_scan()).
 * Call kc_unwind_flush() after the process's mappings change (dlopen, patch regions).
 */
int kc_unwind_check(struct kc_unwinder *u, pid_t tid, const struct kc_range *ranges, size_t nranges,
		    uint64_t *hit, struct kc_err *err);

/*
 * kc_unwind_check() with two additions. A pc (not a return address) equal
 * to one of @entries, the entries whose bytes are being replaced, has not
 * begun that function: it is not busy. On -EBUSY the walk goes on to the
 * outermost frame in a range, and *leave_sp is set to the stack pointer the
 * thread has once that frame returned (its caller's sp) and *leave_ret to
 * the address it returns to. Both are 0 when unknown (the walk did not
 * reach the stack's end, or the outermost frame itself is in a range).
 */
int kc_unwind_check_leave(struct kc_unwinder *u, pid_t tid, const struct kc_range *ranges,
			  size_t nranges, const uint64_t *entries, size_t nentries, uint64_t *hit,
			  uint64_t *leave_sp, uint64_t *leave_ret, struct kc_err *err);

/*
 * Loads the unwind table of the object mapped at @ip now, so that the first
 * walk through it, inside a stop, does not read and parse the file.
 */
void kc_unwind_warm(struct kc_unwinder *u, uint64_t ip);

/* Drops cached unwind tables (after the target's mappings changed). */
void kc_unwind_flush(struct kc_unwinder *u);

/*
 * Conservative check: top pc plus every 8-byte word from rsp up to @stack_end, the end of the stack
 * mapping that contains rsp (read with the given reader); -EBUSY with *hit if any word lies in a
 * range, 0 otherwise, negative errno if the stack cannot be read.
 */
int kc_unwind_scan(pid_t tid, uint64_t pc, uint64_t sp, uint64_t stack_end, kc_mem_read_fn read,
		   void *ctx, const struct kc_range *ranges, size_t nranges, uint64_t *hit,
		   struct kc_err *err);

#endif
