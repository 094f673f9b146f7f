// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finishing or rolling back what a killed patcher left half done, from
 * the journal the target carries (see the state table in region.h). All
 * entry writes happen in one stop, after the usual safety check over the
 * code of every region that is about to lose its callers or its memory;
 * then, still in the stop, the regions given up are unmapped, or kept
 * RETIRED while a suspended stack may return into them (retire.h). Idempotent: a recovery that is
 * itself killed is picked up by the next run.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "upatch/retire.h"
#include "upatch/session.h"

enum recover_action {
	RECOVER_NONE,
	RECOVER_ROLLBACK,      /* LOADED: undo the apply */
	RECOVER_FINISH_REVERT, /* APPLIED, pending REVERT */
	RECOVER_RETIRE,	       /* APPLIED, pending UPGRADE, higher level live: drop it */
	RECOVER_UNDO_UPGRADE,  /* APPLIED, pending UPGRADE, no higher level: keep it */
	RECOVER_UNMAP,	       /* REVERTED leftover, or RETIRED */
};

struct recover_txn {
	enum recover_action *action; /* per region of the session */
	struct kc_range *ranges;
	const char **names;
	size_t nranges;
	struct kc_refscan retire; /* for the regions given up (all but UNDO_UPGRADE) */
	size_t *retire_idx;	  /* per region: its index in retire */
};

/* The scan for suspended stacks returning into the regions to be given up (retire.h). */
static int retire_begin(struct kc_session *s, struct recover_txn *tx, struct kc_err *err)
{
	const struct kc_region **rv = calloc(s->regions.n + 1, sizeof(*rv));
	size_t n = 0;
	int ret;

	tx->retire_idx = calloc(s->regions.n + 1, sizeof(*tx->retire_idx));
	if (!rv || !tx->retire_idx) {
		free(rv);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < s->regions.n; i++)
		if (tx->action[i] != RECOVER_NONE && tx->action[i] != RECOVER_UNDO_UPGRADE) {
			tx->retire_idx[i] = n;
			rv[n++] = &s->regions.v[i];
		}
	ret = kc_retire_begin(&tx->retire, s, rv, n, err);
	free(rv);
	return ret;
}

static bool same_patch(const struct kc_region *a, const struct kc_region *b)
{
	return !strcmp(a->hdr.id, b->hdr.id) && a->hdr.build_id_len == b->hdr.build_id_len &&
	       !memcmp(a->hdr.build_id, b->hdr.build_id, a->hdr.build_id_len);
}

static enum recover_action classify(struct kc_session *s, size_t i)
{
	const struct kc_region *r = &s->regions.v[i];

	switch (r->hdr.state) {
	case KC_REGION_LOADED:
		return RECOVER_ROLLBACK;
	case KC_REGION_REVERTED:
	case KC_REGION_RETIRED: /* scanned again: unmapped once nothing returns into it */
		return RECOVER_UNMAP;
	case KC_REGION_APPLIED:
		if (r->hdr.pending == KC_PENDING_REVERT)
			return RECOVER_FINISH_REVERT;
		if (r->hdr.pending != KC_PENDING_UPGRADE)
			return RECOVER_NONE;
		for (size_t k = 0; k < s->regions.n; k++) {
			const struct kc_region *o = &s->regions.v[k];

			if (k != i && o->hdr.state == KC_REGION_APPLIED && same_patch(o, r) &&
			    o->hdr.level > r->hdr.level)
				return RECOVER_RETIRE;
		}
		return RECOVER_UNDO_UPGRADE;
	default:
		return RECOVER_NONE;
	}
}

/* What an entry of a rolled-back region goes back to: the level it was replacing, or the original.
 */
static const uint8_t *rollback_target(struct kc_session *s, const struct kc_region *r,
				      const struct kc_region_func *f)
{
	for (size_t k = 0; k < s->regions.n; k++) {
		const struct kc_region *o = &s->regions.v[k];

		if (o == r || o->hdr.state != KC_REGION_APPLIED || !same_patch(o, r) ||
		    o->hdr.pending != KC_PENDING_UPGRADE)
			continue;
		for (uint32_t j = 0; j < o->hdr.nfuncs; j++)
			if (o->funcs[j].addr == f->addr && o->funcs[j].state == KC_RFUNC_PATCHED)
				return o->funcs[j].jump;
	}
	return f->orig;
}

