// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The conservative scan for suspended stacks and the retirement of patch
 * regions (see retire.h). Memory is read with process_vm_readv in 1 MiB
 * pieces, and only pages that can hold a return address are read: present
 * or swapped anonymous ones (a private file page nobody wrote to holds the
 * file's bytes, and an untouched page is zero).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "upatch/drive.h"
#include "upatch/retire.h"

#define PAGE	     4096ull
#define CHUNK_PAGES  256u
#define PM_PRESENT   (1ull << 63)
#define PM_SWAPPED   (1ull << 62)
#define PM_FILE_PAGE (1ull << 61)

int kc_refscan_init(struct kc_refscan *rs, struct kc_session *s, const struct kc_range *ranges,
		    size_t n, struct kc_err *err)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	memset(rs, 0, sizeof(*rs));
	rs->ranges = calloc(n + 1, sizeof(*rs->ranges));
	rs->code = calloc(n + 1, sizeof(*rs->code));
	rs->skip = calloc(s->regions.n + 1, sizeof(*rs->skip));
	if (!rs->ranges || !rs->code || !rs->skip)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		uint64_t len = ranges[i].hi - ranges[i].lo;

		rs->ranges[i] = ranges[i];
		if (ranges[i].hi <= ranges[i].lo || len > (64u << 20))
			len = 0; /* empty, or not a function: matches nothing */
		rs->ranges[i].hi = ranges[i].lo + len;
		rs->code[i] = calloc(len + 8, 1);
		rs->n = i + 1;
		if (!rs->code[i])
			goto nomem;
		if (!len)
			continue;
		/* the 8 bytes before the range may be unmapped: then they stay zero */
		if (kc_ptrace_read(&s->proc, ranges[i].lo - 8, rs->code[i], len + 8, NULL) < 0)
			kc_ptrace_read(&s->proc, ranges[i].lo, rs->code[i] + 8, len, NULL);
		lo = ranges[i].lo < lo ? ranges[i].lo : lo;
		hi = ranges[i].hi > hi ? ranges[i].hi : hi;
	}
	rs->lo = lo;
	rs->span = hi > lo ? hi - lo : 0;
	for (size_t i = 0; i < s->regions.n; i++) {
		rs->skip[i].lo = s->regions.v[i].start;
		rs->skip[i].hi = s->regions.v[i].start + s->regions.v[i].hdr.region_size;
	}
	rs->nskip = s->regions.n;
	return 0;
nomem:
	kc_refscan_release(rs);
	return kc_err_set(err, -ENOMEM, "out of memory");
}

void kc_refscan_release(struct kc_refscan *rs)
{
	for (size_t i = 0; rs->code && i < rs->n; i++)
		free(rs->code[i]);
	free(rs->code);
	free(rs->ranges);
	free(rs->skip);
	free(rs->refs);
	memset(rs, 0, sizeof(*rs));
}

static bool held(const struct kc_proc *p)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].state == KC_THREAD_RUNNING)
			return false;
	return true;
}

/*
 * The stacks the stopped threads run on: the main thread's [stack], or the
 * mapping that holds both a thread's stack pointer and its thread pointer
 * (glibc and musl put a thread's control block at the top of its stack).
 * Their live frames are the unwinder's and the rest is dead, stale return
 * addresses included. A thread running on a coroutine stack leaves it in
 * the scan: where that stack ends is not known.
 */
struct excluded {
	struct kc_range *v;
	size_t n;
};

static int excluded_build(struct kc_refscan *rs, struct kc_session *s,
			  const struct kc_proc_maps *maps, bool stacks, struct excluded *ex)
{
	ex->n = 0;
	ex->v = calloc(rs->nskip + s->proc.nthreads + 1, sizeof(*ex->v));
	if (!ex->v)
		return -ENOMEM;
	for (size_t i = 0; i < rs->nskip; i++)
		ex->v[ex->n++] = rs->skip[i];
	for (size_t i = 0; stacks && i < s->proc.nthreads; i++) {
		const struct kc_thread *t = &s->proc.threads[i];
		const struct kc_proc_map *m;
		uint64_t tp;

		if (t->state != KC_THREAD_STOPPED)
			continue;
		m = kc_proc_maps_find(maps, kc_arch_sp(&t->regs));
		tp = kc_arch_tp(&t->regs);
		if (m && (!strcmp(m->path, "[stack]") || (tp >= m->start && tp < m->end)))
			ex->v[ex->n++] = (struct kc_range){m->start, m->end};
	}
	return 0;
}

