// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcarectl's kernel commands: --update, --smart-update, --boot, the kernel
 * half of --auto-update, --unload, --info, --patch-info, --uname, and the
 * kernel's answer to --status and --check. The work is in
 * src/kcare/kernel-*.c; here: options, messages, exit statuses.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kcarectl/kcarectl.h"
#include "kcare/exitcodes.h"
#include "kcare/kernel.h"

#define TRANSITION_TIMEOUT 30.0

/* The one line every kernel command says on a kernel that cannot load modules. */
static int unsupported(struct kcctl *k, struct kc_err *why)
{
	return kc_kpatch_supported(k->agent.sysroot, why) < 0;
}

static int wait_opts(struct kcctl *k, struct kc_kpatch_wait_opts *w)
{
	struct kc_err err = KC_ERR_INIT;
	const char *m = k->freezer;

	memset(w, 0, sizeof(*w));
	w->method = KC_KPATCH_SMART;
	if (!m && kc_conf_is_set(k->agent.conf, "PATCH_METHOD"))
		m = kc_conf_get(k->agent.conf, "PATCH_METHOD");
	if (m && kc_kpatch_method_parse(m, &w->method, &err) < 0)
		return kcctl_fail("%s", err.msg);
	w->force = k->force;
	w->timeout = k->timeout >= 0 ? k->timeout : TRANSITION_TIMEOUT;
	w->cancel = &kcctl_cancel;
	return KC_EXIT_OK;
}

static int ident(struct kcctl *k, struct kc_kernel_ident *id)
{
	struct kc_err err = KC_ERR_INIT;

	if (kc_kpatch_ident(k->agent.sysroot, id, &err) < 0)
		return kcctl_fail("%s", err.msg);
	return KC_EXIT_OK;
}

static void print_applied(struct kcctl *k, const struct kc_kernel_plan *p,
			  const struct kc_kernel_result *r, const struct kc_kernel_ident *id)
{
	char eff[128];

	if (k->quiet)
		return;
	kc_kpatch_effective(k->agent.sysroot, id, eff, sizeof(eff));
	if (r->already)
		printf("kernel is up to date: level %u (%s) is applied\n", p->e.level, p->e.module);
	else
		printf("kernel patch level %u applied (%s%s, transition %.1f s%s)\n", p->e.level,
		       p->e.module, p->from_cache ? ", from the cache" : "", r->seconds,
		       r->forced ? ", forced" : "");
	if (r->removed[0])
		printf("removed older levels: %s\n", r->removed);
	if (r->sysctl_set)
		printf("sysctl.conf: %u kcare switch%s set\n", r->sysctl_set,
		       r->sysctl_set == 1 ? "" : "es");
	printf("effective kernel version: %s\n", eff);
}

