// SPDX-License-Identifier: GPL-2.0-or-later
/* libcare-ctl: target selection (-p PID|all), report lines and errors shared by the verbs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/libcare-ctl/cmds.h"
#include "kcare/exitcodes.h"
#include "kcare/proc.h"

int lcctl_targets(const char *spec, pid_t **pids, size_t *n)
{
	struct kc_err err = KC_ERR_INIT;
	char *end;
	long v;

	if (!spec) {
		fprintf(stderr, "libcare-ctl: missing -p PID|all\n");
		return KC_EXIT_USAGE;
	}
	if (!strcmp(spec, "all")) {
		if (kc_proc_pids(pids, n, &err) < 0) {
			fprintf(stderr, "libcare-ctl: %s\n", err.msg);
			return KC_EXIT_ERROR;
		}
		return 0;
	}
	errno = 0;
	v = strtol(spec, &end, 10);
	if (errno || *end || v <= 0 || v > 0x3fffffff) {
		fprintf(stderr, "libcare-ctl: invalid process id '%s'\n", spec);
		return KC_EXIT_USAGE;
	}
	*pids = malloc(sizeof(**pids));
	if (!*pids)
		return KC_EXIT_ERROR;
	(*pids)[0] = (pid_t)v;
	*n = 1;
	return 0;
}

bool lcctl_is_candidate(pid_t pid)
{
	char path[64], buf[8];

	if (pid == getpid())
		return false;
	/* kernel threads have no executable; a zombie leader's is read through a live thread */
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (readlink(path, buf, sizeof(buf)) > 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/exe", kc_proc_mm_tid(pid));
	return readlink(path, buf, sizeof(buf)) > 0;
}

volatile int lcctl_cancel;

static void on_cancel_signal(int sig)
{
	(void)sig;
	lcctl_cancel = 1;
}

void lcctl_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cancel_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocking wait returns so the engine sees the flag */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

bool lcctl_failed(pid_t pid, const struct kc_err *err)
{
	if (err->code == -EINTR || lcctl_cancel) {
		lcctl_error(pid, "interrupted, rolled back");
		return true;
	}
	lcctl_error(pid, err->msg);
	return false;
}

void lcctl_report(void *ctx, const struct kc_upatch_event *ev)
{
	struct lcctl_report_opts *ro = ctx;
	const bool *quiet_skips = ro ? &ro->quiet_skips : NULL;

	/* what -p all's rescans go by: a changed process may have forked with its old state */
	if (ro && ev->outcome != KC_UPATCH_ALREADY && ev->outcome != KC_UPATCH_NEWER &&
	    ev->outcome != KC_UPATCH_SKIPPED)
		ro->changed++;

	switch (ev->outcome) {
	case KC_UPATCH_PATCHED:
		printf("%d: patched %s level %u in %s (%zu functions)\n", ev->pid, ev->id,
		       ev->level, ev->object, ev->nfuncs);
		break;
	case KC_UPATCH_UPGRADED:
		printf("%d: patched %s level %u in %s (%zu functions, replaced level %u)\n",
		       ev->pid, ev->id, ev->level, ev->object, ev->nfuncs, ev->other_level);
		break;
	case KC_UPATCH_ALREADY:
		printf("%d: %s level %u already applied in %s\n", ev->pid, ev->id, ev->level,
		       ev->object);
		break;
	case KC_UPATCH_NEWER:
		printf("%d: %s level %u not applied in %s: level %u is already applied\n", ev->pid,
		       ev->id, ev->level, ev->object, ev->other_level);
		break;
	case KC_UPATCH_SKIPPED:
		if (!quiet_skips || !*quiet_skips)
			printf("%d: skipped %s: no object with build-id %s (%s)\n", ev->pid,
			       ev->patch_file ? ev->patch_file : ev->id, ev->build_id,
			       ev->target_name);
		break;
	case KC_UPATCH_RECOVERED_ROLLBACK:
		printf("%d: recovered %s level %u: rolled back\n", ev->pid, ev->id, ev->level);
		break;
	case KC_UPATCH_RECOVERED_REVERT:
		printf("%d: recovered %s level %u: finished unpatch\n", ev->pid, ev->id, ev->level);
		break;
	case KC_UPATCH_UNPATCHED:
		printf("%d: unpatched %s level %u from %s\n", ev->pid, ev->id, ev->level,
		       ev->object);
		break;
	}
	if (ev->kept_bytes)
		printf("%d: kept %llu KiB of %s level %u mapped: %s\n", ev->pid,
		       (unsigned long long)(ev->kept_bytes + 1023) / 1024, ev->id,
		       ev->outcome == KC_UPATCH_UPGRADED ? ev->other_level : ev->level,
		       ev->kept_unscanned ? "scanning for suspended stacks would read more than "
					    "KC_SCAN_BUDGET_MIB in the stop; a later run retries"
					  : "a suspended stack returns into it");
	if (ro && ro->stats && ev->stats)
		printf("%d: stats threads=%u attempts=%u stop_us=%llu max_stop_us=%llu "
		       "total_us=%llu driven=%u scan_us=%llu scan_kib=%llu scan_stop_kib=%llu\n",
		       ev->pid, ev->stats->threads, ev->stats->attempts,
		       (unsigned long long)ev->stats->stop_us,
		       (unsigned long long)ev->stats->max_stop_us,
		       (unsigned long long)ev->stats->total_us, ev->stats->driven,
		       (unsigned long long)ev->stats->scan_us,
		       (unsigned long long)ev->stats->scan_kib,
		       (unsigned long long)ev->stats->scan_stop_kib);
	fflush(stdout);
}

