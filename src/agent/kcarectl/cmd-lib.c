// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcarectl's userspace commands: --lib-update (and --userspace-update,
 * --auto-update), --lib-info, --lib-patch-info, --lib-unload,
 * --disable-libcare/--enable-libcare, and userspace's answer to --status
 * and --check (cmd-kernel.c combines it with the kernel's).
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kcarectl/kcarectl.h"
#include "kcare/exitcodes.h"
#include "kcare/libcare.h"

static const char *state_name(enum kc_lc_proc_state s)
{
	switch (s) {
	case KC_LC_PATCHED:
		return "patched";
	case KC_LC_UPTODATE:
		return "up-to-date";
	case KC_LC_SKIPPED:
		return "skipped";
	default:
		return "failed";
	}
}

/* The user products of this run, within what the key allows (negative: reported). */
static int products(struct kcctl *k, const struct kc_reg *reg, unsigned *mask)
{
	struct kc_err err = KC_ERR_INIT;

	if (kc_lc_products(&k->agent, k->products, reg, mask, &err) < 0)
		return kcctl_fail("%s", err.msg);
	return KC_EXIT_OK;
}

static void progress(void *ctx, const struct kc_lc_proc *p)
{
	const struct kcctl *k = ctx;

	if (k->quiet && p->state != KC_LC_FAILED)
		return;
	switch (p->state) {
	case KC_LC_PATCHED:
		printf("%d %s: patched (%u patch%s)\n", p->pid, p->comm, p->applied,
		       p->applied == 1 ? "" : "es");
		break;
	case KC_LC_UPTODATE:
		printf("%d %s: up to date\n", p->pid, p->comm);
		break;
	case KC_LC_SKIPPED:
		printf("%d %s: skipped, %s (%s)\n", p->pid, p->comm, p->reason, p->exe);
		break;
	case KC_LC_FAILED:
		fprintf(stderr, "kcarectl: %d %s: failed: %s\n", p->pid, p->comm, p->reason);
		break;
	}
	fflush(stdout);
}

static json_object *result_json(const struct kc_lc_result *r)
{
	json_object *o = json_object_new_object(), *procs = json_object_new_array();

	json_object_object_add(o, "patched", json_object_new_int64((int64_t)r->patched));
	json_object_object_add(o, "up_to_date", json_object_new_int64((int64_t)r->uptodate));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)r->skipped));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)r->failed));
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct kc_lc_proc *p = &r->procs[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "pid", json_object_new_int(p->pid));
		json_object_object_add(j, "comm", json_object_new_string(p->comm));
		json_object_object_add(j, "exe", json_object_new_string(p->exe));
		json_object_object_add(j, "state", json_object_new_string(state_name(p->state)));
		json_object_object_add(j, "patches", json_object_new_int(p->applied));
		if (p->reason[0])
			json_object_object_add(j, "reason", json_object_new_string(p->reason));
		json_object_array_add(procs, j);
	}
	json_object_object_add(o, "processes", procs);
	return o;
}

static void warn_line(void *ctx, const char *line)
{
	(void)ctx;
	kcctl_warn("%s", line);
}

