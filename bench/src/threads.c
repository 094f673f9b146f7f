// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcb-threads idle|busy N STATSFILE: a benchmark target with N threads that
 * publishes, in STATSFILE (shared mapping, layout in kcb.h), each looping
 * thread's longest pause between two iterations, timed with CLOCK_MONOTONIC.
 * A thread cannot run while it is stopped, so that pause is the stop as the
 * target itself sees it.
 *   busy: all N threads spin, calling kcb_work() of libkcbench.so once per
 *         iteration (about KCB_SPIN_NS of spinning outside it in between);
 *   idle: N-1 threads block forever (pipe read or condition wait, both through
 *         libc), the main thread ticks every 200 us, calling kcb_work().
 * Dies on its own after KCB_MAX_SECONDS (default 900) if left behind; runs
 * at niceness KCB_NICE when set (kcb.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kcb.h"

static struct kcb_hdr *hdr;
static unsigned long spin_loops;
static volatile int sink;
static int block_pipe[2];
static pthread_mutex_t block_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t block_cond = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t start_line;

/* One iteration's bookkeeping: a new window (gen bumped) forgets the old maximum. */
static void tick(struct kcb_slot *s, uint32_t *gen, uint64_t *prev, uint64_t *max)
{
	uint64_t now = kcb_now_ns();
	uint32_t g = __atomic_load_n(&hdr->gen, __ATOMIC_ACQUIRE);
	uint64_t last, fz;

	if (g != *gen) {
		*gen = g;
		*max = 0;
		__atomic_store_n(&s->max_gap_ns, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->gen, g, __ATOMIC_RELEASE);
	} else if (now - *prev > *max) {
		*max = now - *prev;
		__atomic_store_n(&s->max_gap_ns, *max, __ATOMIC_RELAXED);
	}
	*prev = now;
	/*
	 * Process-wide: the longest time no thread made progress. last_ns only
	 * moves forward, so a thread that read the clock and was preempted
	 * before getting here cannot make it look as if nobody ran since.
	 */
	last = __atomic_load_n(&hdr->last_ns, __ATOMIC_RELAXED);
	while (now > last && !__atomic_compare_exchange_n(&hdr->last_ns, &last, now, false,
							  __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	if (last && now > last) {
		fz = __atomic_load_n(&hdr->frozen_ns, __ATOMIC_RELAXED);
		while (now - last > fz &&
		       !__atomic_compare_exchange_n(&hdr->frozen_ns, &fz, now - last, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
	/* release: whoever sees the new count also sees the maximum written before it */
	__atomic_store_n(&s->iters, s->iters + 1, __ATOMIC_RELEASE);
}

static void busy_loop(struct kcb_slot *s)
{
	uint32_t gen = __atomic_load_n(&hdr->gen, __ATOMIC_ACQUIRE);
	uint64_t prev = kcb_now_ns(), max = 0;
	int x = 0;

	s->gen = gen;
	s->ticking = 1;
	for (;;) {
		for (unsigned long i = 0; i < spin_loops; i++)
			__asm__ volatile("" ::: "memory");
		x = kcb_work(x);
		sink = x;
		tick(s, &gen, &prev, &max);
	}
}

static void idle_ticker(struct kcb_slot *s)
{
	uint32_t gen = __atomic_load_n(&hdr->gen, __ATOMIC_ACQUIRE);
	uint64_t prev = kcb_now_ns(), max = 0;
	struct timespec ts = {0, 200000};
	int x = 0;

	s->gen = gen;
	s->ticking = 1;
	for (;;) {
		nanosleep(&ts, NULL);
		x = kcb_work(x);
		sink = x;
		tick(s, &gen, &prev, &max);
	}
}

struct thread_arg {
	int idx;
	int busy;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	char c;

	/* nobody spins before all exist: 1000 spinning threads would starve their own creation */
	pthread_barrier_wait(&start_line);
	if (a->busy)
		busy_loop(&kcb_slots(hdr)[a->idx]);
	if (a->idx % 2) {
		pthread_mutex_lock(&block_lock);
		for (;;)
			pthread_cond_wait(&block_cond, &block_lock);
	}
	for (;;)
		if (read(block_pipe[0], &c, 1) <= 0 && errno != EINTR)
			pause();
	return NULL;
}

/* Spin count that takes about @ns on this machine (measured, not guessed). */
static unsigned long calibrate(unsigned long ns)
{
	unsigned long n = 100000;
	uint64_t t0 = kcb_now_ns(), dt;

	for (unsigned long i = 0; i < n; i++)
		__asm__ volatile("" ::: "memory");
	dt = kcb_now_ns() - t0;
	return dt ? (unsigned long)((double)n * (double)ns / (double)dt) + 1 : n / 10;
}

int main(int argc, char **argv)
{
	const char *e = getenv("KCB_MAX_SECONDS");
	struct thread_arg *args;
	pthread_attr_t attr;
	int busy, n, fd;

	if (argc != 4 || (strcmp(argv[1], "idle") && strcmp(argv[1], "busy")) ||
	    (n = atoi(argv[2])) < 1 || n > 100000) {
		fprintf(stderr, "usage: kcb-threads idle|busy N STATSFILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(e ? (unsigned)atoi(e) : 900);
	busy = !strcmp(argv[1], "busy");
	fd = open(argv[3], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)kcb_file_size((uint32_t)n)) < 0) {
		perror(argv[3]);
		return 1;
	}
	hdr = mmap(NULL, kcb_file_size((uint32_t)n), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (hdr == MAP_FAILED || pipe(block_pipe) < 0) {
		perror("kcb-threads");
		return 1;
	}
	hdr->nthreads = (uint32_t)n;
	hdr->magic = KCB_MAGIC;
	e = getenv("KCB_SPIN_NS");
	spin_loops = calibrate(e ? strtoul(e, NULL, 10) : 10000);

	args = calloc((size_t)n, sizeof(*args));
	if (!args || pthread_barrier_init(&start_line, NULL, (unsigned)n))
		return 1;
	kcb_set_nice();
	pthread_attr_init(&attr);
	for (int i = 1; i < n; i++) {
		pthread_t t;
		int r;

		args[i].idx = i;
		args[i].busy = busy;
		r = pthread_create(&t, &attr, thread_main, &args[i]);
		if (r) {
			fprintf(stderr, "kcb-threads: thread %d: %s\n", i, strerror(r));
			return 1;
		}
	}
	pthread_barrier_wait(&start_line);
	/* busy threads: ready once every one of them loops, so that all are measured */
	for (int i = 1, waited = 0; busy && i < n && waited < 30000; i++)
		while (!__atomic_load_n(&kcb_slots(hdr)[i].ticking, __ATOMIC_ACQUIRE) &&
		       waited++ < 30000)
			usleep(1000);
	__atomic_store_n(&hdr->ready, 1, __ATOMIC_RELEASE);
	printf("ready %d %s threads\n", n, argv[1]);
	if (busy)
		busy_loop(&kcb_slots(hdr)[0]);
	idle_ticker(&kcb_slots(hdr)[0]);
	return 0;
}
