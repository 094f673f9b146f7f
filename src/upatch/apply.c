// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Applying a patch to one process, as a transaction:
 *   1. while the target runs: find the object by build-id, decide (new,
 *      already applied, newer applied, upgrade), place and build the
 *      region, map it (one thread borrowed for a few syscalls) and write it;
 *   2. in one stop of every thread: check entry bytes and thread safety,
 *      write the entry jumps and the journal, mark the region APPLIED
 *      (and a replaced lower level REVERTED, its own leftovers restored);
 *   3. while the target runs: unmap the replaced level's region.
 * Any failure before step 2's writes unmaps the new region; a failure
 * during them restores what was written, so nothing is half-patched.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "upatch/load.h"
#include "upatch/retire.h"
#include "upatch/session.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA	     0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

struct apply_txn {
	struct kc_prepared prep;
	struct kc_region *old;	 /* lower level being replaced, or NULL */
	struct kc_range *ranges; /* owned */
	const char **names;	 /* owned array, borrowed strings */
	size_t nranges;
	uint64_t *entries; /* owned: the entries the jumps replace (a pc there is not busy) */
	size_t nentries;
	/* suspended stacks returning into ranges[]: a function replaced (busy), the old level */
	struct kc_refscan coro;
};

static struct kc_obj *find_object(struct kc_session *s, const struct kc_buildid *bid)
{
	for (size_t i = 0; i < s->objs.n; i++)
		if (kc_buildid_equal(&s->objs.v[i].build_id, bid))
			return &s->objs.v[i];
	return NULL;
}

static struct kc_region *find_applied(struct kc_session *s, const char *id,
				      const struct kc_buildid *bid)
{
	for (size_t i = 0; i < s->regions.n; i++) {
		struct kc_region *r = &s->regions.v[i];

		if (r->hdr.state != KC_REGION_APPLIED || strcmp(r->hdr.id, id) != 0)
			continue;
		if (r->hdr.build_id_len == bid->len &&
		    memcmp(r->hdr.build_id, bid->bytes, bid->len) == 0)
			return r;
	}
	return NULL;
}

static const struct kc_region_func *old_func_at(const struct kc_region *old, uint64_t addr)
{
	if (!old)
		return NULL;
	for (uint32_t i = 0; i < old->hdr.nfuncs; i++)
		if (old->funcs[i].addr == addr && old->funcs[i].state == KC_RFUNC_PATCHED)
			return &old->funcs[i];
	return NULL;
}

/* An applied region of another patch id owning the function at @addr. */
static const struct kc_region *other_owner(struct kc_session *s, const char *id, uint64_t addr)
{
	for (size_t i = 0; i < s->regions.n; i++) {
		const struct kc_region *r = &s->regions.v[i];

		if (r->hdr.state != KC_REGION_APPLIED || !strcmp(r->hdr.id, id))
			continue;
		for (uint32_t k = 0; k < r->hdr.nfuncs; k++)
			if (r->funcs[k].addr == addr && r->funcs[k].state == KC_RFUNC_PATCHED)
				return r;
	}
	return NULL;
}

/*
 * Maps the region and writes it, all while one thread is borrowed (the
 * others keep running): mmap (alone first, as the rest only makes sense
 * if it landed where asked), the contents, then protections and the
 * mapping's name ("[anon:kcare:ID:LEVEL]" where the kernel supports it).
 */