int kcctl_kernel_update(struct kcctl *k, enum kcctl_kmode mode)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_kernel_plan_opts po = {.prefix = k->prefix, .policy = KC_LC_REMOTE};
	struct kc_kernel_apply_opts ao;
	struct kc_kernel_plan plan;
	struct kc_kernel_result res;
	struct kc_kernel_ident id;
	struct kc_reg reg;
	bool fell_back = false, registered, quiet_unknown;
	int lock, ret;

	quiet_unknown =
	    mode == KCCTL_KAUTO && kc_conf_get_bool(k->agent.conf, "IGNORE_UNKNOWN_KERNEL", false);
	if (unsupported(k, &err)) {
		if (mode == KCCTL_KAUTO || mode == KCCTL_KBOOT) {
			if (!quiet_unknown && mode == KCCTL_KAUTO)
				kcctl_warn("%s", err.msg);
			return KC_EXIT_OK;
		}
		return kcctl_fail("%s", err.msg);
	}
	ret = wait_opts(k, &ao.wait);
	if (ret)
		return ret;
	ao.load_sysctl = kc_conf_get_bool(k->agent.conf, "LOAD_KCARE_SYSCTL", true);
	if (mode == KCCTL_KSMART || mode == KCCTL_KBOOT) {
		if (kc_lc_policy_get(&k->agent, &po.policy, &err) < 0)
			return kcctl_fail("%s", err.msg);
		/* before the network: REMOTE has nothing to load yet */
		if (mode == KCCTL_KBOOT && po.policy == KC_LC_REMOTE)
			return KC_EXIT_OK;
		if (mode == KCCTL_KBOOT)
			po.policy = KC_LC_LOCAL;
	}
	if ((ret = ident(k, &id)))
		return ret;
	lock = kc_agent_lock(&k->agent, 600, &err);
	if (lock < 0)
		return kcctl_fail("%s", err.msg);
	registered = kc_reg_load(&k->agent, &reg, NULL) == 0;
	if (registered && po.policy != KC_LC_LOCAL && kc_reg_checkin(&k->agent, &reg, &err) < 0)
		kcctl_warn("%s (going on with the saved registration)", err.msg);
	if (registered && !(reg.products & KC_PRODUCT_KERNEL) && po.policy != KC_LC_LOCAL) {
		ret = mode == KCCTL_KAUTO ? KC_EXIT_OK
					  : kcctl_fail("the registration key does not cover kernel "
						       "patches (products: no 'kernel')");
		goto out;
	}
	ret = kc_kernel_plan_make(&k->agent, &id, &po, &plan, &fell_back, &err);
	if (ret < 0) {
		ret = kcctl_fail("%s", err.msg);
		goto out;
	}
	if (!plan.found) {
		if (mode == KCCTL_KBOOT || quiet_unknown) {
			ret = KC_EXIT_OK;
		} else if (po.policy == KC_LC_LOCAL) {
			ret = kcctl_fail("no kernel patches are cached for this kernel (%s) and "
					 "UPDATE_POLICY=LOCAL",
					 id.release);
		} else if (mode == KCCTL_KAUTO) {
			kcctl_warn("unknown kernel: feed '%s' has no patches for %s (build-id %s)",
				   plan.feed, id.release, id.build_id[0] ? id.build_id : "unknown");
			ret = KC_EXIT_OK;
		} else {
			ret = kcctl_fail(
			    "unknown kernel: feed '%s' has no patches for %s (build-id %s)%s",
			    plan.feed, id.release, id.build_id[0] ? id.build_id : "unknown",
			    plan.held_back ? "; some are held back by the prefix or sticky date"
					   : "");
		}
		goto out_plan;
	}
	ret = kc_kernel_apply(&k->agent, &id, &plan, &ao, &res, &err);
	if (ret < 0) {
		ret = kcctl_fail("%s", err.msg);
		goto out_plan;
	}
	if (k->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "module", json_object_new_string(plan.e.module));
		json_object_object_add(o, "level", json_object_new_int64(plan.e.level));
		json_object_object_add(o, "patchset", json_object_new_string(plan.e.patchset));
		json_object_object_add(o, "already_applied", json_object_new_boolean(res.already));
		json_object_object_add(o, "from_cache", json_object_new_boolean(plan.from_cache));
		json_object_object_add(o, "transition_seconds",
				       json_object_new_double(res.seconds));
		json_object_object_add(o, "forced", json_object_new_boolean(res.forced));
		json_object_object_add(o, "removed", json_object_new_string(res.removed));
		kcctl_print_json(o);
		json_object_put(o);
	} else {
		print_applied(k, &plan, &res, &id);
	}
	if (res.sysctl_warn[0])
		kcctl_warn("%s", res.sysctl_warn);
	if (registered && po.policy != KC_LC_LOCAL && !fell_back &&
	    kc_reg_checkin(&k->agent, &reg, &err) < 0)
		kcctl_warn("%s", err.msg);
	ret = KC_EXIT_OK;
out_plan:
	kc_kernel_plan_release(&plan);
out:
	kc_agent_unlock(lock);
	return ret;
}

int kcctl_kernel_unload(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_kpatch_wait_opts w;
	struct kc_kpatch_live live;
	size_t removed;
	int lock, ret;

	if (unsupported(k, &err))
		return kcctl_fail("%s", err.msg);
	if ((ret = wait_opts(k, &w)))
		return ret;
	lock = kc_agent_lock(&k->agent, 600, &err);
	if (lock < 0)
		return kcctl_fail("%s", err.msg);
	ret = kc_kernel_unload(&k->agent, &w, &removed, &err);
	kc_agent_unlock(lock);
	if (ret < 0)
		return kcctl_fail("%s", err.msg);
	if (!k->quiet)
		printf(removed ? "kernel patches unloaded (%zu module%s removed)\n"
			       : "no kernel patches were loaded\n",
		       removed, removed == 1 ? "" : "s");
	if (kc_kpatch_live_read(k->agent.sysroot, &live, NULL) == 0 && live.nothers)
		kcctl_warn("left alone: livepatch %s (not kcare's)", live.others);
	return KC_EXIT_OK;
}

