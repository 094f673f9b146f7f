// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc parsing: maps lines of every shape (anonymous, special, deleted,
 * spaces in names, no final newline), malformed input, and the live readers
 * (maps, tids, pids, comm, auxv) on this process and on an exited child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "kcare/proc.h"

static const char sample[] =
    "55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 1311018                    /usr/bin/cat\n"
    "55d0c0a02000-55d0c0a07000 r-xp 00002000 fe:01 1311018                    /usr/bin/cat\n"
    "55d0c1b3e000-55d0c1b5f000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f1c2a000000-7f1c2a021000 rw-s 00000000 00:05 42                         /dev/zero (deleted)\n"
    "7f1c2a100000-7f1c2a101000 rw-p 00001000 103:02 99                        /tmp/a b (x)\n"
    "7f1c2a200000-7f1c2a201000 ---p 00000000 00:00 0 \n"
    "7ffd5c6f0000-7ffd5c6f2000 r-xp 00000000 00:00 0                          [vdso]\n"
    "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]";

static void test_proc__parses_every_line_shape(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_proc_maps m;

	(void)state;
	assert_int_equal(kc_proc_maps_parse(sample, strlen(sample), &m, &err), 0);
	assert_int_equal(m.n, 8);
	assert_int_equal(m.v[0].start, 0x55d0c0a00000ULL);
	assert_int_equal(m.v[0].end, 0x55d0c0a02000ULL);
	assert_int_equal(m.v[0].prot, PROT_READ);
	assert_false(m.v[0].shared);
	assert_int_equal(m.v[0].dev_major, 0xfe);
	assert_int_equal(m.v[0].dev_minor, 1);
	assert_int_equal(m.v[0].inode, 1311018);
	assert_string_equal(m.v[0].path, "/usr/bin/cat");
	assert_int_equal(m.v[1].prot, PROT_READ | PROT_EXEC);
	assert_int_equal(m.v[1].offset, 0x2000);
	assert_string_equal(m.v[2].path, "[heap]");
	assert_int_equal(m.v[2].prot, PROT_READ | PROT_WRITE);
	assert_true(m.v[3].shared);
	assert_true(m.v[3].deleted);
	assert_string_equal(m.v[3].path, "/dev/zero");
	assert_false(m.v[4].deleted);
	assert_string_equal(m.v[4].path, "/tmp/a b (x)");
	assert_int_equal(m.v[4].dev_major, 0x103);
	assert_int_equal(m.v[4].dev_minor, 2);
	assert_int_equal(m.v[5].prot, 0);
	assert_string_equal(m.v[5].path, "");
	assert_string_equal(m.v[6].path, "[vdso]");
	assert_int_equal(m.v[7].prot, PROT_EXEC);
	assert_int_equal(m.v[7].end, 0xffffffffff601000ULL);
	assert_ptr_equal(kc_proc_maps_find(&m, 0x55d0c0a02abcULL), &m.v[1]);
	assert_null(kc_proc_maps_find(&m, 0x55d0c0a07000ULL));
	assert_null(kc_proc_maps_find(&m, 0));
	kc_proc_maps_release(&m);
	assert_int_equal(m.n, 0);
	kc_proc_maps_release(&m); /* idempotent */

	assert_int_equal(kc_proc_maps_parse("", 0, &m, &err), 0);
	assert_int_equal(m.n, 0);
	kc_proc_maps_release(&m);
}

static void test_proc__rejects_malformed_lines(void **state)
{
	static const char *bad[] = {
	    "zz-1000 r--p 00000000 00:00 0\n",
	    "1000-2000 rw-p 00000000 00:00\n",
	    "2000-1000 r--p 00000000 00:00 0\n",
	    "1000-2000 r--q 00000000 00:00 0\n",
	    "1000-2000 r-p 00000000 00:00 0\n",
	    "1000-2000 r--p 00000000 0000 0\n",
	    "1000-2000 r--p 00000000 00:00 0x\n",
	    "1000 r--p 00000000 00:00 0\n",
	    "10000000000000000-10000000000000001 r--p 00000000 00:00 0\n",
	    "1000-2000 r--p 00000000 00:00 0\n\n",
	};
	struct kc_err err = KC_ERR_INIT;
	struct kc_proc_maps m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kc_err_clear(&err);
		assert_int_equal(kc_proc_maps_parse(bad[i], strlen(bad[i]), &m, &err), -EINVAL);
		assert_int_equal(m.n, 0);
		assert_non_null(strstr(err.msg, "malformed maps line"));
	}
	/* Text with a NUL byte inside a path is not maps text. */
	assert_int_equal(kc_proc_maps_parse("1000-2000 r--p 0 00:00 1 /a\0b", 29, &m, &err),
			 -EINVAL);
}