static int recover_check(struct kc_session *s, void *ctx, struct kc_err *err)
{
	struct recover_txn *tx = ctx;

	return kc_session_check_threads(s, tx->ranges, tx->names, tx->nranges, err);
}

static int put(struct kc_session *s, uint64_t addr, const void *v, size_t n, struct kc_err *err)
{
	return kc_ptrace_write(&s->proc, addr, v, n, err);
}

static int set_func_state(struct kc_session *s, const struct kc_region *r, uint32_t i, uint32_t st,
			  struct kc_err *err)
{
	return put(s,
		   r->start + r->hdr.funcs_off + i * sizeof(struct kc_region_func) +
		       offsetof(struct kc_region_func, state),
		   &st, sizeof(st), err);
}

static int set_hdr_u32(struct kc_session *s, const struct kc_region *r, size_t off, uint32_t v,
		       struct kc_err *err)
{
	return put(s, r->start + off, &v, sizeof(v), err);
}

static int recover_one(struct kc_session *s, size_t i, enum recover_action a, struct kc_err *err)
{
	const struct kc_region *r = &s->regions.v[i];
	int ret = 0;

	for (uint32_t k = 0; k < r->hdr.nfuncs && ret == 0; k++) {
		const struct kc_region_func *f = &r->funcs[k];
		uint8_t cur[16];

		if (f->len > sizeof(cur))
			return kc_err_set(err, -EINVAL, "corrupt patch region at 0x%llx",
					  (unsigned long long)r->start);
		ret = kc_ptrace_read(&s->proc, f->addr, cur, f->len, err);
		if (ret < 0)
			break;
		switch (a) {
		case RECOVER_ROLLBACK:
			if (!memcmp(cur, f->jump, f->len))
				ret = put(s, f->addr, rollback_target(s, r, f), f->len, err);
			if (ret == 0)
				ret = set_func_state(s, r, k, KC_RFUNC_ORIGINAL, err);
			break;
		case RECOVER_FINISH_REVERT:
			if (!memcmp(cur, f->jump, f->len))
				ret = put(s, f->addr, f->orig, f->len, err);
			if (ret == 0)
				ret = set_func_state(s, r, k, KC_RFUNC_ORIGINAL, err);
			break;
		case RECOVER_UNDO_UPGRADE:
			/* functions the interrupted upgrade had already given back */
			if (f->state == KC_RFUNC_PATCHED && !memcmp(cur, f->orig, f->len))
				ret = put(s, f->addr, f->jump, f->len, err);
			break;
		default:
			break;
		}
	}
	if (ret < 0)
		return ret;
	if (a == RECOVER_UNDO_UPGRADE)
		return set_hdr_u32(s, r, offsetof(struct kc_region_hdr, pending), KC_PENDING_NONE,
				   err);
	if (a != RECOVER_UNMAP)
		return set_hdr_u32(s, r, offsetof(struct kc_region_hdr, state), KC_REGION_REVERTED,
				   err);
	return 0;
}

static int recover_write(struct kc_session *s, void *ctx, struct kc_err *err)
{
	struct recover_txn *tx = ctx;
	int ret = 0;

	/* retire and undo-upgrade first, so rollbacks see the levels they return to */
	for (size_t i = 0; i < s->regions.n && ret == 0; i++)
		if (tx->action[i] == RECOVER_RETIRE || tx->action[i] == RECOVER_UNDO_UPGRADE ||
		    tx->action[i] == RECOVER_FINISH_REVERT)
			ret = recover_one(s, i, tx->action[i], err);
	for (size_t i = 0; i < s->regions.n && ret == 0; i++)
		if (tx->action[i] == RECOVER_ROLLBACK)
			ret = recover_one(s, i, tx->action[i], err);
	return ret;
}