int kcctl_kernel_info(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_kernel_ident id;
	json_object *o, *v;
	int ret;

	if (unsupported(k, &err))
		return kcctl_fail("%s", err.msg);
	if ((ret = ident(k, &id)))
		return ret;
	if (kc_kernel_info(&k->agent, &id, &o, &err) < 0)
		return kcctl_fail("%s", err.msg);
	if (k->json) {
		kcctl_print_json(o);
	} else {
		bool applied =
		    json_object_object_get_ex(o, "applied", &v) && json_object_get_boolean(v);

#define S(key) (json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "")
		printf("kernel: %s\n", id.release);
		if (!applied) {
			printf("kpatch-state: no kernel patches are applied\n");
		} else {
			printf("kpatch-state: %s\n", !strcmp(S("transition"), "true")
							 ? "patch is being applied"
							 : "patch is applied");
			printf("kpatch-module: %s\nkpatch-id: %s\nkpatch-level: %s\n", S("module"),
			       S("id"), S("level"));
			if (*S("patchset"))
				printf("kpatch-patchset: %s\n", S("patchset"));
			printf("kpatch-cves: %zu\n", json_object_object_get_ex(o, "cves", &v)
							 ? json_object_array_length(v)
							 : (size_t)0);
		}
		printf("effective version: %s\n", S("effective_version"));
		if (*S("other_livepatches"))
			printf("other live patches (not kcare's): %s\n", S("other_livepatches"));
#undef S
	}
	json_object_put(o);
	return KC_EXIT_OK;
}

int kcctl_kernel_patch_info(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_kernel_ident id;
	char *text;
	int ret;

	if (unsupported(k, &err))
		return kcctl_fail("%s", err.msg);
	if ((ret = ident(k, &id)))
		return ret;
	if (kc_kernel_patch_info(&k->agent, &id, &text, &err) < 0)
		return kcctl_fail("%s", err.msg);
	fputs(text, stdout);
	free(text);
	return KC_EXIT_OK;
}

int kcctl_kernel_uname(struct kcctl *k)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_kernel_ident id;
	char eff[128];
	int ret;

	if (unsupported(k, &err))
		return kcctl_fail("%s", err.msg);
	if ((ret = ident(k, &id)))
		return ret;
	kc_kpatch_effective(k->agent.sysroot, &id, eff, sizeof(eff));
	puts(eff);
	return KC_EXIT_OK;
}

/*
 * The level for this kernel (0 none; the cache's, or with @remote the feed's)
 * and the live one. 1 when the kernel cannot load live patches (said on
 * stdout unless --quiet), -1 on an error (said on stderr), else 0.
 */
static int levels(struct kcctl *k, bool remote, uint32_t *avail, struct kc_kpatch_live *live)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_kernel_plan_opts po = {.prefix = k->prefix,
					 .policy = remote ? KC_LC_REMOTE : KC_LC_LOCAL,
					 .metadata_only = true};
	struct kc_kernel_plan plan;
	struct kc_kernel_ident id;
	bool fb;

	*avail = 0;
	if (unsupported(k, &err)) {
		if (!k->quiet)
			printf("%s\n", err.msg);
		return 1;
	}
	if (kc_kpatch_ident(k->agent.sysroot, &id, &err) < 0 ||
	    kc_kpatch_live_read(k->agent.sysroot, live, &err) < 0 ||
	    kc_kernel_plan_make(&k->agent, &id, &po, &plan, &fb, &err) < 0) {
		kcctl_fail("%s", err.msg);
		return -1;
	}
	if (plan.found)
		*avail = plan.e.level;
	kc_kernel_plan_release(&plan);
	return 0;
}

int kcctl_kernel_status(struct kcctl *k)
{
	struct kc_kpatch_live live;
	uint32_t avail;
	int r = levels(k, false, &avail, &live);

	if (r > 0)
		return KCCTL_STATUS_UNSUPPORTED;
	if (r < 0)
		return KCCTL_EXIT_CHECK_ERROR;
	if (!live.module[0]) {
		if (!k->quiet)
			printf("no kernel patches are applied%s\n",
			       avail ? " (some are available: kcarectl --update)" : "");
		return KCCTL_STATUS_NONE;
	}
	if (avail > live.level) {
		if (!k->quiet)
			printf("kernel patch level %u is available, level %u is applied (kcarectl "
			       "--update)\n",
			       avail, live.level);
		return KCCTL_STATUS_PENDING;
	}
	if (!k->quiet)
		printf("kernel is up to date: level %u applied\n", live.level);
	return KCCTL_STATUS_UPTODATE;
}