static void report_update(struct kcctl *k, const struct kc_lc_update *u)
{
	const struct kc_lc_result *res = &u->res;
	const struct kc_lc_plan *plan = u->plan;

	if (k->json) {
		json_object *o = result_json(res), *ps = json_object_new_object();

		json_object_object_add(o, "feed", json_object_new_string(kc_lc_plan_feed(plan)));
		for (unsigned b = KC_PRODUCT_LIBS; b <= KC_PRODUCT_DB; b <<= 1)
			if (u->products & b)
				json_object_object_add(
				    ps, kc_product_name(b),
				    json_object_new_string(kc_lc_plan_newest(plan, b)));
		json_object_object_add(o, "patchsets", ps);
		json_object_object_add(o, "patches",
				       json_object_new_int64((int64_t)kc_lc_plan_count(plan)));
		json_object_object_add(
		    o, "from_cache",
		    json_object_new_boolean(u->fell_back || u->policy == KC_LC_LOCAL));
		kcctl_print_json(o);
		json_object_put(o);
	} else if (!k->quiet) {
		printf("%zu userspace patch%s from feed '%s'", kc_lc_plan_count(plan),
		       kc_lc_plan_count(plan) == 1 ? "" : "es", kc_lc_plan_feed(plan));
		for (unsigned b = KC_PRODUCT_LIBS; b <= KC_PRODUCT_DB; b <<= 1)
			if ((u->products & b) && *kc_lc_plan_newest(plan, b))
				printf(", %s %s", kc_product_name(b), kc_lc_plan_newest(plan, b));
		if (kc_lc_plan_held_back(plan))
			printf(" (%zu held back by the prefix or sticky date)",
			       kc_lc_plan_held_back(plan));
		printf(
		    "\nprocesses: %zu patched, %zu already up to date, %zu skipped, %zu failed\n",
		    res->patched, res->uptodate, res->skipped, res->failed);
	}
}

int kcctl_lib_update(struct kcctl *k, bool automatic)
{
	struct kc_lc_update_opts o = {.prefix = k->prefix,
				      .products = k->products,
				      .automatic = automatic,
				      .timeout = k->timeout,
				      .cancel = &kcctl_cancel,
				      .progress = k->json ? NULL : progress,
				      .progress_ctx = k,
				      .warn = warn_line};
	struct kc_err err = KC_ERR_INIT;
	struct kc_lc_update u;
	int ret = KC_EXIT_OK;

	if (kc_lc_update(&k->agent, &o, &u, &err) < 0) {
		kc_lc_update_free(&u);
		return kcctl_fail("%s", err.msg);
	}
	switch (u.outcome) {
	case KC_LC_UPDATE_AUTO_OFF:
		if (!k->quiet)
			printf("auto-update is off (AUTO_UPDATE in %s)\n", k->agent.paths.conf);
		break;
	case KC_LC_UPDATE_DISABLED:
		if (!k->quiet)
			printf("userspace patching is disabled on this host\n");
		break;
	case KC_LC_UPDATE_NO_PRODUCT:
		if (!k->quiet)
			printf("no userspace product to update (USERSPACE_PATCHES and the key's "
			       "products have none in common)\n");
		break;
	case KC_LC_UPDATE_DONE:
		report_update(k, &u);
		if (u.res.failed || kcctl_cancel)
			ret = KC_EXIT_ERROR;
		if (kcctl_cancel)
			kcctl_fail("interrupted: the process being patched was rolled back");
		break;
	}
	kc_lc_update_free(&u);
	return ret;
}

int kcctl_lib_info(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	json_object *o;

	if (kc_lc_info(&k->agent, &o, &err) < 0)
		return kcctl_fail("%s", err.msg);
	kcctl_print_json(o);
	json_object_put(o);
	return KC_EXIT_OK;
}

int kcctl_lib_patch_info(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	json_object *o;

	if (kc_lc_patch_info(&k->agent, &o, &err) < 0)
		return kcctl_fail("%s", err.msg);
	kcctl_print_json(o);
	json_object_put(o);
	return KC_EXIT_OK;
}

static void unload_progress(void *ctx, const struct kc_lc_proc *p)
{
	const struct kcctl *k = ctx;

	if (p->state == KC_LC_FAILED)
		fprintf(stderr, "kcarectl: %d %s: failed: %s\n", p->pid, p->comm, p->reason);
	else if (!k->quiet && p->state == KC_LC_PATCHED)
		printf("%d %s: unpatched (%u patch%s)\n", p->pid, p->comm, p->applied,
		       p->applied == 1 ? "" : "es");
	fflush(stdout);
}

