/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the integration test targets (tests/integration/src/<topic>/).
 * Targets print one line per observation; the test scripts wait for lines,
 * so output is line-buffered. An alarm makes a target left behind by a
 * killed test die on its own. KCT_PATCHABLE keeps gcc -O2 from inlining,
 * cloning, merging or propagating a function: otherwise callers would not
 * go through its entry and replacing it would change nothing.
 */
#ifndef KCT_H
#define KCT_H

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define KCT_PATCHABLE __attribute__((noipa))

static inline void kct_init(unsigned max_seconds)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
	alarm(max_seconds);
}

static inline void kct_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

#endif