int kcctl_kernel_check(struct kcctl *k)
{
	struct kc_kpatch_live live;
	uint32_t avail;
	int r = levels(k, true, &avail, &live);

	if (r > 0)
		return 1;
	if (r < 0)
		return KCCTL_EXIT_CHECK_ERROR;
	if (avail > (live.module[0] ? live.level : 0)) {
		if (!k->quiet)
			printf("new kernel patches are available: level %u\n", avail);
		return 0;
	}
	if (!k->quiet)
		printf("no new kernel patches\n");
	return 1;
}

/* The products this host gets: the registration's (all when unregistered), minus a disabled
 * userspace. */
static unsigned host_products(struct kcctl *k)
{
	struct kc_reg reg;
	unsigned p = KC_PRODUCT_KERNEL | KC_PRODUCT_USER;

	if (kc_reg_load(&k->agent, &reg, NULL) == 0)
		p = reg.products;
	if (kc_conf_get_bool(k->agent.conf, "LIBCARE_DISABLED", false))
		p &= ~KC_PRODUCT_USER;
	return p;
}

/*
 * One answer for two products (-1: not covered). "Nothing applied" is only
 * true when neither has anything applied: a patched kernel on a host
 * whose processes need no userspace patch is up to date, not 1.
 */
static int status_combine(int a, int b)
{
	if (a == KCCTL_EXIT_CHECK_ERROR || b == KCCTL_EXIT_CHECK_ERROR)
		return KCCTL_EXIT_CHECK_ERROR;
	if (a == KCCTL_STATUS_PENDING || b == KCCTL_STATUS_PENDING)
		return KCCTL_STATUS_PENDING;
	if (a == KCCTL_STATUS_UPTODATE || b == KCCTL_STATUS_UPTODATE)
		return KCCTL_STATUS_UPTODATE;
	return KCCTL_STATUS_NONE;
}

int kcctl_status(struct kcctl *k)
{
	unsigned p = host_products(k);
	int kst = -1, ust = -1;

	if (p & KC_PRODUCT_KERNEL)
		kst = kcctl_kernel_status(k);
	if (p & KC_PRODUCT_USER)
		ust = kcctl_lib_status(k);
	if (kst == KCCTL_STATUS_UNSUPPORTED)
		return kst;
	if (kst < 0 && ust < 0) {
		if (!k->quiet)
			printf("the registration covers no product\n");
		return KCCTL_STATUS_NONE;
	}
	return status_combine(kst, ust);
}

int kcctl_check(struct kcctl *k)
{
	unsigned p = host_products(k);
	int kc = 1, uc = 1;

	if (p & KC_PRODUCT_KERNEL)
		kc = kcctl_kernel_check(k);
	if (p & KC_PRODUCT_USER)
		uc = kcctl_lib_check(k);
	if (kc == 0 || uc == 0)
		return 0;
	return kc == KCCTL_EXIT_CHECK_ERROR || uc == KCCTL_EXIT_CHECK_ERROR ? KCCTL_EXIT_CHECK_ERROR
									    : 1;
}

int kcctl_auto_update(struct kcctl *k)
{
	unsigned p = host_products(k);
	int kr = KC_EXIT_OK, ur = KC_EXIT_OK;

	if (!kc_conf_get_bool(k->agent.conf, "AUTO_UPDATE", true)) {
		if (!k->quiet)
			printf("auto-update is off (AUTO_UPDATE in %s)\n", k->agent.paths.conf);
		return KC_EXIT_OK;
	}
	if (p & KC_PRODUCT_KERNEL)
		kr = kcctl_kernel_update(k, KCCTL_KAUTO);
	/* userspace says for itself when it is disabled */
	if ((p & KC_PRODUCT_USER) || kc_conf_get_bool(k->agent.conf, "LIBCARE_DISABLED", false))
		ur = kcctl_lib_update(k, true);
	return kr != KC_EXIT_OK ? kr : ur;
}