int kcctl_lib_unload(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_lc_apply_opts ao = {.cancel = &kcctl_cancel,
				      .timeout = kc_lc_timeout(&k->agent, k->timeout)};
	struct kc_lc_result res = {0};
	int lock, ret = KC_EXIT_OK;

	lock = kc_agent_lock(&k->agent, 600, &err);
	if (lock < 0)
		return kcctl_fail("%s", err.msg);
	ao.progress = k->json ? NULL : unload_progress;
	ao.progress_ctx = k;
	if (kc_lc_unload(&k->agent, &ao, &res, &err) < 0) {
		ret = kcctl_fail("%s", err.msg);
	} else if (k->json) {
		json_object *o = result_json(&res);

		kcctl_print_json(o);
		json_object_put(o);
	} else if (!k->quiet) {
		printf("processes: %zu unpatched, %zu failed\n", res.patched, res.failed);
	}
	if (res.failed || kcctl_cancel)
		ret = KC_EXIT_ERROR;
	kc_lc_result_free(&res);
	kc_agent_unlock(lock);
	return ret;
}

int kcctl_set_libcare(struct kcctl *k, bool enabled)
{
	struct kc_err err = KC_ERR_INIT;

	if (kc_conf_set_file(k->agent.paths.conf, "LIBCARE_DISABLED", enabled ? NULL : "True",
			     &err) < 0)
		return kcctl_fail("%s", err.msg);
	if (!k->quiet)
		printf("userspace patching %s\n", enabled ? "enabled" : "disabled");
	/* later steps of this run see the new value */
	kc_conf_free(k->agent.conf);
	k->agent.conf = NULL;
	if (kc_conf_load(k->agent.paths.conf, NULL, NULL, &k->agent.conf, &err) < 0)
		return kcctl_fail("%s", err.msg);
	return KC_EXIT_OK;
}

/* --status and --check share this: how many processes lag behind the plan. */
static int compare(struct kcctl *k, bool remote, size_t *pending, size_t *applied)
{
	struct kc_err err = KC_ERR_INIT, warn = KC_ERR_INIT;
	struct kc_lc_plan_opts po = {.prefix = k->prefix,
				     .metadata_only = true,
				     .policy = remote ? KC_LC_REMOTE : KC_LC_LOCAL};
	struct kc_lc_plan *plan = NULL;
	struct kc_reg reg;
	bool registered = kc_reg_load(&k->agent, &reg, NULL) == 0, fell_back;
	int ret;

	if (products(k, registered ? &reg : NULL, &po.products))
		return -1;
	ret = kc_lc_plan_make(&k->agent, &po, &plan, &fell_back, &warn, &err);
	/* --status before the first update: nothing is known to be pending */
	if (ret == -ENOENT && !remote)
		ret = 0;
	if (ret == 0)
		ret = kc_lc_compare(&k->agent, plan, pending, applied, &err);
	kc_lc_plan_free(plan);
	if (ret < 0) {
		kcctl_fail("%s", err.msg);
		return -1;
	}
	return 0;
}

int kcctl_lib_status(struct kcctl *k)
{
	size_t pending, applied;

	if (compare(k, false, &pending, &applied) < 0)
		return KCCTL_EXIT_CHECK_ERROR;
	if (applied == 0) {
		if (!k->quiet)
			printf("no userspace patches are applied%s\n",
			       pending ? " (some are available: kcarectl --lib-update)" : "");
		return KCCTL_STATUS_NONE;
	}
	if (pending) {
		if (!k->quiet)
			printf("%zu process%s lack%s patches that are available (kcarectl "
			       "--lib-update)\n",
			       pending, pending == 1 ? "" : "es", pending == 1 ? "s" : "");
		return KCCTL_STATUS_PENDING;
	}
	if (!k->quiet)
		printf("up to date: %zu process%s patched\n", applied, applied == 1 ? "" : "es");
	return KCCTL_STATUS_UPTODATE;
}

int kcctl_lib_check(struct kcctl *k)
{
	size_t pending, applied;

	if (compare(k, true, &pending, &applied) < 0)
		return KCCTL_EXIT_CHECK_ERROR;
	if (pending) {
		if (!k->quiet)
			printf("new userspace patches are available for %zu process%s\n", pending,
			       pending == 1 ? "" : "es");
		return 0;
	}
	if (!k->quiet)
		printf("no new userspace patches\n");
	return 1;
}
