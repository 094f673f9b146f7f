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

#include "kcare/conf.h"
#include "upatch/drive.h"
#include "upatch/retire.h"

#define PAGE	      4096ull
#define CHUNK_PAGES   256u
#define PM_PRESENT    (1ull << 63)
#define PM_SWAPPED    (1ull << 62)
#define PM_FILE_PAGE  (1ull << 61)
#define PM_SOFT_DIRTY (1ull << 55)
#define BUDGET_MIB    64u

struct excluded;

/*
 * What a pass reads of the memory the scan before the stop saw: all of it,
 * the pages written since (soft-dirty), or the pages where it found words.
 */
enum pass_mode { PASS_ALL, PASS_DIRTY, PASS_CANDIDATES };

/* One pass over the target's memory. */
struct pass {
	struct kc_refscan *rs;
	pid_t tid;
	int pagemap;
	const struct excluded *ex;
	uint64_t *buf;
	enum pass_mode mode;
	bool in_stop;	      /* bounded by rs->budget; else it records what it saw */
	uint64_t start_bytes; /* rs->bytes when the pass began */
	const uint64_t *cand; /* PASS_CANDIDATES: sorted page addresses */
	size_t ncand;
};

/* KC_SCAN_BUDGET_MIB: what a stop may read at most (a whole MiB count), else 64 MiB. */
static uint64_t stop_budget(void)
{
	const char *env = getenv("KC_SCAN_BUDGET_MIB");
	char *end;
	unsigned long long v;

	if (!env || !*env)
		return (uint64_t)BUDGET_MIB << 20;
	v = strtoull(env, &end, 10);
	return *end || v > (1ull << 40) ? (uint64_t)BUDGET_MIB << 20 : (uint64_t)v << 20;
}

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
	rs->budget = stop_budget();
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
	free(rs->covered);
	free(rs->holes);
	free(rs->nodump);
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
 *
 * The kernel merges a new anonymous mapping into an adjacent one, so a
 * coroutine stack mapped right above a thread's stack becomes part of its
 * mapping: the part left out ends with the page of the thread pointer. Below
 * the stack pointer, the dead part is left out only down to a guard page;
 * without one, something merged below may be live.
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
		uint64_t sp, tp;

		if (t->state != KC_THREAD_STOPPED)
			continue;
		sp = kc_arch_sp(&t->regs);
		m = kc_proc_maps_find(maps, sp);
		tp = kc_arch_tp(&t->regs);
		if (!m)
			continue;
		if (!strcmp(m->path, "[stack]")) {
			ex->v[ex->n++] = (struct kc_range){m->start, m->end};
		} else if (tp >= m->start && tp < m->end && sp <= tp) {
			bool guard = m > maps->v && m[-1].end == m->start && !m[-1].prot;
			uint64_t top = (tp & ~(PAGE - 1)) + PAGE;

			ex->v[ex->n++] = (struct kc_range){guard ? m->start : sp, top};
		}
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

static int range_add(struct kc_range **v, size_t *n, size_t *cap, uint64_t lo, uint64_t hi)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 64;
		struct kc_range *nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = (struct kc_range){lo, hi};
	return 0;
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

/*
 * Reads [@addr, @addr + @len) of the target and scans it. What cannot be
 * read (unmapped meanwhile) is a hole: the scan before the stop has not
 * seen it, so the stop reads it whatever the mode. In the stop, a @bounded
 * read beyond rs->budget is not done (rs->over_budget).
 */
static int scan_run(struct pass *ps, uint64_t addr, size_t len, bool bounded)
{
	struct kc_refscan *rs = ps->rs;
	struct iovec local = {ps->buf, len}, remote = {(void *)(uintptr_t)addr, len};
	ssize_t got;

	if (bounded && ps->in_stop && rs->bytes - ps->start_bytes + len > rs->budget) {
		rs->over_budget = true;
		return 0;
	}
	got = process_vm_readv(ps->tid, &local, 1, &remote, 1, 0);
	if (got < (ssize_t)len && ps->mode == PASS_ALL && !ps->in_stop &&
	    range_add(&rs->holes, &rs->nholes, &rs->holes_cap, addr + (got > 0 ? got : 0),
		      addr + len) < 0)
		return -ENOMEM;
	if (got <= 0)
		return 0;
	rs->bytes += (uint64_t)got;
	return scan_words(rs, ps->ex, addr, ps->buf, (size_t)got / 8);
}

