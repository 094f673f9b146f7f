// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The opening that every update from the patch server shares, whatever
 * the product: the server must be configured, the feed is chosen for this
 * host, the server's root key must be known, and the trust client verifies
 * what the server holds now for the wanted products of that feed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kcare/agent.h"
#include "kcare/trust.h"

#define MAX_PRODUCTS 8

int kc_feed_update_open(struct kc_agent *a, const char *prefix, const char *const *products,
			size_t n, struct kc_feed_update *u, struct kc_err *err)
{
	struct kc_trust_feed_ref wanted[MAX_PRODUCTS];
	struct kc_reg reg, *regp = NULL;
	struct kc_http *h;
	int ret;

	memset(u, 0, sizeof(*u));
	u->now = (int64_t)time(NULL);
	if (n > MAX_PRODUCTS)
		return kc_err_set(err, -EINVAL, "too many products in one update");
	if (!a->repo_url[0])
		return kc_err_set(err, -EINVAL,
				  "no patch server is configured: set PATCH_SERVER in %s",
				  a->paths.conf);
	if (kc_reg_load(a, &reg, NULL) == 0)
		regp = &reg;
	ret = kc_feed_choice_make(a, prefix, regp, &u->fc, err);
	if (ret < 0 || n == 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		wanted[i] = (struct kc_trust_feed_ref){u->fc.feed, products[i]};
	ret = kc_trust_client_open(a->paths.trust_dir, &u->tc, err);
	if (ret == -ENOKEY)
		return kc_err_set(err, -ENOKEY,
				  "no trusted key for the patch server: import its root key with "
				  "kcarectl --import-key PATH");
	if (ret == 0)
		ret = kc_agent_http(a, &h, err);
	if (ret == 0) {
		u->repo = (struct kc_http_repo){h, a->repo_url};
		ret = kc_trust_client_update(u->tc, kc_http_repo_fetch, &u->repo, wanted, n, u->now,
					     err);
		if (ret == -ENOENT && strstr(err->msg, u->fc.feed))
			kc_err_prefix(err, "feed '%s'", u->fc.feed);
		if (ret < 0)
			kc_agent_update_failed(a, ret, err);
	}
	if (ret < 0)
		kc_feed_update_close(u);
	return ret;
}

void kc_feed_update_close(struct kc_feed_update *u)
{
	kc_trust_client_free(u->tc);
	u->tc = NULL;
}