static int region_map(struct kc_session *s, struct kc_prepared *prep, struct kc_err *err)
{
	const struct kc_patch *p = prep->patch;
	uint64_t image = prep->start + prep->hdr_size;
	uint64_t text_len = (p->text_size + 4095ull) & ~4095ull;
	uint64_t args[3][6] = {{0}};
	long nrs[3], r = 0;
	struct kc_thread *t;
	size_t n = 0;
	int ret;

	ret = kc_ptrace_stop_one(&s->proc, &t, err);
	if (ret < 0)
		return ret;
	args[0][0] = prep->start;
	args[0][1] = prep->size;
	args[0][2] = PROT_READ;
	args[0][3] = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
	args[0][4] = (uint64_t)-1;
	ret = kc_ptrace_syscall(&s->proc, t, SYS_mmap, args[0], &r, err);
	if (ret == 0 && r < 0)
		ret = kc_err_set(err, (int)r, "cannot map patch region at 0x%llx: %s",
				 (unsigned long long)prep->start, strerror((int)-r));
	if (ret == 0 && (uint64_t)r != prep->start) {
		/* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
		uint64_t um[6] = {(uint64_t)r, prep->size};

		kc_ptrace_syscall(&s->proc, t, SYS_munmap, um, &r, NULL);
		ret = kc_err_set(err, -EEXIST, "patch region landed elsewhere than 0x%llx",
				 (unsigned long long)prep->start);
	}
	if (ret < 0)
		goto out;
	ret = kc_ptrace_write(&s->proc, prep->start, prep->buf, prep->size, err);
	if (text_len) {
		nrs[n] = SYS_mprotect;
		args[n][0] = image;
		args[n][1] = text_len;
		args[n][2] = PROT_READ | PROT_EXEC;
		n++;
	}
	if (p->image_size > p->data_off) {
		nrs[n] = SYS_mprotect;
		args[n][0] = image + p->data_off;
		args[n][1] = p->image_size - p->data_off;
		args[n][2] = PROT_READ | PROT_WRITE;
		n++;
	}
	for (size_t i = 0; ret == 0 && i < n; i++) {
		ret = kc_ptrace_syscall(&s->proc, t, nrs[i], args[i], &r, err);
		if (ret == 0 && r < 0)
			ret = kc_err_set(err, (int)r, "cannot protect patch region: %s",
					 strerror((int)-r));
	}
	if (ret == 0) {
		uint64_t a[6] = {PR_SET_VMA, PR_SET_VMA_ANON_NAME, prep->start, prep->hdr_size,
				 prep->start + offsetof(struct kc_region_hdr, vma_name)};

		/*
		 * A convenience only: kernels without CONFIG_ANON_VMA_NAME refuse
		 * it, and a seccomp filter may forbid it (then it is not issued).
		 */
		if (kc_ptrace_syscall(&s->proc, t, SYS_prctl, a, &r, NULL) < 0 &&
		    (t->state != KC_THREAD_STOPPED || s->proc.execed))
			ret = kc_err_set(err, -ESRCH, "process %d exited", s->pid);
	}
	if (ret < 0 && t->state == KC_THREAD_STOPPED) {
		uint64_t um[6] = {prep->start, prep->size};

		kc_ptrace_syscall(&s->proc, t, SYS_munmap, um, &r, NULL);
	}
out:
	if (t->state == KC_THREAD_STOPPED) {
		struct kc_err e2 = KC_ERR_INIT;

		if (kc_ptrace_resume_one(&s->proc, t, &e2) < 0 && ret == 0) {
			if (err)
				*err = e2;
			ret = e2.code;
		}
	}
	return ret;
}

static bool needs_thread_pointer(const struct kc_patch *p)
{
	for (size_t i = 0; i < p->nrelocs; i++)
		if (p->relocs[i].type >= KC_PF_R_TPOFF64 && p->relocs[i].type <= KC_PF_R_DTPOFF64)
			return true;
	return false;
}

static int fs_base_of(struct kc_session *s, uint64_t *fs, struct kc_err *err)
{
	struct kc_thread *t;
	bool held = true;
	int ret;

	for (size_t i = 0; i < s->proc.nthreads; i++)
		if (s->proc.threads[i].state == KC_THREAD_RUNNING)
			held = false;
	ret = kc_ptrace_stop_one(&s->proc, &t, err);
	if (ret < 0)
		return ret;
	*fs = kc_arch_tp(&t->regs);
	return held ? 0 : kc_ptrace_resume_one(&s->proc, t, err);
}

/*
 * A coroutine suspended inside a function being replaced is as busy as a
 * thread there (retire.h: the scan begun before the stop, rechecked in it). One
 * suspended in the replaced level's code is not: that code is retired.
 */
static int coro_check(struct kc_session *s, struct apply_txn *tx, struct kc_err *err)
{
	size_t nfuncs = tx->prep.patch->nfuncs, k = 0;
	int ret = kc_refscan_finish(&tx->coro, s, err);

	while (ret == 0 && k < tx->coro.nrefs && tx->coro.refs[k].range >= nfuncs)
		k++;
	if (ret < 0 || k == tx->coro.nrefs)
		return ret;
	return kc_err_set(
	    err, -EBUSY,
	    "a coroutine is busy in '%s': a suspended stack (no thread's) returns into "
	    "it (word at 0x%llx)",
	    tx->names[tx->coro.refs[k].range], (unsigned long long)tx->coro.refs[k].at);
}

