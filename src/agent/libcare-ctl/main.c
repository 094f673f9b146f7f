// SPDX-License-Identifier: GPL-2.0-or-later
/* libcare-ctl: the userspace live patching front end. A verb table; each verb lives in
 * cmd-<verb>.c. */
#include <errno.h>
#include <malloc.h>
#include <sys/resource.h>

#include "agent/common/verbs.h"
#include "agent/libcare-ctl/cmds.h"

static const struct kc_verb verbs[] = {
    {"patch", cmd_patch, "apply patches to running processes"},
    {"unpatch", cmd_unpatch, "revert applied patches"},
    {"info", cmd_info, "show mapped objects and applied patches"},
    {"recover", cmd_recover, "finish or roll back operations of a killed libcare-ctl"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	/*
	 * Every ptrace round trip waits for this process to be scheduled; on a
	 * saturated host a default-priority patcher makes stops last several
	 * times longer. Best effort: an unprivileged run keeps its priority.
	 */
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) > -10 && errno == 0)
		(void)setpriority(PRIO_PROCESS, 0, -10);
	/*
	 * Per-process buffers (ELF sections, unwinder pages) come and go for each
	 * of thousands of processes: from the heap, not from mmap/munmap, whose
	 * TLB shootdowns cost more than the work itself.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	return kc_verb_main("libcare-ctl", verbs, argc, argv);
}