/* Whether the scan before the stop read all of [lo, hi): then the stop reads again only part of it.
 */
static bool seen(const struct kc_refscan *rs, uint64_t lo, uint64_t hi)
{
	bool in = false;

	for (size_t i = 0; i < rs->nholes; i++)
		if (rs->holes[i].lo < hi && rs->holes[i].hi > lo)
			return false;
	for (size_t i = 0; i < rs->ncovered && !in; i++)
		in = rs->covered[i].lo <= lo && rs->covered[i].hi >= hi;
	return in;
}

static bool scannable(const struct kc_refscan *rs, const struct kc_proc_map *m)
{
	if (m->shared || !(m->prot & PROT_READ) || !(m->prot & PROT_WRITE))
		return false;
	for (size_t i = 0; i < rs->nnodump; i++)
		if (m->start >= rs->nodump[i].lo && m->end <= rs->nodump[i].hi)
			return false;
	return true;
}

/* Whether a candidate page lies in [lo, hi). */
static bool cand_in(const struct pass *ps, uint64_t lo, uint64_t hi)
{
	size_t a = 0, b = ps->ncand;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (ps->cand[m] < lo)
			a = m + 1;
		else
			b = m;
	}
	return a < ps->ncand && ps->cand[a] < hi;
}

/*
 * A page that can hold a return address: present or swapped, anonymous.
 * With @filter (memory the scan before the stop saw), one of those that
 * the pass's mode reads again.
 */
static bool wanted(const struct pass *ps, uint64_t addr, uint64_t pm, bool filter)
{
	if (!(pm & (PM_PRESENT | PM_SWAPPED)) || (pm & PM_FILE_PAGE))
		return false;
	if (!filter)
		return true;
	return ps->mode == PASS_DIRTY ? (pm & PM_SOFT_DIRTY) != 0 : cand_in(ps, addr, addr + PAGE);
}

