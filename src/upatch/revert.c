// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reverting applied patches in one process: in one stop of every thread,
 * once no thread runs or returns into the patch code, the original entry
 * bytes go back, the journal says ORIGINAL and the region REVERTED, and,
 * still in that stop, whether a suspended stack may return into it is
 * decided (retire.h): then it is kept RETIRED, else unmapped once the
 * target runs again (nothing can reach it any more). Regions left LOADED by
 * an interrupted apply are cleaned up the same way (only entries that
 * hold our jump are restored).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "upatch/retire.h"
#include "upatch/session.h"

struct revert_txn {
	struct kc_region *r;
	struct kc_range range;
	const char *name;
};

static int revert_check(struct kc_session *s, void *ctx, struct kc_err *err)
{
	struct revert_txn *tx = ctx;

	for (uint32_t i = 0; i < tx->r->hdr.nfuncs; i++) {
		const struct kc_region_func *f = &tx->r->funcs[i];
		uint8_t cur[16];
		int ret;

		if (f->len > sizeof(cur))
			return kc_err_set(err, -EINVAL, "corrupt patch region at 0x%llx",
					  (unsigned long long)tx->r->start);
		ret = kc_ptrace_read(&s->proc, f->addr, cur, f->len, err);
		if (ret < 0)
			return ret;
		if (memcmp(cur, f->jump, f->len) && memcmp(cur, f->orig, f->len))
			return kc_err_set(err, -EEXIST,
					  "entry of function '%s' was changed by someone else",
					  kc_region_str(tx->r, f->name));
	}
	return kc_session_check_threads(s, &tx->range, &tx->name, 1, err);
}

static int revert_write(struct kc_session *s, void *ctx, struct kc_err *err)
{
	struct revert_txn *tx = ctx;
	uint32_t st = KC_PENDING_REVERT;
	int ret;

	/* journal first: a revert killed half way is finished by the next run */
	ret = kc_ptrace_write(&s->proc, tx->r->start + offsetof(struct kc_region_hdr, pending), &st,
			      sizeof(st), err);
	st = KC_RFUNC_ORIGINAL;
	for (uint32_t i = 0; i < tx->r->hdr.nfuncs && ret == 0; i++) {
		const struct kc_region_func *f = &tx->r->funcs[i];
		uint8_t cur[16];

		ret = kc_ptrace_read(&s->proc, f->addr, cur, f->len, err);
		if (ret == 0 && memcmp(cur, f->jump, f->len) == 0)
			ret = kc_ptrace_write(&s->proc, f->addr, f->orig, f->len, err);
		if (ret == 0)
			ret = kc_ptrace_write(&s->proc,
					      tx->r->start + tx->r->hdr.funcs_off + i * sizeof(*f) +
						  offsetof(struct kc_region_func, state),
					      &st, sizeof(st), err);
	}
	if (ret == 0) {
		st = KC_REGION_REVERTED;
		ret =
		    kc_ptrace_write(&s->proc, tx->r->start + offsetof(struct kc_region_hdr, state),
				    &st, sizeof(st), err);
	}
	return ret;
}

static bool selected(const struct kc_region *r, const char *id, const struct kc_buildid *bid)
{
	if (id && strcmp(r->hdr.id, id) != 0)
		return false;
	if (bid &&
	    (r->hdr.build_id_len != bid->len || memcmp(r->hdr.build_id, bid->bytes, bid->len) != 0))
		return false;
	return true;
}

int kc_upatch_revert(pid_t pid, const char *id, const struct kc_buildid *bid,
		     const struct kc_upatch_opts *opts, kc_upatch_report_fn report, void *ctx,
		     struct kc_err *err)
{
	struct kc_session s;
	int ret;

	ret = kc_session_open(&s, pid, opts, err);
	/* hold the process before deciding anything, if there is anything to do */
	for (size_t i = 0; ret == 0 && !s.attached && i < s.regions.n; i++)
		if (selected(&s.regions.v[i], id, bid) ||
		    s.regions.v[i].hdr.state != KC_REGION_APPLIED ||
		    s.regions.v[i].hdr.pending != KC_PENDING_NONE)
			ret = kc_session_attach(&s, err);
	if (ret == 0)
		ret = kc_session_recover(&s, report, ctx, err);
	for (size_t i = 0; ret == 0 && i < s.regions.n; i++) {
		struct kc_region *r = &s.regions.v[i];
		struct revert_txn tx = {r, {0, 0}, "patch code"};
		struct kc_upatch_event ev = {0};
		char hex[2 * KC_BUILDID_MAX + 1];
		struct kc_buildid rb;
		struct kc_refscan rs = {0};
		uint64_t kept = 0;
		bool unscanned = false, retire = false;

		/* recovery has unmapped or retired every region that is not applied */
		if (!selected(r, id, bid) || r->hdr.state != KC_REGION_APPLIED)
			continue;
		ret = kc_session_attach(&s, err);
		if (ret == 0)
			ret = kc_session_release_stop(&s, err);
		if (ret < 0)
			break;
		for (size_t k = 0; k < s.objs.n; k++)
			if (s.objs.v[k].build_id.len == r->hdr.build_id_len &&
			    !memcmp(s.objs.v[k].build_id.bytes, r->hdr.build_id,
				    r->hdr.build_id_len))
				kc_session_warm_unwind(&s, &s.objs.v[k]);
		if (r->hdr.state != KC_REGION_REVERTED) {
			tx.range.lo = r->start + r->hdr.hdr_size;
			tx.range.hi = tx.range.lo + r->hdr.text_size;
			ret =
			    kc_retire_begin(&rs, &s, (const struct kc_region *const[]){r}, 1, err);
			if (ret == 0)
				ret = kc_session_in_stop(&s, revert_check, revert_write, &tx, err);
			if (ret == 0) {
				/* revert_check walked every thread in this stop */
				ret = kc_retire_decide(&s, r, &rs, 0, true, &retire, err);
				if (ret == 0 && retire)
					ret = kc_retire_mark(&s, r, &kept, err);
				unscanned = rs.over_budget;
				if (kc_session_release_stop(&s, ret < 0 ? NULL : err) < 0 &&
				    ret == 0)
					ret = err->code;
			}
			kc_refscan_release(&rs);
			/* nothing can reach it any more: unmapped while the target runs */
			if (ret == 0 && !retire)
				ret = kc_session_unmap(&s, r->start, r->hdr.region_size, err);
			if (ret < 0) {
				kc_err_prefix(err, "%s", r->hdr.id);
				break;
			}
		}
		if (r->hdr.state == KC_REGION_APPLIED) {
			ev.stats = kc_session_stats_done(&s);
			rb.len = r->hdr.build_id_len;
			memcpy(rb.bytes, r->hdr.build_id, rb.len);
			ev.pid = pid;
			ev.outcome = KC_UPATCH_UNPATCHED;
			ev.id = r->hdr.id;
			ev.level = r->hdr.level;
			ev.object = kc_region_str(r, r->hdr.target_path);
			ev.nfuncs = r->hdr.nfuncs;
			ev.build_id = kc_buildid_to_hex(&rb, hex, sizeof(hex));
			ev.kept_bytes = kept;
			ev.kept_unscanned = kept && unscanned;
			report(ctx, &ev);
		}
	}
	kc_session_close(&s);
	return ret;
}
