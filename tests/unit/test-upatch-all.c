// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * "Every process" as a fixed point (upatch/all.c), on children of the test
 * only (the candidate filter): a process forked while a pass runs is visited
 * by the next pass, a process that is gone after a failure is not a failure,
 * one that failed with -ESRCH while alive is visited once more, real failures
 * are counted and can stop everything, and endless forks end in -EAGAIN.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "kcare/upatch.h"

#define MAX_KIDS 2048

struct fixture {
	pid_t kids[MAX_KIDS];
	unsigned visits[MAX_KIDS];
	unsigned order[MAX_KIDS]; /* when each was last visited */
	unsigned seq;
	size_t n;
	/* behaviour of visit, per test */
	int fork_on_first; /* the first visit forks a new child */
	int fork_always;   /* every visit forks a new child */
	int kill_and_fail; /* visits of kid 1 kill it, then fail */
	int esrch_once;	   /* the first visit of kid 0 fails with -ESRCH */
	int fail_kid;	   /* index+1 of a kid whose visit fails with -EPERM */
	bool stop_on_fail; /* the failure callback stops everything */
	unsigned nfailed;  /* calls of the failure callback */
};

static pid_t spawn(struct fixture *f)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	assert_true(f->n < MAX_KIDS);
	f->kids[f->n++] = pid;
	return pid;
}

static int index_of(const struct fixture *f, pid_t pid)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->kids[i] == pid)
			return (int)i;
	return -1;
}

static bool candidate(void *ctx, pid_t pid)
{
	return index_of(ctx, pid) >= 0;
}

static int visit(void *ctx, pid_t pid, uint64_t start, struct kc_err *err)
{
	struct fixture *f = ctx;
	int i = index_of(f, pid);

	(void)start;
	assert_true(i >= 0);
	f->visits[i]++;
	f->order[i] = ++f->seq;
	if (f->fork_always || (f->fork_on_first && i == 0 && f->visits[i] == 1)) {
		spawn(f);
		return 1;
	}
	if (f->kill_and_fail && i == 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return kc_err_set(err, -EIO, "lost it");
	}
	if (f->esrch_once && i == 0 && f->visits[i] == 1)
		return kc_err_set(err, -ESRCH, "it called execve");
	if (f->fail_kid == i + 1)
		return kc_err_set(err, -EPERM, "refused");
	return 0;
}

static bool failed(void *ctx, pid_t pid, const struct kc_err *err)
{
	struct fixture *f = ctx;

	(void)pid;
	assert_int_equal(err->code, -EPERM);
	f->nfailed++;
	return f->stop_on_fail;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->n; i++) {
		kill(f->kids[i], SIGKILL);
		waitpid(f->kids[i], NULL, 0);
	}
	free(f);
	return 0;
}

static int run(struct fixture *f, double timeout, struct kc_err *err)
{
	struct kc_upatch_all a = {
	    .candidate = candidate, .visit = visit, .failed = failed, .ctx = f, .timeout = timeout};

	return kc_upatch_for_all(&a, err);
}

static void test_all__visits_a_process_forked_during_a_pass(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;

	spawn(f);
	spawn(f);
	f->fork_on_first = 1;
	assert_int_equal(run(f, 10, &err), 0);
	assert_int_equal(f->n, 3);
	for (size_t i = 0; i < f->n; i++)
		assert_int_equal(f->visits[i], 1);
}

static void test_all__gone_is_not_a_failure(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;

	spawn(f);
	spawn(f);
	f->kill_and_fail = 1;
	assert_int_equal(run(f, 10, &err), 0);
	assert_int_equal(f->nfailed, 0);
	assert_int_equal(f->visits[1], 1);
}

static void test_all__esrch_while_alive_is_visited_again(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;

	spawn(f);
	f->esrch_once = 1;
	assert_int_equal(run(f, 10, &err), 0);
	assert_int_equal(f->visits[0], 2);
	assert_int_equal(f->nfailed, 0);
}

static void test_all__failures_are_counted(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;

	spawn(f);
	spawn(f);
	spawn(f);
	f->fail_kid = 2;
	assert_int_equal(run(f, 10, &err), 1);
	assert_int_equal(f->nfailed, 1);
	for (size_t i = 0; i < f->n; i++)
		assert_int_equal(f->visits[i], 1);
}

static void test_all__a_failure_can_stop_everything(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;

	for (int i = 0; i < 4; i++)
		spawn(f);
	f->fail_kid = 2;
	f->stop_on_fail = true;
	assert_int_equal(run(f, 10, &err), 1);
	assert_int_equal(f->nfailed, 1);
	/* nothing is visited after the failure that stopped everything */
	assert_int_equal(f->order[1], f->seq);
	for (size_t i = 0; i < f->n; i++)
		assert_true(f->visits[i] <= 1);
}

static void test_all__endless_forks_end_with_eagain(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;

	spawn(f);
	f->fork_always = 1;
	assert_int_equal(run(f, 0.2, &err), -EAGAIN);
	assert_non_null(strstr(err.msg, "kept appearing"));
	assert_true(f->n > 2);
}

/* What info asks after reading: a live process is not exiting, a zombie or reaped one is. */
static void test_all__exiting(void **state)
{
	struct fixture *f = *state;
	pid_t pid = spawn(f);
	char st = 0;
	uint64_t start;

	assert_false(kc_upatch_exiting(getpid()));
	assert_false(kc_upatch_exiting(pid));
	kill(pid, SIGKILL);
	for (int i = 0; i < 500 && st != 'Z'; i++) {
		assert_int_equal(kc_upatch_starttime(pid, &start, &st), 0);
		if (st != 'Z')
			usleep(2000);
	}
	assert_int_equal(st, 'Z');
	assert_true(kc_upatch_exiting(pid));
	waitpid(pid, NULL, 0);
	f->n = 0; /* reaped */
	assert_true(kc_upatch_exiting(pid));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_all__visits_a_process_forked_during_a_pass, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_all__gone_is_not_a_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all__esrch_while_alive_is_visited_again, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_all__failures_are_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all__a_failure_can_stop_everything, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_all__endless_forks_end_with_eagain, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_all__exiting, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
