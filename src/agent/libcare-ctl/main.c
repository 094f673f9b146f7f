// SPDX-License-Identifier: GPL-2.0-or-later
/* libcare-ctl: the userspace live patching front end. A verb table; each verb lives in
 * cmd-<verb>.c. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/resource.h>
#include <string.h>

#include "agent/libcare-ctl/cmds.h"
#include "kcare/exitcodes.h"

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
    {"patch", cmd_patch, "apply patches to running processes"},
    {"unpatch", cmd_unpatch, "revert applied patches"},
    {"info", cmd_info, "show mapped objects and applied patches"},
    {"recover", cmd_recover, "finish or roll back operations of a killed libcare-ctl"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: libcare-ctl <command> [options]\n\ncommands:\n");
	for (const struct verb *v = verbs; v->name; v++)
		fprintf(f, "  %-10s %s\n", v->name, v->summary);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? KC_EXIT_USAGE : KC_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("libcare-ctl %s\n", KC_VERSION);
		return KC_EXIT_OK;
	}
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
	for (const struct verb *v = verbs; v->name; v++)
		if (!strcmp(argv[1], v->name))
			return v->fn(argc - 1, argv + 1);
	fprintf(stderr, "libcare-ctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return KC_EXIT_USAGE;
}