static int txn_check(struct kc_session *s, void *ctx, struct kc_err *err)
{
	struct apply_txn *tx = ctx;
	const struct kc_region_func *nf =
	    (const struct kc_region_func *)(tx->prep.buf + sizeof(struct kc_region_hdr));
	const struct kc_patch *p = tx->prep.patch;

	for (size_t i = 0; i < p->nfuncs; i++) {
		const struct kc_region_func *of = old_func_at(tx->old, nf[i].addr);
		const uint8_t *expect = of ? of->jump : nf[i].orig;
		uint8_t cur[16];
		int ret = kc_ptrace_read(&s->proc, nf[i].addr, cur, nf[i].len, err);

		if (ret < 0)
			return ret;
		if (memcmp(cur, expect, nf[i].len) != 0) {
			const struct kc_region *o = other_owner(s, p->id, nf[i].addr);

			if (o)
				return kc_err_set(err, -EEXIST,
						  "function '%s' is already patched by '%s'",
						  p->funcs[i].name, o->hdr.id);
			return kc_err_set(err, -EEXIST,
					  "entry of function '%s' differs from the file: modified "
					  "by someone else",
					  p->funcs[i].name);
		}
	}
	int ret = kc_session_check_threads_at(s, tx->ranges, tx->names, tx->nranges, tx->entries,
					      tx->nentries, err);

	return ret < 0 ? ret : coro_check(s, tx, err);
}

struct written {
	uint64_t addr;
	uint8_t bytes[16]; /* what was there before */
	uint32_t len;
};

static int put_u32(struct kc_session *s, uint64_t addr, uint32_t v, struct kc_err *err)
{
	return kc_ptrace_write(&s->proc, addr, &v, sizeof(v), err);
}

static int txn_write(struct kc_session *s, void *ctx, struct kc_err *err)
{
	struct apply_txn *tx = ctx;
	struct kc_prepared *prep = &tx->prep;
	const struct kc_region_func *nf =
	    (const struct kc_region_func *)(prep->buf + sizeof(struct kc_region_hdr));
	size_t nold = tx->old ? tx->old->hdr.nfuncs : 0;
	struct written *done = calloc(prep->patch->nfuncs + nold + 1, sizeof(*done));
	size_t ndone = 0;
	uint64_t now = (uint64_t)time(NULL);
	int ret = 0;

	if (!done)
		return kc_err_set(err, -ENOMEM, "out of memory");
	/* journal first: whoever finds this half done knows the lower level is being replaced */
	if (tx->old)
		ret = put_u32(s, tx->old->start + offsetof(struct kc_region_hdr, pending),
			      KC_PENDING_UPGRADE, err);
	for (size_t i = 0; i < prep->patch->nfuncs && ret == 0; i++) {
		const struct kc_region_func *of = old_func_at(tx->old, nf[i].addr);

		done[ndone].addr = nf[i].addr;
		done[ndone].len = nf[i].len;
		memcpy(done[ndone].bytes, of ? of->jump : nf[i].orig, nf[i].len);
		ret = kc_ptrace_write(&s->proc, nf[i].addr, nf[i].jump, nf[i].len, err);
		if (ret == 0)
			ndone++;
	}
	/* functions the lower level patched but this level does not: back to original */
	for (size_t k = 0; k < nold && ret == 0; k++) {
		const struct kc_region_func *of = &tx->old->funcs[k];
		bool kept = false;

		for (size_t i = 0; i < prep->patch->nfuncs; i++)
			kept |= nf[i].addr == of->addr;
		if (kept || of->state != KC_RFUNC_PATCHED)
			continue;
		done[ndone].addr = of->addr;
		done[ndone].len = of->len;
		memcpy(done[ndone].bytes, of->jump, of->len);
		ret = kc_ptrace_write(&s->proc, of->addr, of->orig, of->len, err);
		if (ret == 0)
			ndone++;
	}
	if (ret < 0) {
		/* undo in reverse order; threads are still stopped */
		while (ndone--)
			kc_ptrace_write(&s->proc, done[ndone].addr, done[ndone].bytes,
					done[ndone].len, NULL);
		if (tx->old)
			put_u32(s, tx->old->start + offsetof(struct kc_region_hdr, pending),
				KC_PENDING_NONE, NULL);
		free(done);
		return ret;
	}
	free(done);

	/* the journal: which functions are live, then the region states */
	for (size_t i = 0; i < prep->patch->nfuncs && ret == 0; i++)
		ret = put_u32(s,
			      prep->start + sizeof(struct kc_region_hdr) + i * sizeof(*nf) +
				  offsetof(struct kc_region_func, state),
			      KC_RFUNC_PATCHED, err);
	if (ret == 0)
		ret =
		    kc_ptrace_write(&s->proc, prep->start + offsetof(struct kc_region_hdr, applied),
				    &now, sizeof(now), err);
	if (ret == 0 && tx->old)
		ret = kc_ptrace_write(&s->proc,
				      prep->start + offsetof(struct kc_region_hdr, superseded),
				      &tx->old->start, sizeof(tx->old->start), err);
	if (ret == 0)
		ret = put_u32(s, prep->start + offsetof(struct kc_region_hdr, state),
			      KC_REGION_APPLIED, err);
	if (ret == 0 && tx->old)
		ret = put_u32(s, tx->old->start + offsetof(struct kc_region_hdr, state),
			      KC_REGION_REVERTED, err);
	return ret;
}

