// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1205: coroutines (makecontext/swapcontext) that suspend inside
 * the patched function work(), the way qemu's block layer suspends disk
 * requests: work() calls co_yield(), which switches back to main, and the
 * coroutine's stack keeps work's return address until it is resumed.
 * Commands, one per line, come from the FIFO named by argv[1]:
 *   start SLOT X   run work(X) on a new coroutine until it suspends
 *   resume SLOT    resume it: it prints "result SLOT VALUE" and ends
 * Each stack is mapped for its coroutine and unmapped, and its context
 * cleared, when it ends. An optional argv[2] allocates and fills that many
 * MiB of heap (bench/coro-bench.sh: what the scan for such stacks costs).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "kct.h"

#define SLOTS	   4
#define STACK_SIZE (256 * 1024)

static ucontext_t main_ctx, co_ctx[SLOTS];
static void *co_stack[SLOTS];
static int co_arg[SLOTS], co_done[SLOTS], cur;

KCT_PATCHABLE void co_yield (void)
{
	swapcontext(&co_ctx[cur], &main_ctx);
}

/* level 0: 2x + 1 (the fixes add 1000 and 2000) */
KCT_PATCHABLE int work(int x)
{
	int a = 2 * x;

	co_yield ();
	return a + 1;
}

static void co_main(void)
{
	int slot = cur;

	printf("result %d %d\n", slot, work(co_arg[slot]));
	co_done[slot] = 1;
}

static void run(int slot)
{
	cur = slot;
	swapcontext(&main_ctx, &co_ctx[slot]);
	if (co_done[slot]) {
		/*
		 * What was left would still hold return addresses into work(),
		 * which the engine's conservative scan takes for a suspended
		 * coroutine (a stale context keeps a function busy).
		 */
		memset(&co_ctx[slot], 0, sizeof(co_ctx[slot]));
		munmap(co_stack[slot], STACK_SIZE);
		co_stack[slot] = NULL;
		printf("ended %d\n", slot);
	} else {
		printf("suspended %d\n", slot);
	}
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
	char line[64];
	FILE *in;
	int slot, x;

	kct_init(argc > 2 ? 900 : 120);
	if (argc < 2 || !(in = fopen(argv[1], "r+")))
		return 2;
	if (argc > 2)
		fill_heap(atol(argv[2]));
	printf("ready\n");
	while (fgets(line, sizeof(line), in)) {
		if (sscanf(line, "start %d %d", &slot, &x) == 2 && slot >= 0 && slot < SLOTS &&
		    !co_stack[slot]) {
			co_stack[slot] = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (co_stack[slot] == MAP_FAILED)
				return 3;
			getcontext(&co_ctx[slot]);
			co_ctx[slot].uc_stack.ss_sp = co_stack[slot];
			co_ctx[slot].uc_stack.ss_size = STACK_SIZE;
			co_ctx[slot].uc_link = &main_ctx;
			co_arg[slot] = x;
			co_done[slot] = 0;
			makecontext(&co_ctx[slot], co_main, 0);
			run(slot);
		} else if (sscanf(line, "resume %d", &slot) == 1 && slot >= 0 && slot < SLOTS &&
			   co_stack[slot]) {
			run(slot);
		} else {
			printf("bad command %s", line);
		}
	}
	return 0;
}
