// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The target-process session (see session.h): snapshot of maps, objects
 * and regions, attaching, short single-thread syscall injections, the
 * thread safety check and the stop/check/write retry loop. The policy of
 * what to check and write belongs to apply.c and revert.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gelf.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#include "upatch/drive.h"
#include "upatch/seccomp.h"
#include "upatch/session.h"

static int session_read_unattached(void *ctx, uint64_t addr, void *buf, size_t len);

uint64_t kc_session_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

bool kc_session_cancelled(const struct kc_session *s)
{
	return s->opts && s->opts->cancel && *s->opts->cancel;
}

/*
 * The process is pinned by its start time: the one the caller chose it
 * with, or the one read first. A PID reused since then names another
 * process, which is left alone; checked again once the threads are held.
 */
static int session_pin(struct kc_session *s, struct kc_err *err)
{
	uint64_t now;

	if (kc_upatch_starttime(s->pid, &now, NULL) < 0)
		return kc_err_set(err, -ESRCH, "process %d has exited", s->pid);
	if (!s->starttime)
		s->starttime = s->opts && s->opts->starttime ? s->opts->starttime : now;
	if (now != s->starttime)
		return kc_err_set(err, -ESRCH,
				  "process %d is not the one chosen any more (its PID was reused): "
				  "skipped",
				  s->pid);
	return 0;
}

int kc_session_open(struct kc_session *s, pid_t pid, const struct kc_upatch_opts *opts,
		    struct kc_err *err)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->started_us = kc_session_now_us();
	s->pid = pid;
	s->opts = opts;
	s->proc.memfd = -1;
	ret = session_pin(s, err);
	if (ret < 0)
		return ret;
	ret = kc_proc_maps_read(pid, &s->maps, err);
	if (ret < 0)
		return ret;
	ret = kc_objs_read(pid, &s->maps, &s->objs, err);
	if (ret < 0)
		return ret;
	return kc_region_scan(&s->maps, session_read_unattached, s, &s->regions, err);
}

static int session_read_unattached(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct kc_session *s = ctx;
	struct kc_proc tmp = {.pid = s->pid, .mm_tid = s->maps.tid, .memfd = -1};

	return kc_ptrace_read(&tmp, addr, buf, len, NULL);
}

int kc_session_refresh(struct kc_session *s, struct kc_err *err)
{
	int ret;

	kc_regions_release(&s->regions);
	kc_proc_maps_release(&s->maps);
	ret = kc_proc_maps_read(s->pid, &s->maps, err);
	if (ret < 0)
		return ret;
	return kc_region_scan(&s->maps, s->attached ? kc_ptrace_read_cb : session_read_unattached,
			      s->attached ? (void *)&s->proc : (void *)s, &s->regions, err);
}

/*
 * The trampoline goes into the padding after the end of an executable
 * segment, within its last page: mapped executable, never reached by the
 * object's own code, zero in the file. Without such a place, remote
 * syscalls use a bare syscall instruction (not safe if we die mid-way).
 */
static void session_place_trampoline(struct kc_session *s)
{
	for (size_t i = 0; i < s->objs.n; i++) {
		struct kc_obj *o = &s->objs.v[i];
		size_t phnum = 0;
		Elf *elf;

		if (o->is_vdso || !(elf = kc_obj_elf(o, NULL)) || elf_getphdrnum(elf, &phnum) < 0)
			continue;
		for (size_t k = 0; k < phnum; k++) {
			uint8_t cur[KC_ARCH_TRAMP_SIZE], code[KC_ARCH_TRAMP_SIZE];
			const struct kc_proc_map *m;
			uint64_t seg_end, page_end, at;
			GElf_Phdr ph;
			bool zero = true;

			if (!gelf_getphdr(elf, (int)k, &ph) || ph.p_type != PT_LOAD ||
			    !(ph.p_flags & PF_X) || ph.p_filesz != ph.p_memsz)
				continue;
			seg_end = o->bias + ph.p_vaddr + ph.p_filesz;
			page_end = (seg_end + 4095) & ~4095ull;
			at = (page_end - KC_ARCH_TRAMP_SIZE) & ~15ull;
			if (at < ((seg_end + 15) & ~15ull) + 16)
				continue;
			m = kc_proc_maps_find(&s->maps, at);
			if (!m || !(m->prot & PROT_EXEC) || m->end < page_end || m->start > seg_end)
				continue;
			if (kc_ptrace_read(&s->proc, at, cur, sizeof(cur), NULL) < 0)
				continue;
			kc_arch_tramp_code(code);
			for (size_t j = 0; j < sizeof(cur); j++)
				zero &= cur[j] == 0;
			if ((zero || memcmp(cur, code, KC_ARCH_TRAMP_SIZE - 32) == 0) &&
			    kc_ptrace_use_trampoline(&s->proc, at, NULL) == 0)
				return;
		}
	}
}