int lcctl_parse_timeout(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v < 0 || v > 3600) {
		fprintf(stderr, "libcare-ctl: invalid --timeout '%s' (seconds, 0-3600)\n", s);
		return KC_EXIT_USAGE;
	}
	*out = v;
	return 0;
}

void lcctl_error(pid_t pid, const char *msg)
{
	fprintf(stderr, "libcare-ctl: %d: %s\n", pid, msg);
}

void lcctl_common_init(struct lcctl_common *c)
{
	memset(c, 0, sizeof(*c));
	c->uo.timeout = 5.0;
	c->uo.cancel = &lcctl_cancel;
}

bool lcctl_common_opt(struct lcctl_common *c, int opt, const char *arg, void (*usage)(FILE *),
		      int *exit_status)
{
	switch (opt) {
	case 'p':
		c->spec = arg;
		return true;
	case 't': {
		int st = lcctl_parse_timeout(arg, &c->uo.timeout);

		if (st)
			*exit_status = st;
		return true;
	}
	case 's':
		c->ro.stats = true;
		return true;
	case 'h':
		usage(stdout);
		*exit_status = KC_EXIT_OK;
		return true;
	default:
		return false;
	}
}

struct lcctl_all {
	struct lcctl_common *c;
	lcctl_pid_fn fn;
	void *ctx;
};

static bool all_candidate(void *ctx, pid_t pid)
{
	(void)ctx;
	return lcctl_is_candidate(pid);
}

static int all_visit(void *ctx, pid_t pid, uint64_t starttime, struct kc_err *err)
{
	struct lcctl_all *a = ctx;
	unsigned before = a->c->ro.changed;
	int r;

	a->c->uo.starttime = starttime;
	r = a->fn(pid, a->c, a->ctx, err);
	a->c->uo.starttime = 0;
	if (r < 0)
		return err->code ? err->code : r;
	return a->c->ro.changed != before;
}

static bool all_failed(void *ctx, pid_t pid, const struct kc_err *err)
{
	(void)ctx;
	return lcctl_failed(pid, err);
}

int lcctl_run(struct lcctl_common *c, lcctl_pid_fn fn, void *ctx)
{
	pid_t *pids = NULL;
	size_t npids = 0;
	int ret, failed = 0;

	if ((ret = lcctl_targets(c->spec, &pids, &npids)))
		return ret;
	c->all = !strcmp(c->spec, "all");
	c->ro.quiet_skips = c->all;
	lcctl_catch_signals();
	if (c->all) {
		/* passes over every process until none forked meanwhile is left behind */
		struct lcctl_all a = {c, fn, ctx};
		struct kc_upatch_all all = {.candidate = all_candidate,
					    .visit = all_visit,
					    .failed = all_failed,
					    .ctx = &a,
					    .cancel = &lcctl_cancel,
					    .timeout = c->uo.timeout > 0 ? 4 * c->uo.timeout : 20};
		struct kc_err err = KC_ERR_INIT;

		free(pids);
		failed = kc_upatch_for_all(&all, &err);
		if (failed < 0)
			fprintf(stderr, "libcare-ctl: %s\n", err.msg);
		return failed || lcctl_cancel ? KC_EXIT_ERROR : KC_EXIT_OK;
	}
	for (size_t i = 0; i < npids && !lcctl_cancel; i++) {
		struct kc_err err = KC_ERR_INIT;

		if (fn(pids[i], c, ctx, &err) >= 0)
			continue;
		failed++;
		if (lcctl_failed(pids[i], &err))
			break;
	}
	free(pids);
	return failed || lcctl_cancel ? KC_EXIT_ERROR : KC_EXIT_OK;
}