static bool excluded_has(const struct excluded *ex, uint64_t at)
{
	for (size_t i = 0; i < ex->n; i++)
		if (at >= ex->v[i].lo && at < ex->v[i].hi)
			return true;
	return false;
}

static int ref_add(struct kc_refscan *rs, uint64_t at, uint64_t val, size_t range)
{
	if (rs->nrefs == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 16;
		struct kc_ref *v = realloc(rs->refs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rs->refs = v;
		rs->cap = cap;
	}
	rs->refs[rs->nrefs++] = (struct kc_ref){at, val, range};
	return 0;
}

/* Which range @val returns into (the bytes before it end with a call), or rs->n. */
static size_t returns_into(const struct kc_refscan *rs, uint64_t val)
{
	for (size_t k = 0; k < rs->n; k++)
		if (val > rs->ranges[k].lo && val <= rs->ranges[k].hi &&
		    kc_drive_call_before(rs->code[k] + (val - rs->ranges[k].lo) + 1))
			return k;
	return rs->n;
}

static int scan_words(struct kc_refscan *rs, const struct excluded *ex, uint64_t addr,
		      const uint64_t *w, size_t nw)
{
	for (size_t i = 0; i < nw; i++) {
		size_t k;

		if (w[i] - rs->lo - 1 >= rs->span)
			continue;
		k = returns_into(rs, w[i]);
		if (k < rs->n && !excluded_has(ex, addr + 8 * i) &&
		    ref_add(rs, addr + 8 * i, w[i], k) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Reads [@addr, @addr + @len) of the target and scans it; an unreadable rest is skipped. */
static int scan_run(struct kc_refscan *rs, pid_t tid, const struct excluded *ex, uint64_t addr,
		    size_t len, uint64_t *buf)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
	ssize_t got = process_vm_readv(tid, &local, 1, &remote, 1, 0);

	if (got <= 0)
		return 0; /* unmapped meanwhile, or not readable */
	rs->bytes += (uint64_t)got;
	return scan_words(rs, ex, addr, buf, (size_t)got / 8);
}

static bool scannable(const struct kc_proc_map *m)
{
	return !m->shared && (m->prot & PROT_READ) && (m->prot & PROT_WRITE);
}

static int scan_map(struct kc_refscan *rs, pid_t tid, int pagemap, const struct excluded *ex,
		    const struct kc_proc_map *m, uint64_t *buf)
{
	uint64_t pm[CHUNK_PAGES];

	for (uint64_t a = m->start; a < m->end; a += CHUNK_PAGES * PAGE) {
		size_t np = (size_t)((m->end - a) / PAGE), i = 0;
		int ret;

		np = np > CHUNK_PAGES ? CHUNK_PAGES : np;
		if (pagemap < 0 ||
		    pread(pagemap, pm, np * 8, (off_t)(a / PAGE * 8)) != (ssize_t)(np * 8)) {
			ret = scan_run(rs, tid, ex, a, np * PAGE, buf);
			if (ret < 0)
				return ret;
			continue;
		}
		while (i < np) {
			size_t j;

			if (!(pm[i] & (PM_PRESENT | PM_SWAPPED)) || (pm[i] & PM_FILE_PAGE)) {
				i++;
				continue;
			}
			for (j = i + 1; j < np && (pm[j] & (PM_PRESENT | PM_SWAPPED)) &&
					!(pm[j] & PM_FILE_PAGE);
			     j++)
				;
			ret = scan_run(rs, tid, ex, a + i * PAGE, (j - i) * PAGE, buf);
			if (ret < 0)
				return ret;
			i = j;
		}
	}
	return 0;
}

static pid_t mm_tid(const struct kc_session *s)
{
	return s->proc.mm_tid ? s->proc.mm_tid : s->pid;
}

int kc_refscan_memory(struct kc_refscan *rs, struct kc_session *s, struct kc_err *err)
{
	struct kc_proc_maps maps = {0};
	struct excluded ex = {0};
	uint64_t t0 = kc_session_now_us(), *buf = NULL;
	char path[64];
	int pagemap = -1, ret;

	rs->nrefs = 0;
	rs->bytes = 0;
	if (!rs->span)
		return 0;
	ret = kc_proc_maps_read(s->pid, &maps, err);
	if (ret < 0)
		return ret;
	buf = malloc(CHUNK_PAGES * PAGE);
	if (!buf || excluded_build(rs, s, &maps, s->attached && held(&s->proc), &ex) < 0) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)mm_tid(s));
	pagemap = open(path, O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < maps.n && ret == 0; i++)
		if (scannable(&maps.v[i]))
			ret = scan_map(rs, mm_tid(s), pagemap, &ex, &maps.v[i], buf);
	if (ret < 0)
		ret = kc_err_set(err, ret, "out of memory");
out:
	if (pagemap >= 0)
		close(pagemap);
	free(buf);
	free(ex.v);
	kc_proc_maps_release(&maps);
	rs->us = kc_session_now_us() - t0;
	return ret;
}

int kc_refscan_recheck(struct kc_refscan *rs, struct kc_session *s, struct kc_err *err)
{
	struct kc_proc_maps maps = {0};
	struct excluded ex = {0};
	size_t kept = 0;
	int ret;

	if (!rs->nrefs)
		return 0;
	ret = kc_proc_maps_read(s->pid, &maps, err);
	if (ret < 0)
		return ret;
	if (excluded_build(rs, s, &maps, true, &ex) < 0) {
		kc_proc_maps_release(&maps);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rs->nrefs; i++) {
		uint64_t cur = 0;

		if (excluded_has(&ex, rs->refs[i].at) ||
		    kc_ptrace_read(&s->proc, rs->refs[i].at, &cur, sizeof(cur), NULL) < 0 ||
		    cur != rs->refs[i].val)
			continue;
		rs->refs[kept++] = rs->refs[i];
	}
	rs->nrefs = kept;
	free(ex.v);
	kc_proc_maps_release(&maps);
	return 0;
}

int kc_retire_or_unmap(struct kc_session *s, const struct kc_region *r, uint64_t *kept,
		       struct kc_err *err)
{
	struct kc_range text = {r->start + r->hdr.hdr_size,
				r->start + r->hdr.hdr_size + r->hdr.text_size};
	const char *name = "patch code";
	struct kc_err e2 = KC_ERR_INIT;
	struct kc_refscan rs;
	bool busy = false;
	int ret = 0;

	*kept = 0;
	if (r->hdr.text_size) {
		/* a thread may have come back into it from a coroutine since the entries changed */
		ret = kc_session_check_threads(s, &text, &name, 1, &e2);
		s->nbusy = 0;
		s->busy_ranges = NULL;
		s->busy_nranges = 0;
		if (ret < 0 && ret != -EBUSY)
			return kc_err_set(err, ret, "%s", e2.msg);
		busy = ret == -EBUSY;
	}
	if (!busy && r->hdr.text_size) {
		ret = kc_refscan_init(&rs, s, &text, 1, err);
		if (ret == 0)
			ret = kc_refscan_memory(&rs, s, err);
		busy = rs.nrefs > 0;
		s->stats.scan_us += rs.us;
		s->stats.scan_kib += rs.bytes / 1024;
		kc_refscan_release(&rs);
		if (ret < 0)
			return ret;
	}
	if (!busy)
		return kc_session_unmap(s, r->start, r->hdr.region_size, err);
	ret = kc_ptrace_write(&s->proc, r->start + offsetof(struct kc_region_hdr, state),
			      &(uint32_t){KC_REGION_RETIRED}, sizeof(uint32_t), err);
	if (ret == 0)
		*kept = r->hdr.region_size;
	return ret;
}