int kc_session_attach(struct kc_session *s, struct kc_err *err)
{
	int ret;

	if (s->attached)
		return 0;
	/* another patcher holds the process: wait for it, within our timeout */
	for (int delay_ms = 5;; delay_ms = delay_ms < 100 ? delay_ms * 2 : 100) {
		double left = s->opts ? s->opts->timeout : 0;

		ret = kc_ptrace_attach(&s->proc, s->pid, err);
		if (ret != -EAGAIN)
			break;
		if ((double)(kc_session_now_us() - s->started_us) / 1e6 >= left ||
		    kc_session_cancelled(s))
			return kc_err_prefix(err, "busy");
		struct timespec nap = {0, delay_ms * 1000000L};
		nanosleep(&nap, NULL);
	}
	if (ret < 0)
		return ret;
	s->attached = true;
	ret = session_pin(s, err);
	if (ret < 0)
		return ret;
	/* what we read before holding the process may have changed meanwhile */
	ret = kc_session_refresh(s, err);
	if (ret < 0)
		return ret;
	ret = kc_ptrace_find_syscall_insn(&s->proc, &s->maps, err);
	if (ret < 0)
		return ret;
	session_place_trampoline(s);
	s->unw = kc_unwind_new(s->pid, err);
	if (!s->unw)
		return err && err->code ? err->code : -ENOMEM;
	/* where idle threads usually are: blocked in libc, called from the program */
	for (size_t i = 0; i < s->objs.n; i++) {
		const struct kc_obj *o = &s->objs.v[i];

		if (o->is_main || (o->soname && !strncmp(o->soname, "libc.so", 7)))
			kc_session_warm_unwind(s, o);
	}
	return 0;
}

void kc_session_warm_unwind(struct kc_session *s, const struct kc_obj *o)
{
	for (size_t i = 0; s->unw && i < s->maps.n; i++) {
		const struct kc_proc_map *m = &s->maps.v[i];

		if (m->start >= o->lo && m->end <= o->hi && (m->prot & PROT_EXEC)) {
			kc_unwind_warm(s->unw, m->start);
			return;
		}
	}
}

void kc_session_close(struct kc_session *s)
{
	struct kc_err ignored = KC_ERR_INIT;

	if (s->unw)
		kc_unwind_free(s->unw);
	s->unw = NULL;
	if (s->attached && s->stub_page && !s->stub_keep)
		kc_session_unmap(s, s->stub_page, 4096, &ignored);
	s->stub_page = 0;
	if (s->attached)
		kc_ptrace_detach(&s->proc, &ignored);
	s->attached = false;
	kc_regions_release(&s->regions);
	kc_objs_release(&s->objs);
	kc_proc_maps_release(&s->maps);
	free(s->busy);
	s->busy = NULL;
	s->nbusy = s->busy_cap = 0;
}

static bool all_stopped(const struct kc_proc *p)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].state == KC_THREAD_RUNNING)
			return false;
	return true;
}

