// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libcare-ctl patch -p all: the same process blacklist as kcarectl (the
 * packaged file, replaced by the admin's), under $KCARE_ROOT like kcarectl's
 * other files, so that "all" never means the processes an admin excluded.
 */
#include <stdio.h>
#include <stdlib.h>

#include "agent/libcare-ctl/cmds.h"
#include "kcare/agent.h"
#include "kcare/blacklist.h"
#include "kcare/exitcodes.h"
#include "kcare/proc.h"

int lcctl_blacklist_load(struct kc_blacklist **out)
{
	struct kc_agent_paths *p = malloc(sizeof(*p));
	struct kc_err err = KC_ERR_INIT;
	int ret;

	if (!p) {
		fprintf(stderr, "libcare-ctl: out of memory\n");
		return KC_EXIT_ERROR;
	}
	ret = kc_agent_paths_init(p, getenv("KCARE_ROOT"), &err);
	if (ret == 0)
		ret = kc_blacklist_load(p->blacklist_pkg, p->blacklist_user, out, NULL, &err);
	free(p);
	if (ret < 0) {
		/* a broken list must not let every process through */
		fprintf(stderr, "libcare-ctl: %s (--no-blacklist ignores it)\n", err.msg);
		return KC_EXIT_ERROR;
	}
	return 0;
}

const char *lcctl_blacklisted(const struct kc_blacklist *bl, pid_t pid, char *exe, size_t size)
{
	/* the executable as kcarectl's walk reads it, so that both match alike */
	if (!kc_proc_exe(pid, exe, size))
		return NULL;
	return kc_blacklist_match(bl, exe);
}