static int scan_map(struct pass *ps, const struct kc_proc_map *m)
{
	uint64_t pm[CHUNK_PAGES];
	int ret;

	if (ps->mode == PASS_ALL && !ps->in_stop &&
	    range_add(&ps->rs->covered, &ps->rs->ncovered, &ps->rs->covered_cap, m->start, m->end) <
		0)
		return -ENOMEM;
	for (uint64_t a = m->start; a < m->end; a += CHUNK_PAGES * PAGE) {
		size_t np = (size_t)((m->end - a) / PAGE), i = 0;
		bool filter;

		np = np > CHUNK_PAGES ? CHUNK_PAGES : np;
		filter = ps->mode != PASS_ALL && seen(ps->rs, a, a + np * PAGE);
		if (filter && ps->mode == PASS_CANDIDATES && !cand_in(ps, a, a + np * PAGE))
			continue; /* not even its pagemap: qemu's guest RAM is gigabytes */
		if (ps->pagemap < 0 ||
		    pread(ps->pagemap, pm, np * 8, (off_t)(a / PAGE * 8)) != (ssize_t)(np * 8)) {
			ret = scan_run(ps, a, np * PAGE, true);
			if (ret < 0)
				return ret;
			continue;
		}
		while (i < np) {
			size_t j;

			if (!wanted(ps, a + i * PAGE, pm[i], filter)) {
				i++;
				continue;
			}
			for (j = i + 1; j < np && wanted(ps, a + j * PAGE, pm[j], filter); j++)
				;
			/* the pages of the words found before are few: never over budget */
			ret = scan_run(ps, a + i * PAGE, (j - i) * PAGE,
				       !filter || ps->mode != PASS_CANDIDATES);
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

static int open_proc(const struct kc_session *s, const char *name, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)mm_tid(s), name);
	return open(path, flags | O_CLOEXEC);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* PASS_CANDIDATES: the pages of the words found (sorted); rs->refs starts anew. */
static int candidates(struct kc_refscan *rs, struct pass *ps, struct kc_err *err)
{
	uint64_t *v = calloc(rs->nrefs + 1, sizeof(*v));

	if (!v)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < rs->nrefs; i++)
		v[i] = rs->refs[i].at & ~(PAGE - 1);
	qsort(v, rs->nrefs, sizeof(*v), u64_cmp);
	ps->cand = v;
	ps->ncand = rs->nrefs;
	rs->nrefs = 0;
	return 0;
}

/*
 * The mappings never scanned, from /proc/PID/smaps VmFlags: "dd", which
 * the process set itself (MADV_DONTDUMP: qemu's guest RAM under libvirt),
 * declaring the memory no part of its state worth a core dump; "io" and
 * "pf", device memory process_vm_readv cannot read. Read before the stop
 * only: smaps counts every mapping's pages (~30 ms per touched GiB).
 */
static int nodump_read(struct kc_refscan *rs, struct kc_session *s, struct kc_err *err)
{
	char path[64], *buf = NULL;
	size_t len = 0;
	uint64_t lo = 0, hi = 0;
	int ret;

	rs->nodump_read = true;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)mm_tid(s));
	ret = kc_file_read_all(path, (size_t)1 << 30, &buf, &len, NULL);
	if (ret == -ENOMEM)
		return kc_err_set(err, ret, "out of memory");
	if (ret < 0)
		return 0; /* gone: the scan says so */
	for (char *l = buf, *nl; l < buf + len; l = nl + 1) {
		nl = memchr(l, '\n', (size_t)(buf + len - l));
		if (!nl)
			nl = buf + len;
		*nl = 0;
		if ((*l >= '0' && *l <= '9') || (*l >= 'a' && *l <= 'f')) {
			unsigned long long a, b;

			if (sscanf(l, "%llx-%llx", &a, &b) == 2)
				lo = a, hi = b;
		} else if (!strncmp(l, "VmFlags:", 8)) {
			char *sv = NULL;

			for (char *t = strtok_r(l + 8, " ", &sv); t; t = strtok_r(NULL, " ", &sv))
				if (!strcmp(t, "dd") || !strcmp(t, "io") || !strcmp(t, "pf")) {
					size_t cap = rs->nnodump;

					if (range_add(&rs->nodump, &rs->nnodump, &cap, lo, hi) < 0)
						ret = -ENOMEM;
					break;
				}
		}
	}
	free(buf);
	return ret < 0 ? kc_err_set(err, ret, "out of memory") : 0;
}

/* One pass over every private writable mapping; refs are added to rs->refs. */
static int scan_memory(struct kc_refscan *rs, struct kc_session *s, enum pass_mode mode,
		       bool in_stop, struct kc_err *err)
{
	struct kc_proc_maps maps = {0};
	struct excluded ex = {0};
	struct pass ps = {rs, mm_tid(s), -1, &ex, NULL, mode, in_stop, rs->bytes, NULL, 0};
	uint64_t t0 = kc_session_now_us();
	int ret;

	if (!rs->span)
		return 0;
	if (!rs->nodump_read && (ret = nodump_read(rs, s, err)) < 0)
		return ret;
	if (mode == PASS_CANDIDATES && (ret = candidates(rs, &ps, err)) < 0)
		return ret;
	ret = kc_proc_maps_read(s->pid, &maps, err);
	if (ret < 0)
		return ret;
	ps.buf = malloc(CHUNK_PAGES * PAGE);
	if (!ps.buf || excluded_build(rs, s, &maps, s->attached && held(&s->proc), &ex) < 0) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	ps.pagemap = open_proc(s, "pagemap", O_RDONLY);
	for (size_t i = 0; i < maps.n && ret == 0; i++)
		if (scannable(rs, &maps.v[i]))
			ret = scan_map(&ps, &maps.v[i]);
	if (ret < 0)
		ret = kc_err_set(err, ret, "out of memory");
out:
	if (ps.pagemap >= 0)
		close(ps.pagemap);
	free(ps.buf);
	free((void *)ps.cand);
	free(ex.v);
	kc_proc_maps_release(&maps);
	rs->us += kc_session_now_us() - t0;
	return ret;
}