int kc_session_syscalls(struct kc_session *s, const long *nrs, const uint64_t (*args)[6],
			long *rets, size_t n, struct kc_err *err)
{
	bool held = all_stopped(&s->proc);
	struct kc_thread *t;
	int ret;

	ret = kc_ptrace_stop_one(&s->proc, &t, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = kc_ptrace_syscall(&s->proc, t, nrs[i], args[i], &rets[i], err);
	if (!held) {
		struct kc_err e2 = KC_ERR_INIT;

		if (kc_ptrace_resume_one(&s->proc, t, &e2) < 0 && ret == 0) {
			if (err)
				*err = e2;
			ret = e2.code;
		}
	}
	return ret;
}

int kc_session_unmap(struct kc_session *s, uint64_t start, uint64_t size, struct kc_err *err)
{
	long nr = SYS_munmap, r = 0;
	uint64_t a[1][6] = {{start, size}};
	int ret = kc_session_syscalls(s, &nr, a, &r, 1, err);

	if (ret == 0 && r < 0)
		ret = kc_err_set(err, (int)r, "cannot unmap patch region at 0x%llx: %s",
				 (unsigned long long)start, strerror((int)-r));
	return ret;
}

static const struct kc_proc_map *stack_map(const struct kc_proc_maps *maps, uint64_t sp)
{
	return kc_proc_maps_find(maps, sp);
}

static size_t range_of(const struct kc_range *ranges, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= ranges[i].lo && addr < ranges[i].hi)
			return i;
	/* a return address right after a call at the end of a range */
	for (size_t i = 0; i < n; i++)
		if (addr > ranges[i].lo && addr <= ranges[i].hi)
			return i;
	return n;
}

int kc_session_check_threads(struct kc_session *s, const struct kc_range *ranges,
			     const char *const *names, size_t n, struct kc_err *err)
{
	return kc_session_check_threads_at(s, ranges, names, n, NULL, 0, err);
}

