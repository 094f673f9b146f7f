/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the benchmark programs (bench/src/): the layout of the stats
 * file a threads target publishes through a MAP_SHARED mapping, so that
 * kcb-measure can reset and read the target's own stop figures without
 * signals or ptrace (either would disturb what is measured). One cache
 * line per thread: a thread only ever writes its own slot, and the shared
 * "no thread ran" figures sit on a line of their own.
 */
#ifndef KCB_H
#define KCB_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define KCB_MAGIC 0x6b63623173746174ull /* "kcb1stat" */

struct kcb_hdr {
	uint64_t magic;
	uint32_t nthreads;
	uint32_t ready;	       /* every thread has started */
	volatile uint32_t gen; /* bumped by kcb-measure to start a new window */
	uint32_t pad[11];
	/* own cache line: written by every thread on every iteration */
	volatile uint64_t last_ns;   /* latest iteration of any thread */
	volatile uint64_t frozen_ns; /* longest time no thread iterated; reset by kcb-measure */
	uint64_t pad2[6];
};

struct kcb_slot {
	volatile uint64_t max_gap_ns; /* longest pause between two iterations in this window */
	volatile uint64_t iters;      /* iterations since start */
	volatile uint32_t gen;	      /* window this slot's figures belong to */
	volatile uint32_t ticking;    /* this thread loops (idle threads block forever) */
	uint64_t pad[5];
};

static inline size_t kcb_file_size(uint32_t nthreads)
{
	return sizeof(struct kcb_hdr) + (size_t)nthreads * sizeof(struct kcb_slot);
}

static inline struct kcb_slot *kcb_slots(struct kcb_hdr *h)
{
	return (struct kcb_slot *)(h + 1);
}

static inline uint64_t kcb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The benchmark driver runs at a raised priority so that a target's busy
 * threads cannot starve it; targets and the measured command go back to
 * the niceness it had before (KCB_NICE), so libcare-ctl competes with
 * the target's threads as it would on a production host.
 */
static inline void kcb_set_nice(void)
{
	const char *e = getenv("KCB_NICE");

	if (e && *e)
		setpriority(PRIO_PROCESS, 0, atoi(e));
}

/* The patched library's function (bench/src/lib.c); the fix changes its result. */
int kcb_work(int x);

#endif
