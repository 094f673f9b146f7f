// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcb-procs N: N processes that map libkcbench.so (forks of this one, which
 * links it), each blocked in pause() after one call to kcb_work(), as
 * targets for `libcare-ctl patch -p all`. The children die with this
 * parent (PR_SET_PDEATHSIG), and the parent dies on SIGTERM or after
 * KCB_MAX_SECONDS (default 900), so killing one pid cleans up everything.
 * All of them form one process group led by the parent, so that whoever
 * started it can also kill them at once and wait until none is left.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "kcb.h"

static volatile int sink;

int main(int argc, char **argv)
{
	const char *e = getenv("KCB_MAX_SECONDS");
	pid_t parent = getpid();
	int n;

	if (argc != 2 || (n = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: kcb-procs N\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(e ? (unsigned)atoi(e) : 900);
	setpgid(0, 0);
	kcb_set_nice();
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "kcb-procs: fork %d of %d: %s\n", i + 1, n,
				strerror(errno));
			return 1;
		}
		if (pid == 0) {
			alarm(0);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			sink = kcb_work(i);
			for (;;)
				pause();
		}
	}
	printf("ready %d processes\n", n);
	for (;;)
		pause();
}
