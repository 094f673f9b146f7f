// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1205: coroutines (makecontext/swapcontext) that suspend inside
 * the patched function work(), the way qemu's block layer suspends disk
 * requests: work() calls co_pause(), which switches back to main, and the
 * coroutine's stack keeps work's return address until it is resumed.
 * Commands, one per line, come from the FIFO named by argv[1]:
 *   start SLOT X   run work(X) on a new coroutine until it suspends
 *   resume SLOT    resume it: it prints "result SLOT VALUE" and ends
 *   churn          a thread of its own starts and resumes coroutines on
 *                  8 stacks without pause, so that at any time some are
 *                  suspended inside work(), at moving places
 *   unchurn        ends it: "churn ROUNDS BAD", BAD counting results that
 *                  no level of work() gives
 *   ghost dd|plain MIB   maps MIB MiB, touches every page, marks it "do
 *                  not dump" (MADV_DONTDUMP, as qemu does with guest RAM)
 *                  or not, and writes one return address into work() in
 *                  its middle (taken by the latest co_pause()): "ghost ADDR"
 *   unghost        unmaps them: "unghosted"
 * Each stack is mapped for its coroutine and unmapped, and its context
 * cleared, when it ends. An optional argv[2] allocates and fills that many
 * MiB of heap (bench/coro-bench.sh: what the scan for such stacks costs).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "kct.h"

#define SLOTS	   4
#define CHURN	   8
#define STACK_SIZE (256 * 1024)

struct coro {
	ucontext_t ctx;
	void *stack; /* NULL: no coroutine in this slot */
	int arg, done;
};

static ucontext_t main_ctx, churn_home;
static struct coro co[SLOTS], churn_co[CHURN];
static long churn_bad;
static volatile int churn_stop;
/* where co_pause() saves the coroutine, and what it switches to: per thread */
static __thread ucontext_t *pause_from, *pause_to;

/* the latest return address into work(), xor'ed so that this word is not one itself */
#define GHOST_KEY 0x5a5a5a5a5a5a5a5aull
static volatile uint64_t ghost_ret;

KCT_PATCHABLE void co_pause(void)
{
	ghost_ret = (uint64_t)(uintptr_t)__builtin_return_address(0) ^ GHOST_KEY;
	swapcontext(pause_from, pause_to);
}

/* level 0: 2x + 1 (the fixes add 1000 and 2000) */
KCT_PATCHABLE int work(int x)
{
	int a = 2 * x;

	co_pause();
	return a + 1;
}

static void main_body(int slot)
{
	printf("result %d %d\n", slot, work(co[slot].arg));
	co[slot].done = 1;
}

static void churn_body(int slot)
{
	int x = churn_co[slot].arg, r = work(x) - 2 * x - 1;

	churn_bad += r != 0 && r != 1000 && r != 2000;
	churn_co[slot].done = 1;
}

/* Runs @c until it suspends or ends (then its stack goes); 1 if it ended. */
static int co_switch(struct coro *c, ucontext_t *home)
{
	pause_from = &c->ctx;
	pause_to = home;
	swapcontext(home, &c->ctx);
	if (!c->done)
		return 0;
	/*
	 * What was left would still hold return addresses into work(), which
	 * the engine's conservative scan takes for a suspended coroutine (a
	 * stale context keeps a function busy).
	 */
	memset(&c->ctx, 0, sizeof(c->ctx));
	munmap(c->stack, STACK_SIZE);
	c->stack = NULL;
	return 1;
}

/* A coroutine on a stack of its own running @body(@slot) with @arg, run until it suspends. */
static int co_start(struct coro *c, ucontext_t *home, void (*body)(int), int slot, int arg)
{
	c->stack =
	    mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->stack == MAP_FAILED)
		abort();
	getcontext(&c->ctx);
	c->ctx.uc_stack.ss_sp = c->stack;
	c->ctx.uc_stack.ss_size = STACK_SIZE;
	c->ctx.uc_link = home;
	c->arg = arg;
	c->done = 0;
	makecontext(&c->ctx, (void (*)(void))body, 1, slot);
	return co_switch(c, home);
}

