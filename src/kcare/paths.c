// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The agent's file layout under a root prefix. Every path kcarectl,
 * libcare-cron and the doctor use comes from here, so that moving the
 * root (tests, a container's view) moves all of them together.
 */
#include <stdio.h>
#include <string.h>

#include "kcare/agent.h"

int kc_agent_path(const struct kc_agent_paths *p, const char *abs, char *out, size_t size,
		  struct kc_err *err)
{
	int n = snprintf(out, size, "%s%s", p->root, abs);

	if (n < 0 || (size_t)n >= size)
		return kc_err_set(err, -ENAMETOOLONG, "path '%s%s' is too long", p->root, abs);
	return 0;
}

int kc_agent_paths_init(struct kc_agent_paths *p, const char *root, struct kc_err *err)
{
	static const struct {
		size_t off;
		const char *abs;
	} layout[] = {
	    {offsetof(struct kc_agent_paths, conf), "/etc/sysconfig/kcare/kcare.conf"},
	    {offsetof(struct kc_agent_paths, systemid), "/etc/sysconfig/kcare/systemid"},
	    {offsetof(struct kc_agent_paths, state_dir), "/var/lib/kcare"},
	    {offsetof(struct kc_agent_paths, registration), "/var/lib/kcare/registration.json"},
	    {offsetof(struct kc_agent_paths, trust_dir), "/var/lib/kcare/trust"},
	    {offsetof(struct kc_agent_paths, cache_dir), "/var/cache/kcare"},
	    {offsetof(struct kc_agent_paths, user_cache), "/var/cache/kcare/userspace"},
	    {offsetof(struct kc_agent_paths, user_blobs), "/var/cache/kcare/userspace/patches"},
	    {offsetof(struct kc_agent_paths, user_selected),
	     "/var/cache/kcare/userspace/selected.json"},
	    {offsetof(struct kc_agent_paths, cvelist), "/var/cache/kcare/libcare_cvelist"},
	    {offsetof(struct kc_agent_paths, blacklist_pkg), "/var/lib/libcare/blacklist"},
	    {offsetof(struct kc_agent_paths, blacklist_user),
	     "/var/cache/kcare/userspace/blacklist"},
	    {offsetof(struct kc_agent_paths, lock), "/var/lib/kcare/kcarectl.lock"},
	};
	size_t len;

	memset(p, 0, sizeof(*p));
	if (!root)
		root = "";
	len = strlen(root);
	/* "/" and "dir/" name the same root as "" and "dir" */
	while (len > 0 && root[len - 1] == '/')
		len--;
	if (len >= sizeof(p->root) - 256)
		return kc_err_set(err, -ENAMETOOLONG, "root '%s' is too long", root);
	if (len > 0 && root[0] != '/')
		return kc_err_set(err, -EINVAL, "root '%s' is not an absolute path", root);
	memcpy(p->root, root, len);
	p->root[len] = '\0';
	for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
		int ret = kc_agent_path(p, layout[i].abs, (char *)p + layout[i].off,
					KC_AGENT_PATH_MAX, err);

		if (ret < 0)
			return ret;
	}
	return 0;
}