int kc_session_recover(struct kc_session *s, kc_upatch_report_fn report, void *ctx,
		       struct kc_err *err)
{
	struct recover_txn tx = {0};
	size_t todo = 0;
	int ret = 0;

	tx.action = calloc(s->regions.n + 1, sizeof(*tx.action));
	tx.ranges = calloc(s->regions.n + 1, sizeof(*tx.ranges));
	tx.names = calloc(s->regions.n + 1, sizeof(*tx.names));
	if (!tx.action || !tx.ranges || !tx.names) {
		ret = kc_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (!s->attached) {
		/* decide only while holding the process: regions read before could be stale */
		for (size_t i = 0; i < s->regions.n && ret == 0; i++)
			if (classify(s, i) != RECOVER_NONE)
				ret = kc_session_attach(s, err);
		if (ret < 0 || !s->attached)
			goto out;
		free(tx.action);
		free(tx.ranges);
		free(tx.names);
		return kc_session_recover(s, report, ctx, err);
	}
	for (size_t i = 0; i < s->regions.n; i++) {
		const struct kc_region *r = &s->regions.v[i];

		tx.action[i] = classify(s, i);
		if (tx.action[i] == RECOVER_NONE)
			continue;
		todo++;
		if (tx.action[i] == RECOVER_UNDO_UPGRADE || tx.action[i] == RECOVER_UNMAP)
			continue; /* its code keeps (or never had) callers */
		tx.ranges[tx.nranges].lo = r->start + r->hdr.hdr_size;
		tx.ranges[tx.nranges].hi = tx.ranges[tx.nranges].lo + r->hdr.text_size;
		tx.names[tx.nranges++] = r->hdr.id;
	}
	if (!todo)
		goto out;
	ret = kc_session_release_stop(s, err);
	if (ret == 0)
		ret = retire_begin(s, &tx, err);
	if (ret == 0)
		ret = kc_session_in_stop(s, recover_check, recover_write, &tx, err);
	if (ret < 0) {
		kc_err_prefix(err, "recovering an interrupted operation");
		goto out;
	}
	for (size_t i = 0; i < s->regions.n; i++) {
		const struct kc_region *r = &s->regions.v[i];
		struct kc_upatch_event ev = {0};
		uint64_t kept = 0;

		if (tx.action[i] == RECOVER_NONE)
			continue;
		if (tx.action[i] != RECOVER_UNDO_UPGRADE) /* still in the stop */
			kc_retire_or_unmap(s, r, &tx.retire, tx.retire_idx[i], &kept, NULL);
		if (tx.action[i] == RECOVER_UNMAP || tx.action[i] == RECOVER_RETIRE)
			continue;
		ev.pid = s->pid;
		ev.outcome = tx.action[i] == RECOVER_FINISH_REVERT ? KC_UPATCH_RECOVERED_REVERT
								   : KC_UPATCH_RECOVERED_ROLLBACK;
		ev.id = r->hdr.id;
		ev.level = r->hdr.level;
		ev.object = kc_region_str(r, r->hdr.target_path);
		ev.nfuncs = r->hdr.nfuncs;
		ev.kept_bytes = kept;
		ev.kept_unscanned = kept && tx.retire.over_budget;
		report(ctx, &ev);
	}
	ret = kc_session_refresh(s, err);
out:
	kc_refscan_release(&tx.retire);
	free(tx.retire_idx);
	free(tx.action);
	free(tx.ranges);
	free(tx.names);
	return ret;
}

int kc_upatch_recover(pid_t pid, const struct kc_upatch_opts *opts, kc_upatch_report_fn report,
		      void *ctx, struct kc_err *err)
{
	struct kc_session s;
	int ret = kc_session_open(&s, pid, opts, err);

	/* hold the process first: a running patcher's regions look half done */
	for (size_t i = 0; ret == 0 && !s.attached && i < s.regions.n; i++)
		if (s.regions.v[i].hdr.state != KC_REGION_APPLIED ||
		    s.regions.v[i].hdr.pending != KC_PENDING_NONE)
			ret = kc_session_attach(&s, err);
	if (ret == 0)
		ret = kc_session_recover(&s, report, ctx, err);
	kc_session_close(&s);
	return ret;
}