static int txn_ranges(struct apply_txn *tx)
{
	const struct kc_patch *p = tx->prep.patch;
	size_t n = p->nfuncs + (tx->old ? 1 : 0);

	tx->ranges = calloc(n + 1, sizeof(*tx->ranges));
	tx->names = calloc(n + 1, sizeof(*tx->names));
	tx->entries = calloc(p->nfuncs + 1, sizeof(*tx->entries));
	if (!tx->ranges || !tx->names || !tx->entries)
		return -ENOMEM;
	for (size_t i = 0; i < p->nfuncs; i++) {
		tx->ranges[i].lo = tx->prep.obj->bias + p->funcs[i].target_value;
		tx->ranges[i].hi = tx->ranges[i].lo + p->funcs[i].target_size;
		tx->names[i] = p->funcs[i].name;
		tx->entries[i] = tx->ranges[i].lo;
	}
	tx->nentries = p->nfuncs;
	if (tx->old) {
		uint64_t img = tx->old->start + tx->old->hdr.hdr_size;

		tx->ranges[p->nfuncs].lo = img;
		tx->ranges[p->nfuncs].hi = img + tx->old->hdr.text_size;
		tx->names[p->nfuncs] = "code of the replaced level";
	}
	tx->nranges = n;
	return 0;
}