int kc_refscan_memory(struct kc_refscan *rs, struct kc_session *s, struct kc_err *err)
{
	rs->nrefs = 0;
	rs->bytes = 0;
	rs->us = 0;
	rs->ncovered = 0;
	rs->nholes = 0;
	return scan_memory(rs, s, PASS_ALL, false, err);
}

/* In the stop: keeps the refs whose word still holds its value and is not on a stack a thread runs
 * on. */
static int refscan_recheck(struct kc_refscan *rs, struct kc_session *s, struct kc_err *err)
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

/*
 * Whether this kernel keeps soft-dirty bits (CONFIG_MEM_SOFT_DIRTY): tried
 * once on a page of our own. KC_SOFT_DIRTY=0 in the environment turns
 * their use off (the whole scan then runs in the stop).
 */
static bool soft_dirty_probe(void)
{
	const char *env = getenv("KC_SOFT_DIRTY");
	volatile uint8_t *p =
	    mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int cr = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t before = 0, after = 0;
	bool ok = false;

	if (env && !strcmp(env, "0"))
		ok = false;
	else if (p != MAP_FAILED && cr >= 0 && pm >= 0) {
		off_t off = (off_t)((uintptr_t)p / PAGE * 8);

		p[0] = 1;
		if (write(cr, "4", 1) == 1 && pread(pm, &before, 8, off) == 8) {
			p[0] = 2;
			ok = pread(pm, &after, 8, off) == 8 && !(before & PM_SOFT_DIRTY) &&
			     (after & PM_SOFT_DIRTY);
		}
	}
	if (cr >= 0)
		close(cr);
	if (pm >= 0)
		close(pm);
	if (p != MAP_FAILED)
		munmap((void *)p, PAGE);
	return ok;
}

static bool soft_dirty_works(void)
{
	static int works = -1;

	if (works < 0)
		works = soft_dirty_probe();
	return works;
}

int kc_refscan_begin(struct kc_refscan *rs, struct kc_session *s, const struct kc_range *ranges,
		     size_t n, size_t nloose, struct kc_err *err)
{
	int ret = kc_refscan_init(rs, s, ranges, n, err), fd;

	if (ret < 0 || !rs->span)
		return ret;
	rs->nloose = nloose < n ? nloose : n;
	if (soft_dirty_works()) {
		/* from now on every page the target writes is marked: the stop reads only those
		 * again */
		fd = open_proc(s, "clear_refs", O_WRONLY);
		rs->tracked = fd >= 0 && write(fd, "4", 1) == 1;
		if (fd >= 0)
			close(fd);
	}
	ret = kc_refscan_memory(rs, s, err);
	if (ret < 0) {
		kc_refscan_release(rs);
		return ret;
	}
	rs->prescanned = true;
	rs->prescan_bytes = rs->bytes;
	return 0;
}

int kc_retire_begin(struct kc_refscan *rs, struct kc_session *s, const struct kc_region *const *rv,
		    size_t n, struct kc_err *err)
{
	struct kc_range *text = calloc(n + 1, sizeof(*text));
	int ret;

	if (!text)
		return kc_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		text[i].lo = rv[i]->start + rv[i]->hdr.hdr_size;
		text[i].hi = text[i].lo + rv[i]->hdr.text_size;
	}
	ret = kc_refscan_begin(rs, s, text, n, 0, err);
	free(text);
	return ret;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct kc_ref *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

