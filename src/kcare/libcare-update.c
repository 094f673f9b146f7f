// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One userspace update, the whole workflow (kcarectl --lib-update, the
 * timer's --auto-update): policy and switches of the config, the agent's
 * lock, a check-in first (so the feed, products and sticky date are
 * fresh), the plan, applying it to every process, and a check-in after.
 * The front end only reports what happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/libcare.h"

double kc_lc_timeout(const struct kc_agent *a, double override)
{
	const char *v = kc_conf_get(a->conf, "LIBCARE_TIMEOUT");
	double t = v ? strtod(v, NULL) : 0;

	if (override >= 0)
		return override;
	return t > 0 && t <= 3600 ? t : 5.0;
}

int kc_lc_products(const struct kc_agent *a, const char *list, const struct kc_reg *reg,
		   unsigned *mask, struct kc_err *err)
{
	int ret =
	    kc_products_parse(list ? list : kc_conf_get(a->conf, "USERSPACE_PATCHES"), mask, err);

	if (ret < 0)
		return ret;
	if (*mask & KC_PRODUCT_KERNEL)
		return kc_err_set(err, -EINVAL,
				  "'kernel' is not a userspace product (libs, qemu, db)");
	if (reg)
		*mask &= reg->products;
	return 0;
}

static void warn(const struct kc_lc_update_opts *o, const char *msg, const char *then)
{
	char line[sizeof(((struct kc_err *)0)->msg) + 80];

	snprintf(line, sizeof(line), "%s%s", msg, then);
	if (o->warn)
		o->warn(o->warn_ctx, line);
}

/* Takes the lock, refreshes the registration, makes the plan and applies it. */
static int update_locked(struct kc_agent *a, const struct kc_lc_update_opts *o,
			 struct kc_lc_update *u, struct kc_err *err)
{
	struct kc_lc_plan_opts po = {.prefix = o->prefix, .policy = u->policy};
	struct kc_lc_apply_opts ao = {.cancel = o->cancel,
				      .timeout = kc_lc_timeout(a, o->timeout),
				      .progress = o->progress,
				      .progress_ctx = o->progress_ctx};
	struct kc_err e = KC_ERR_INIT;
	struct kc_reg reg;
	bool registered = kc_reg_load(a, &reg, NULL) == 0;
	int ret;

	if (registered && u->policy != KC_LC_LOCAL && kc_reg_checkin(a, &reg, &e) < 0)
		warn(o, e.msg, " (going on with the saved registration)");
	ret = kc_lc_products(a, o->products, registered ? &reg : NULL, &u->products, err);
	if (ret < 0)
		return ret;
	if (!u->products) {
		u->outcome = KC_LC_UPDATE_NO_PRODUCT;
		return 0;
	}
	po.products = u->products;
	ret = kc_lc_plan_make(a, &po, &u->plan, &u->fell_back, &e, err);
	if (ret < 0)
		return ret;
	if (u->fell_back)
		warn(o, e.msg, "; applying the cached patches (UPDATE_POLICY=LOCAL_FIRST)");
	ret = kc_lc_apply(a, u->plan, &ao, &u->res, err);
	if (ret < 0)
		return ret;
	u->outcome = KC_LC_UPDATE_DONE;
	/* tell the server we updated; it is not worth failing the update for */
	kc_err_clear(&e);
	if (registered && u->policy != KC_LC_LOCAL && !u->fell_back &&
	    kc_reg_checkin(a, &reg, &e) < 0)
		warn(o, e.msg, "");
	return 0;
}

int kc_lc_update(struct kc_agent *a, const struct kc_lc_update_opts *o, struct kc_lc_update *u,
		 struct kc_err *err)
{
	int lock, ret;

	memset(u, 0, sizeof(*u));
	if (o->automatic && !kc_conf_get_bool(a->conf, "AUTO_UPDATE", true)) {
		u->outcome = KC_LC_UPDATE_AUTO_OFF;
		return 0;
	}
	if (kc_conf_get_bool(a->conf, "LIBCARE_DISABLED", false)) {
		if (o->automatic) {
			u->outcome = KC_LC_UPDATE_DISABLED;
			return 0;
		}
		return kc_err_set(err, -EPERM,
				  "userspace patching is disabled on this host "
				  "(kcarectl --enable-libcare)");
	}
	ret = kc_lc_policy_get(a, &u->policy, err);
	if (ret < 0)
		return ret;
	lock = kc_agent_lock(a, 600, err);
	if (lock < 0)
		return lock;
	ret = update_locked(a, o, u, err);
	kc_agent_unlock(lock);
	return ret;
}

void kc_lc_update_free(struct kc_lc_update *u)
{
	kc_lc_result_free(&u->res);
	kc_lc_plan_free(u->plan);
	u->plan = NULL;
}
