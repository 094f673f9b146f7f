// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ptrace layer against real child processes: stopping all threads,
 * remote syscalls from a thread blocked in read() (which must be
 * restarted transparently afterwards), memory writes to read-only code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "kcare/proc.h"
#include "upatch/ptrace.h"

static int to_child[2], from_child[2];
static volatile sig_atomic_t usr1_count;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

static void *spinner(void *arg)
{
	(void)arg;
	for (;;)
		usleep(1000);
	return NULL;
}

/* Echoes bytes from to_child back, adding the number of SIGUSR1 seen. */
static void child_main(void)
{
	pthread_t th[3];
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, spinner, NULL);
	for (;;) {
		ssize_t n = read(to_child[0], &c, 1);

		if (n == 1) {
			c = (char)(c + usr1_count);
			if (write(from_child[1], &c, 1) != 1)
				_exit(3);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			_exit(n == 0 ? 0 : 2);
		}
	}
}

static pid_t spawn(void)
{
	pid_t pid;

	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(from_child), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_main();
	/* make sure it is up and blocked in read() */
	char c = 1;
	assert_int_equal(write(to_child[1], &c, 1), 1);
	assert_int_equal(read(from_child[0], &c, 1), 1);
	assert_int_equal(c, 1);
	usleep(20000);
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(to_child[0]);
	close(to_child[1]);
	close(from_child[0]);
	close(from_child[1]);
}

static void test_ptrace__remote_syscalls_keep_blocked_read(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_proc_maps maps = {0};
	struct kc_proc p;
	struct kc_thread *t;
	pid_t pid = spawn();
	long ret = 0;
	char c;

	(void)state;
	assert_int_equal(kc_ptrace_attach(&p, pid, &err), 0);
	assert_int_equal(kc_ptrace_live_threads(&p), 4);
	assert_int_equal(kc_proc_maps_read(pid, &maps, &err), 0);
	assert_int_equal(kc_ptrace_find_syscall_insn(&p, &maps, &err), 0);
	kc_proc_maps_release(&maps);

	assert_int_equal(kc_ptrace_stop_all(&p, &err), 0);
	/* the main thread (tid == pid) is blocked in read() */
	t = &p.threads[0];
	assert_int_equal(t->tid, pid);
	uint64_t args[6] = {0};
	assert_int_equal(kc_ptrace_syscall(&p, t, SYS_getpid, args, &ret, &err), 0);
	assert_int_equal(ret, pid);
	uint64_t margs[6] = {0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0};
	assert_int_equal(kc_ptrace_syscall(&p, t, SYS_mmap, margs, &ret, &err), 0);
	assert_true(ret > 0);

	/* a read-only page is writable through /proc/PID/mem */
	uint64_t page = (uint64_t)ret, back = 0, val = 0x1122334455667788ull;
	assert_int_equal(kc_ptrace_write(&p, page, &val, sizeof(val), &err), 0);
	assert_int_equal(kc_ptrace_read(&p, page, &back, sizeof(back), &err), 0);
	assert_true(back == val);
	uint64_t uargs[6] = {page, 4096};
	assert_int_equal(kc_ptrace_syscall(&p, t, SYS_munmap, uargs, &ret, &err), 0);
	assert_int_equal(ret, 0);

	assert_int_equal(kc_ptrace_resume_all(&p, &err), 0);
	assert_int_equal(kc_ptrace_stop_all(&p, &err), 0);
	assert_int_equal(kc_ptrace_detach(&p, &err), 0);

	/* read() was restarted, not failed with EINTR or a restart code */
	c = 5;
	assert_int_equal(write(to_child[1], &c, 1), 1);
	assert_int_equal(read(from_child[0], &c, 1), 1);
	assert_int_equal(c, 5);
	reap(pid);
}

static void test_ptrace__signal_during_attach_is_delivered(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_proc p;
	pid_t pid = spawn();
	long ret;
	char c;

	(void)state;
	assert_int_equal(kc_ptrace_attach(&p, pid, &err), 0);
	assert_int_equal(kc_ptrace_stop_all(&p, &err), 0);
	/* sent while all threads are held: must arrive after we let go */
	kill(pid, SIGUSR1);
	kill(pid, SIGUSR1);
	struct kc_proc_maps maps = {0};
	assert_int_equal(kc_proc_maps_read(pid, &maps, &err), 0);
	assert_int_equal(kc_ptrace_find_syscall_insn(&p, &maps, &err), 0);
	kc_proc_maps_release(&maps);
	uint64_t args[6] = {0};
	assert_int_equal(kc_ptrace_syscall(&p, &p.threads[0], SYS_getpid, args, &ret, &err), 0);
	assert_int_equal(kc_ptrace_resume_all(&p, &err), 0);
	assert_int_equal(kc_ptrace_service(&p, 20, &err), 0);
	assert_int_equal(kc_ptrace_detach(&p, &err), 0);
	usleep(20000);
	c = 10;
	assert_int_equal(write(to_child[1], &c, 1), 1);
	assert_int_equal(read(from_child[0], &c, 1), 1);
	/* SIGUSR1 is a standard signal: two sends may merge into one */
	assert_true(c == 11 || c == 12);
	reap(pid);
}

/* The thread dies in the injected syscall: a clean error, also when the caller wants no message. */
static void test_ptrace__syscall_that_ends_the_process(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_proc_maps maps = {0};
	uint64_t args[6] = {7};
	struct kc_proc p;
	pid_t pid = spawn();
	long ret = 0;
	int st = 0;

	(void)state;
	assert_int_equal(kc_ptrace_attach(&p, pid, &err), 0);
	assert_int_equal(kc_ptrace_stop_all(&p, &err), 0);
	assert_int_equal(kc_proc_maps_read(pid, &maps, &err), 0);
	assert_int_equal(kc_ptrace_find_syscall_insn(&p, &maps, &err), 0);
	kc_proc_maps_release(&maps);
	assert_true(kc_ptrace_syscall(&p, &p.threads[0], SYS_exit_group, args, &ret, NULL) < 0);
	kc_ptrace_detach(&p, NULL);
	/* as its tracer and parent, the engine may have collected the exit already */
	if (waitpid(pid, &st, 0) == pid)
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	assert_int_equal(kill(pid, 0), -1);
	close(to_child[0]);
	close(to_child[1]);
	close(from_child[0]);
	close(from_child[1]);
}

static void test_ptrace__gone_process(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_proc p;

	(void)state;
	assert_int_equal(kc_ptrace_attach(&p, 0x3ffffff0, &err), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ptrace__remote_syscalls_keep_blocked_read),
	    cmocka_unit_test(test_ptrace__signal_during_attach_is_delivered),
	    cmocka_unit_test(test_ptrace__syscall_that_ends_the_process),
	    cmocka_unit_test(test_ptrace__gone_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