int kc_refscan_finish(struct kc_refscan *rs, struct kc_session *s, struct kc_err *err)
{
	uint64_t before = rs->bytes;
	bool exact = rs->n > rs->nloose;
	size_t n = 0;
	int ret;

	rs->finished = true;
	rs->over_budget = false;
	if (rs->tracked) {
		/* the words found before that are still there, and whatever was written since */
		ret = refscan_recheck(rs, s, err);
		if (ret == 0)
			ret = scan_memory(rs, s, PASS_DIRTY, true, err);
	} else if (!rs->prescanned || (exact && rs->prescan_bytes <= rs->budget)) {
		/* without soft-dirty bits, only a whole scan in the stop is exact */
		rs->nrefs = 0;
		ret = scan_memory(rs, s, PASS_ALL, true, err);
	} else {
		/*
		 * Apply's busy check, or code to retire that would take too long to
		 * scan in the stop (kept, a later run retries): the pages where the
		 * scan before found words, and what it did not see.
		 */
		ret = scan_memory(rs, s, PASS_CANDIDATES, true, err);
		rs->over_budget |= exact;
	}
	rs->stop_bytes = rs->bytes - before;
	if (ret < 0 || rs->nrefs < 2)
		return ret;
	qsort(rs->refs, rs->nrefs, sizeof(*rs->refs), ref_cmp);
	for (size_t i = 0; i < rs->nrefs; i++)
		if (!n || rs->refs[i].at != rs->refs[n - 1].at)
			rs->refs[n++] = rs->refs[i];
	rs->nrefs = n;
	return 0;
}

int kc_retire_decide(struct kc_session *s, const struct kc_region *r, struct kc_refscan *rs,
		     size_t idx, bool threads_checked, bool *retire, struct kc_err *err)
{
	struct kc_range text = {r->start + r->hdr.hdr_size,
				r->start + r->hdr.hdr_size + r->hdr.text_size};
	const char *name = "patch code";
	struct kc_err e2 = KC_ERR_INIT;
	struct kc_refscan own = {0};
	bool busy = false;
	int ret = 0;

	if (r->hdr.text_size && !threads_checked) {
		/* a thread may have come back into it from a coroutine since the entries changed */
		ret = kc_session_check_threads(s, &text, &name, 1, &e2);
		s->nbusy = 0;
		s->busy_ranges = NULL;
		s->busy_nranges = 0;
		if (ret < 0 && ret != -EBUSY)
			return kc_err_set(err, ret, "%s", e2.msg);
		busy = ret == -EBUSY;
		ret = 0;
	}
	if (!rs) {
		ret = kc_refscan_init(&own, s, &text, 1, err);
		if (ret < 0)
			return ret;
		rs = &own;
		idx = 0;
	}
	if (!rs->finished) {
		ret = kc_refscan_finish(rs, s, err);
		s->stats.scan_us += rs->us;
		s->stats.scan_kib += rs->bytes / 1024;
		s->stats.scan_stop_kib += rs->stop_bytes / 1024;
	}
	busy |= rs->over_budget;
	for (size_t i = 0; ret == 0 && i < rs->nrefs; i++)
		busy |= rs->refs[i].range == idx;
	kc_refscan_release(&own);
	*retire = busy;
	return ret;
}

int kc_retire_mark(struct kc_session *s, const struct kc_region *r, uint64_t *kept,
		   struct kc_err *err)
{
	int ret = kc_ptrace_write(&s->proc, r->start + offsetof(struct kc_region_hdr, state),
				  &(uint32_t){KC_REGION_RETIRED}, sizeof(uint32_t), err);

	if (ret == 0)
		*kept = r->hdr.region_size;
	return ret;
}

int kc_retire_or_unmap(struct kc_session *s, const struct kc_region *r, struct kc_refscan *rs,
		       size_t idx, uint64_t *kept, struct kc_err *err)
{
	bool retire = false;
	int ret;

	*kept = 0;
	ret = kc_retire_decide(s, r, rs, idx, false, &retire, err);
	if (ret < 0)
		return ret;
	if (!retire)
		return kc_session_unmap(s, r->start, r->hdr.region_size, err);
	return kc_retire_mark(s, r, kept, err);
}