static int session_note_busy(struct kc_session *s, pid_t tid, uint64_t leave_sp, uint64_t ret)
{
	if (s->nbusy == s->busy_cap) {
		size_t cap = s->busy_cap ? 2 * s->busy_cap : 8;
		struct kc_busy *v = realloc(s->busy, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->busy = v;
		s->busy_cap = cap;
	}
	s->busy[s->nbusy].tid = tid;
	s->busy[s->nbusy].ret = ret;
	s->busy[s->nbusy++].leave_sp = leave_sp;
	return 0;
}

static bool is_entry(const uint64_t *entries, size_t n, uint64_t pc)
{
	for (size_t i = 0; i < n; i++)
		if (entries[i] == pc)
			return true;
	return false;
}

int kc_session_check_threads_at(struct kc_session *s, const struct kc_range *ranges,
				const char *const *names, size_t n, const uint64_t *entries,
				size_t nentries, struct kc_err *err)
{
	struct kc_proc_maps fresh = {0};
	int ret = 0;

	s->nbusy = 0;
	s->busy_ranges = ranges;
	s->busy_nranges = n;
	s->busy_entries = entries;
	s->busy_nentries = nentries;
	/* every thread is looked at, so that all the busy ones can be driven out at once */
	for (size_t i = 0; i < s->proc.nthreads && (ret == 0 || ret == -EBUSY); i++) {
		struct kc_thread *t = &s->proc.threads[i];
		struct kc_err e2 = KC_ERR_INIT;
		uint64_t pc, hit = 0, leave_sp = 0, leave_ret = 0;
		size_t k;
		int r;

		if (t->state != KC_THREAD_STOPPED)
			continue;
		pc = kc_arch_pc(&t->regs);
		r = kc_unwind_check_leave(s->unw, t->tid, ranges, n, entries, nentries, &hit,
					  &leave_sp, &leave_ret, &e2);
		if (r == -EINVAL || (r < 0 && r != -EBUSY)) {
			/* no reliable unwind: scan the whole live stack conservatively */
			const struct kc_proc_map *m;
			uint64_t sp = kc_arch_sp(&t->regs);

			if (!fresh.n && (r = kc_proc_maps_read(s->pid, &fresh, err)) < 0)
				return r;
			m = stack_map(&fresh, sp);
			leave_sp = 0;
			r = kc_unwind_scan(t->tid, is_entry(entries, nentries, pc) ? 0 : pc, sp,
					   m ? m->end : sp, kc_ptrace_read_cb, &s->proc, ranges, n,
					   &hit, &e2);
			if (r < 0 && r != -EBUSY)
				ret = kc_err_set(err, r, "thread %d: %s", t->tid, e2.msg);
		}
		if (r == -EBUSY) {
			if (session_note_busy(s, t->tid, leave_sp, leave_ret) < 0)
				return kc_err_set(err, -ENOMEM, "out of memory");
			if (ret == 0) {
				k = range_of(ranges, n, hit);
				ret = kc_err_set(
				    err, -EBUSY, "thread %d is busy in '%s' (address 0x%llx)",
				    t->tid, k < n ? names[k] : "?", (unsigned long long)hit);
			}
		}
	}
	kc_proc_maps_release(&fresh);
	return ret;
}

/*
 * Runs every busy thread of the latest check out of the checked ranges
 * while the others stay held, within a few milliseconds in all: a hot
 * function is left within microseconds, while a thread that blocks (on a
 * lock a held thread owns) or spins would only lengthen the stop. The stubs
 * live in a page of their own, mapped for this and unmapped right after.
 * 0 if every one left, -EBUSY if one cannot be driven or did not.
 */
#define DRIVE_BUDGET_US 3000u
#define DRIVE_MAX	(4096 / KC_DRIVE_STUB_SIZE)

static int session_drive_out(struct kc_session *s, struct kc_err *err)
{
	struct kc_drive v[DRIVE_MAX];
	uint8_t stubs[4096];
	long nrs[1] = {SYS_mmap}, page = 0;
	uint64_t args[1][6] = {{0, sizeof(stubs), PROT_READ | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0}};
	uint64_t none[6] = {0};
	int ret;

	if (s->nbusy > DRIVE_MAX)
		return -EBUSY;
	for (size_t i = 0; i < s->nbusy; i++) {
		v[i].tid = s->busy[i].tid;
		v[i].leave_sp = s->busy[i].leave_sp;
		v[i].ret = s->busy[i].ret;
		/* only a frame whose return address was really pushed by a call is rewritten */
		if (!v[i].leave_sp || !kc_drive_is_return_address(&s->proc, v[i].ret))
			return -EBUSY;
		uint64_t at = 0;
		if (kc_ptrace_read(&s->proc, v[i].leave_sp - 8, &at, sizeof(at), NULL) < 0 ||
		    at != v[i].ret)
			return -EBUSY;
	}
	/* the stub page is mapped at the first need and kept until the session ends */
	if (!s->stub_page) {
		ret = kc_session_syscalls(s, nrs, args, &page, 1, err);
		if (ret < 0)
			return ret;
		if (page < 0)
			return -EBUSY; /* no memory for the stubs: the round fails as it would have
					*/
		s->stub_page = (uint64_t)page;
	}
	page = (long)s->stub_page;
	/* a stub run after our death makes a getpid: a filter that forbids it forbids driving */
	if (!kc_seccomp_allows(s->proc.seccomp, SYS_getpid, none, (uint64_t)page + 8))
		return -EBUSY;
	memset(stubs, 0xcc, sizeof(stubs));
	for (size_t i = 0; i < s->nbusy; i++)
		kc_drive_stub(stubs + i * KC_DRIVE_STUB_SIZE, v[i].ret);
	ret = kc_ptrace_write(&s->proc, (uint64_t)page, stubs, s->nbusy * KC_DRIVE_STUB_SIZE, err);
	if (ret == 0)
		ret = kc_drive_out(&s->proc, v, s->nbusy, (uint64_t)page,
				   kc_session_now_us() + DRIVE_BUDGET_US, err);
	if (ret == 0)
		s->stats.driven += (unsigned)s->nbusy;
	/* a thread that would not stop may still return through its stub: keep the page then */
	if (ret < 0 && ret != -EBUSY)
		s->stub_keep = true;
	return ret;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int kc_session_in_stop(struct kc_session *s, kc_txn_fn check, kc_txn_fn write, void *ctx,
		       struct kc_err *err)
{
	double deadline = now_sec() + (s->opts && s->opts->timeout > 0 ? s->opts->timeout : 0);
	int backoff_ms = 1, ret;

	memset(&s->stats, 0, sizeof(s->stats));
	for (;;) {
		struct kc_err e2 = KC_ERR_INIT;
		uint64_t t0 = kc_session_now_us(), held;

		s->stats.attempts++;
		if (kc_session_cancelled(s))
			return kc_err_set(err, -EINTR, "interrupted");
		ret = kc_ptrace_stop_all(&s->proc, err);
		if (ret < 0)
			return ret;
		s->nbusy = 0;
		ret = check(s, ctx, err);
		/* busy threads are driven out and everything checked again, still in this stop */
		for (int drives = 0; ret == -EBUSY && s->nbusy && drives < 2; drives++) {
			struct kc_err e3 = KC_ERR_INIT;
			int r = session_drive_out(s, &e3);

			if (r == -EBUSY)
				break; /* keep the check's message */
			if (r < 0) {
				if (err)
					*err = e3;
				ret = r;
				break;
			}
			s->nbusy = 0;
			ret = check(s, ctx, err);
		}
		/* last chance to back out: past this point the writes go in */
		if (ret == 0 && kc_session_cancelled(s))
			ret = kc_err_set(err, -EINTR, "interrupted");
		if (ret == 0)
			ret = write(s, ctx, err);
		if (ret == 0) {
			/* still stopped: the caller cleans up, then resumes or detaches */
			s->stats.threads = (unsigned)kc_ptrace_live_threads(&s->proc);
			s->stop_t0 = t0; /* ended by kc_session_release_stop() */
			return 0;
		}
		if (ret != -EBUSY || now_sec() >= deadline) {
			if (kc_ptrace_resume_all(&s->proc, &e2) < 0 && ret == 0) {
				if (err)
					*err = e2;
				ret = e2.code;
			}
			if (ret == -EBUSY)
				kc_err_prefix(err, "gave up after %u attempts in %.1f s",
					      s->stats.attempts, s->opts ? s->opts->timeout : 0.0);
			return ret;
		}
		/* let every thread run (and take its signals) before trying again */
		ret = kc_ptrace_resume_all(&s->proc, err);
		held = kc_session_now_us() - t0;
		if (held > s->stats.max_stop_us)
			s->stats.max_stop_us = held;
		if (ret == 0)
			ret = kc_ptrace_service(&s->proc, backoff_ms, err);
		if (ret < 0)
			return ret;
		if (backoff_ms < 64)
			backoff_ms *= 2;
	}
}

static void session_stop_ended(struct kc_session *s, uint64_t now)
{
	if (!s->stop_t0)
		return;
	s->stats.stop_us = now - s->stop_t0;
	if (s->stats.stop_us > s->stats.max_stop_us)
		s->stats.max_stop_us = s->stats.stop_us;
	s->stop_t0 = 0;
}

const struct kc_upatch_stats *kc_session_stats_done(struct kc_session *s)
{
	uint64_t now = kc_session_now_us();

	session_stop_ended(s, now);
	s->stats.total_us = now - s->started_us;
	return &s->stats;
}

int kc_session_release_stop(struct kc_session *s, struct kc_err *err)
{
	int ret;

	if (!s->attached)
		return 0;
	ret = kc_ptrace_resume_all(&s->proc, err);
	session_stop_ended(s, kc_session_now_us());
	return ret;
}