static void run_result(int slot, int ended)
{
	if (ended)
		printf("ended %d\n", slot);
	else
		printf("suspended %d\n", slot);
}

/*
 * Coroutines suspended inside work() at every moment (each slot ends its
 * coroutine and starts the next one at once, so at least 7 of 8 are
 * suspended), on stacks that come and go.
 */
static void *churn(void *unused)
{
	/* static: getcontext() returns twice, which registers would not survive */
	static long rounds;
	static int i;

	(void)unused;
	for (i = 0; !churn_stop; i = (i + 1) % CHURN, rounds++) {
		if (churn_co[i].stack)
			co_switch(&churn_co[i], &churn_home);
		co_start(&churn_co[i], &churn_home, churn_body, i, (int)(rounds % 1000));
		if (i == 0)
			kct_sleep_ms(1);
	}
	for (i = 0; i < CHURN; i++)
		if (churn_co[i].stack)
			co_switch(&churn_co[i], &churn_home);
	printf("churn %ld %ld\n", rounds, churn_bad);
	return NULL;
}

static struct {
	void *p;
	size_t len;
} ghosts[8];

static void ghost(const char *kind, long mib)
{
	size_t len = (size_t)mib << 20, k = 0;
	uint64_t *p;

	while (k < 8 && ghosts[k].p)
		k++;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k == 8 || mib <= 0 || p == MAP_FAILED) {
		printf("ghost failed\n");
		return;
	}
	memset(p, 1, len);
	if (!strcmp(kind, "dd") && madvise(p, len, MADV_DONTDUMP)) {
		printf("ghost failed\n");
		return;
	}
	ghosts[k].p = p;
	ghosts[k].len = len;
	p[len / 16] = ghost_ret ^ GHOST_KEY;
	printf("ghost %p\n", (void *)&p[len / 16]);
}

/* Heap in 64 KiB blocks, each holding pointers and numbers like a program's data. */
static uint64_t *volatile heap_head;

static void fill_heap(long mib)
{
	uint64_t x = 88172645463325252ull;

	for (long i = 0; i < mib * 16; i++) {
		uint64_t *b = malloc(65536);

		if (!b)
			return;
		for (size_t k = 1; k < 65536 / 8; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			b[k] = k % 4 ? x % 100000 : (uint64_t)(uintptr_t)(b + x % 8192);
		}
		b[0] = (uint64_t)(uintptr_t)heap_head; /* kept reachable */
		heap_head = b;
	}
}

int main(int argc, char **argv)
{
	static pthread_t churner;
	static int churning; /* static: see churn() */
	int slot, x;
	long mib;
	char line[64], kind[8];
	FILE *in;

	kct_init(argc > 2 ? 900 : 120);
	if (argc < 2 || !(in = fopen(argv[1], "r+")))
		return 2;
	if (argc > 2)
		fill_heap(atol(argv[2]));
	printf("ready\n");
	while (fgets(line, sizeof(line), in)) {
		if (sscanf(line, "start %d %d", &slot, &x) == 2 && slot >= 0 && slot < SLOTS &&
		    !co[slot].stack) {
			run_result(slot, co_start(&co[slot], &main_ctx, main_body, slot, x));
		} else if (sscanf(line, "resume %d", &slot) == 1 && slot >= 0 && slot < SLOTS &&
			   co[slot].stack) {
			run_result(slot, co_switch(&co[slot], &main_ctx));
		} else if (!strcmp(line, "churn\n") && !churning) {
			churn_stop = 0;
			churning = !pthread_create(&churner, NULL, churn, NULL);
			printf("churning %d\n", churning);
		} else if (sscanf(line, "ghost %7s %ld", kind, &mib) == 2) {
			ghost(kind, mib);
		} else if (!strcmp(line, "unghost\n")) {
			for (int k = 0; k < 8; k++)
				if (ghosts[k].p)
					munmap(ghosts[k].p, ghosts[k].len);
			memset(ghosts, 0, sizeof(ghosts));
			printf("unghosted\n");
		} else if (!strcmp(line, "unchurn\n") && churning) {
			churn_stop = 1;
			pthread_join(churner, NULL);
			churning = 0;
		} else {
			printf("bad command %s", line);
		}
	}
	return 0;
}
