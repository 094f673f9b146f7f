// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The scan for suspended stacks (upatch/retire.c) on a real child (compiled
 * here, -O2) that keeps return addresses into caller() where no thread's
 * stack walk sees them: in its heap (like a saved coroutine context), on a
 * mapping of its own (like a coroutine stack), and on the main thread's own
 * stack, which is left out while that thread is stopped on it. A word that
 * points into caller() but not after a call is not a return address. One
 * in memory marked MADV_DONTDUMP is never read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testchild.h"
#include "upatch/retire.h"

static const char child_src[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <sys/mman.h>\n"
    "#include <unistd.h>\n"
    "__attribute__((noinline)) void note(void **slot)\n"
    "{\n"
    "	*slot = __builtin_return_address(0);\n"
    "}\n"
    "__attribute__((noinline)) void caller(void **slot)\n"
    "{\n"
    "	note(slot);\n"
    "	__asm__ volatile(\"\");\n"
    "}\n"
    "int main(void)\n"
    "{\n"
    "	void **heap = malloc(64), *volatile onstack[2];\n"
    "	void **own = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "
    "0);\n"
    "	caller(&heap[0]);\n"
    "	heap[1] = (char *)heap[0] + 1;\n"
    "	caller(&own[100]);\n"
    "	void **dd = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, "
    "0);\n"
    "	madvise(dd, 65536, MADV_DONTDUMP);\n"
    "	caller((void **)&onstack[0]);\n"
    "	caller(&dd[10]);\n"
    "	printf(\"%p %p %p %p %p %p\\n\", (void *)caller, heap[0], (void *)heap, (void "
    "*)&own[100],\n"
    "	       (void *)&onstack[0], (void *)&dd[10]);\n"
    "	fflush(stdout);\n"
    "	for (;;)\n"
    "		pause();\n"
    "}\n";

struct retire_fixture {
	struct tc_child c;
	uint64_t caller, ret, heap, own, onstack, dd;
	struct kc_session s;
	struct kc_refscan rs;
};

static int setup(void **state)
{
	struct retire_fixture *f = calloc(1, sizeof(*f));
	struct kc_err err = KC_ERR_INIT;
	struct kc_range r;
	char line[256];

	assert_non_null(f);
	assert_int_equal(tc_mkdir(&f->c), 0);
	assert_int_equal(tc_write_file(&f->c, "child.c", child_src), 0);
	assert_int_equal(tc_sh(&f->c, "gcc -O2 -o child child.c"), 0);
	assert_int_equal(tc_spawn(&f->c, "child"), 0);
	assert_int_equal(tc_read_line(&f->c, line, sizeof(line)), 0);
	assert_int_equal(
	    sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64,
		   &f->caller, &f->ret, &f->heap, &f->own, &f->onstack, &f->dd),
	    6);
	assert_true(f->ret > f->caller && f->ret < f->caller + 64);
	assert_int_equal(kc_session_open(&f->s, f->c.pid, NULL, &err), 0);
	assert_int_equal(kc_session_attach(&f->s, &err), 0);
	r.lo = f->caller;
	r.hi = f->caller + 64;
	assert_int_equal(kc_refscan_init(&f->rs, &f->s, &r, 1, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct retire_fixture *f = *state;

	kc_refscan_release(&f->rs);
	kc_session_close(&f->s);
	tc_finish(&f->c);
	free(f);
	return 0;
}

static bool found(const struct kc_refscan *rs, uint64_t at, uint64_t val)
{
	for (size_t i = 0; i < rs->nrefs; i++)
		if (rs->refs[i].at == at && rs->refs[i].val == val && rs->refs[i].range == 0)
			return true;
	return false;
}

static bool found_at(const struct kc_refscan *rs, uint64_t at)
{
	for (size_t i = 0; i < rs->nrefs; i++)
		if (rs->refs[i].at == at)
			return true;
	return false;
}

/* While the threads run, every word is looked at, the main thread's stack too. */
static void test_retire__scan_finds_return_addresses_anywhere(void **state)
{
	struct retire_fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;

	assert_int_equal(kc_refscan_memory(&f->rs, &f->s, &err), 0);
	assert_true(found(&f->rs, f->heap, f->ret));
	assert_true(found(&f->rs, f->own, f->ret));
	assert_true(found(&f->rs, f->onstack, f->ret));
	assert_false(found_at(&f->rs, f->heap + 8)); /* into caller(), but no call before it */
	assert_false(found_at(&f->rs, f->dd));	     /* do not dump: not read */
	assert_true(f->rs.bytes > 0);
}

/* In the stop the picture is exact, and the stack the main thread runs on is its unwinder's. */
static void test_retire__finish_in_the_stop_leaves_out_the_running_stack(void **state)
{
	struct retire_fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_range r = f->rs.ranges[0];

	kc_refscan_release(&f->rs);
	assert_int_equal(kc_refscan_begin(&f->rs, &f->s, &r, 1, 0, &err), 0);
	assert_int_equal(kc_ptrace_stop_all(&f->s.proc, &err), 0);
	assert_int_equal(kc_refscan_finish(&f->rs, &f->s, &err), 0);
	assert_true(found(&f->rs, f->heap, f->ret));
	assert_true(found(&f->rs, f->own, f->ret));
	assert_false(found_at(&f->rs, f->onstack));
	assert_false(found_at(&f->rs, f->heap + 8));
	assert_true(f->rs.finished);
	assert_int_equal(kc_ptrace_resume_all(&f->s.proc, &err), 0);
}

/*
 * Code to retire over the stop's budget: not read in the stop, so not known
 * (kept); apply's functions: the pages of the words found before are read
 * whatever the budget.
 */
static void test_retire__over_budget(void **state)
{
	struct retire_fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_range r = f->rs.ranges[0];

	for (size_t nloose = 0; nloose < 2; nloose++) {
		kc_refscan_release(&f->rs);
		assert_int_equal(kc_refscan_begin(&f->rs, &f->s, &r, 1, nloose, &err), 0);
		assert_true(found(&f->rs, f->heap, f->ret));
		f->rs.budget = 0;
		assert_int_equal(kc_ptrace_stop_all(&f->s.proc, &err), 0);
		assert_int_equal(kc_refscan_finish(&f->rs, &f->s, &err), 0);
		assert_int_equal(f->rs.over_budget, nloose == 0);
		if (nloose) {
			assert_true(found(&f->rs, f->heap, f->ret));
			assert_true(found(&f->rs, f->own, f->ret));
			assert_false(found_at(&f->rs, f->onstack));
			/* heap, own, and the stack page (read, its word left out) */
			assert_true(f->rs.stop_bytes > 0 && f->rs.stop_bytes <= 3 * 4096);
		}
		assert_int_equal(kc_ptrace_resume_all(&f->s.proc, &err), 0);
	}
}

/* Code elsewhere: nothing returns into it. */
static void test_retire__other_code_has_no_references(void **state)
{
	struct retire_fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_range r = {f->caller + 4096, f->caller + 4096 + 64};

	kc_refscan_release(&f->rs);
	assert_int_equal(kc_refscan_init(&f->rs, &f->s, &r, 1, &err), 0);
	assert_int_equal(kc_ptrace_stop_all(&f->s.proc, &err), 0);
	assert_int_equal(kc_refscan_finish(&f->rs, &f->s, &err), 0);
	assert_int_equal(f->rs.nrefs, 0);
	assert_int_equal(kc_ptrace_resume_all(&f->s.proc, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_retire__scan_finds_return_addresses_anywhere,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_retire__finish_in_the_stop_leaves_out_the_running_stack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retire__over_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retire__other_code_has_no_references, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