static void test_proc__reads_own_maps(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	const struct kc_proc_map *code;
	struct kc_proc_maps m;
	char exe[4096];
	ssize_t n;
	int on_stack;

	(void)state;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(kc_proc_maps_read(getpid(), &m, &err), 0);
	assert_true(m.n > 5);
	code = kc_proc_maps_find(&m, (uint64_t)(uintptr_t)&test_proc__reads_own_maps);
	assert_non_null(code);
	assert_true(code->prot & PROT_EXEC);
	assert_string_equal(code->path, exe);
	code = kc_proc_maps_find(&m, (uint64_t)(uintptr_t)&on_stack);
	assert_non_null(code);
	assert_string_equal(code->path, "[stack]");
	for (size_t i = 1; i < m.n; i++)
		assert_true(m.v[i - 1].end <= m.v[i].start);
	kc_proc_maps_release(&m);
}

static void *idle_thread(void *arg)
{
	int *fds = arg;
	char c;
	pid_t tid = gettid();

	if (write(fds[1], &tid, sizeof(tid)) != sizeof(tid) || read(fds[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

static void test_proc__lists_threads_and_processes(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	int up[2], down[2], fds[2];
	pid_t *ids, tid;
	pthread_t th;
	size_t n;
	bool seen_main = false, seen_thread = false, seen_parent = false;

	(void)state;
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	fds[0] = down[0];
	fds[1] = up[1];
	assert_int_equal(pthread_create(&th, NULL, idle_thread, fds), 0);
	assert_int_equal(read(up[0], &tid, sizeof(tid)), sizeof(tid));

	assert_int_equal(kc_proc_tids(getpid(), &ids, &n, &err), 0);
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++) {
		if (i)
			assert_true(ids[i - 1] < ids[i]);
		seen_main |= ids[i] == getpid();
		seen_thread |= ids[i] == tid;
	}
	assert_true(seen_main && seen_thread);
	free(ids);

	assert_int_equal(kc_proc_pids(&ids, &n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			assert_true(ids[i - 1] < ids[i]);
		assert_int_not_equal(ids[i], getpid());
		seen_parent |= ids[i] == getppid();
	}
	assert_true(seen_parent);
	free(ids);

	assert_int_equal(write(down[1], "x", 1), 1);
	pthread_join(th, NULL);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
}

static void test_proc__reads_comm_and_auxv(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char old[32], buf[32], tiny[4];
	uint64_t val;

	(void)state;
	assert_int_equal(prctl(PR_GET_NAME, old), 0);
	assert_int_equal(prctl(PR_SET_NAME, "kc-comm-test"), 0);
	assert_int_equal(kc_proc_comm(getpid(), buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "kc-comm-test");
	assert_int_equal(kc_proc_comm(getpid(), tiny, sizeof(tiny), &err), 0);
	assert_string_equal(tiny, "kc-");
	prctl(PR_SET_NAME, old);

	assert_int_equal(kc_proc_auxv(getpid(), AT_ENTRY, &val, &err), 0);
	assert_int_equal(val, getauxval(AT_ENTRY));
	assert_int_equal(kc_proc_auxv(getpid(), AT_PHDR, &val, &err), 0);
	assert_int_equal(val, getauxval(AT_PHDR));
	assert_int_equal(kc_proc_auxv(getpid(), 0x7fff, &val, &err), -ENOENT);
}

static void test_proc__reports_gone_process(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_proc_maps m;
	char buf[32];
	pid_t pid, *ids;
	size_t n;
	uint64_t val;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	/* As a zombie it still has a /proc entry, but no memory map. */
	assert_int_equal(waitid(P_PID, (id_t)pid, &(siginfo_t){0}, WEXITED | WNOWAIT), 0);
	assert_int_equal(kc_proc_maps_read(pid, &m, &err), -ESRCH);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(kc_proc_maps_read(pid, &m, &err), -ESRCH);
	assert_int_equal(kc_proc_tids(pid, &ids, &n, &err), -ESRCH);
	assert_null(ids);
	assert_int_equal(kc_proc_comm(pid, buf, sizeof(buf), &err), -ESRCH);
	assert_int_equal(kc_proc_auxv(pid, AT_ENTRY, &val, &err), -ESRCH);
	assert_non_null(strstr(err.msg, "auxv"));
}

/* A kernel thread is alive and has an empty map (kthreadd is pid 2 outside containers). */
static void test_proc__kernel_thread_has_no_maps(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_proc_maps m;
	char comm[32];

	(void)state;
	if (kc_proc_comm(2, comm, sizeof(comm), &err) != 0 || strcmp(comm, "kthreadd") != 0)
		skip();
	assert_int_equal(kc_proc_maps_read(2, &m, &err), 0);
	assert_int_equal(m.n, 0);
	kc_proc_maps_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_proc__parses_every_line_shape),
	    cmocka_unit_test(test_proc__rejects_malformed_lines),
	    cmocka_unit_test(test_proc__reads_own_maps),
	    cmocka_unit_test(test_proc__lists_threads_and_processes),
	    cmocka_unit_test(test_proc__reads_comm_and_auxv),
	    cmocka_unit_test(test_proc__reports_gone_process),
	    cmocka_unit_test(test_proc__kernel_thread_has_no_maps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