static int apply_one(struct kc_session *s, const struct kc_patch *p, const char *file,
		     kc_upatch_report_fn report, void *ctx, struct kc_err *err)
{
	struct apply_txn tx = {0};
	struct kc_upatch_event ev = {0};
	char hex[2 * KC_BUILDID_MAX + 1];
	struct kc_resolver res = {0};
	struct kc_region *old;
	int ret, tries;

	kc_buildid_to_hex(&p->build_id, hex, sizeof(hex));
	ev.pid = s->pid;
	ev.patch_file = file;
	ev.id = p->id;
	ev.level = p->level;
	ev.nfuncs = p->nfuncs;
	ev.target_name = p->target_name;
	ev.build_id = hex;
	tx.prep.patch = p;
	tx.prep.obj = find_object(s, &p->build_id);
	if (!tx.prep.obj) {
		ev.outcome = KC_UPATCH_SKIPPED;
		report(ctx, &ev);
		return 0;
	}
	ev.object = tx.prep.obj->path;
	old = find_applied(s, p->id, &p->build_id);
	if (old && old->hdr.level >= p->level) {
		ev.outcome = old->hdr.level == p->level ? KC_UPATCH_ALREADY : KC_UPATCH_NEWER;
		ev.other_level = old->hdr.level;
		report(ctx, &ev);
		return 0;
	}
	tx.old = old;
	if (txn_ranges(&tx) < 0) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	ret = kc_session_attach(s, err);
	if (ret == 0)
		ret = kc_session_release_stop(s, err);
	if (ret < 0)
		goto out;
	kc_session_warm_unwind(s, tx.prep.obj);
	res.objs = &s->objs;
	res.read = kc_ptrace_read_cb;
	res.read_ctx = &s->proc;
	if (needs_thread_pointer(p)) {
		ret = fs_base_of(s, &res.fs_base, err);
		if (ret < 0)
			goto out;
	}

	/* a racing mmap in the target may take our spot: place again */
	for (tries = 0; tries < 4; tries++) {
		uint64_t hdr;

		ret = kc_load_place(&s->maps, tx.prep.obj, kc_load_region_size(p, &hdr),
				    &tx.prep.start, err);
		if (ret == 0)
			ret = kc_load_build(&tx.prep, &res, err);
		if (ret == 0)
			ret = region_map(s, &tx.prep, err);
		if (ret != -EEXIST)
			break;
		kc_load_release(&tx.prep);
		if ((ret = kc_session_refresh(s, err)) < 0)
			goto out;
		old = tx.old ? find_applied(s, p->id, &p->build_id) : NULL;
		tx.old = old;
	}
	if (ret < 0)
		goto out;
	/* coroutines suspended in a replaced function, or in the replaced level's code */
	ret = kc_refscan_begin(&tx.coro, s, tx.ranges, tx.nranges, p->nfuncs, err);
	if (ret < 0) {
		kc_session_unmap(s, tx.prep.start, tx.prep.size, NULL);
		goto out;
	}
	/*
	 * No unwinder flush: rebuilding the objects' tables would land in the stop, and the
	 * unwinder finds a patch region's own table by its header on the first walk through it.
	 */
	ret = kc_session_in_stop(s, txn_check, txn_write, &tx, err);
	if (ret < 0) {
		kc_session_unmap(s, tx.prep.start, tx.prep.size, NULL);
		goto out;
	}
	s->stats.scan_us = tx.coro.us;
	s->stats.scan_kib = tx.coro.bytes / 1024;
	s->stats.scan_stop_kib = tx.coro.stop_bytes / 1024;
	if (tx.old) {
		ev.other_level = tx.old->hdr.level;
		/*
		 * No thread was in the old level's code and none can enter it now, but
		 * a suspended coroutine may still return into it: unmapped from this
		 * stop, or kept RETIRED. It is unreachable otherwise, so losing its
		 * memory is harmless if this fails.
		 */
		kc_retire_or_unmap(s, tx.old, &tx.coro, p->nfuncs, &ev.kept_bytes, NULL);
		ev.kept_unscanned = ev.kept_bytes && tx.coro.over_budget;
	}
	ret = kc_session_release_stop(s, err);
	if (ret < 0)
		goto out;
	ev.outcome = tx.old ? KC_UPATCH_UPGRADED : KC_UPATCH_PATCHED;
	ev.stats = kc_session_stats_done(s);
	report(ctx, &ev);
	/* the next patch of this call needs to see the new region */
	ret = kc_session_refresh(s, err);
out:
	kc_load_release(&tx.prep);
	kc_refscan_release(&tx.coro);
	free(tx.ranges);
	free(tx.names);
	free(tx.entries);
	return ret;
}

int kc_upatch_apply(pid_t pid, struct kc_patch *const *patches, const char *const *files, size_t n,
		    const struct kc_upatch_opts *opts, kc_upatch_report_fn report, void *ctx,
		    struct kc_err *err)
{
	struct kc_session s;
	int ret;

	ret = kc_session_open(&s, pid, opts, err);
	/* hold the process before deciding anything, if there is anything to do */
	for (size_t i = 0; ret == 0 && !s.attached && i < n; i++)
		if (find_object(&s, &patches[i]->build_id))
			ret = kc_session_attach(&s, err);
	if (ret == 0)
		ret = kc_session_recover(&s, report, ctx, err);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		ret = apply_one(&s, patches[i], files ? files[i] : NULL, report, ctx, err);
		if (ret < 0)
			kc_err_prefix(err, "%s", patches[i]->id);
	}
	kc_session_close(&s);
	return ret;
}
