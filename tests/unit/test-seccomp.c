// SPDX-License-Identifier: GPL-2.0-or-later
/* The seccomp BPF interpreter against hand-written filters of the usual shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "upatch/seccomp.h"

static uint32_t run(const struct sock_filter *f, size_t n, int nr, uint64_t a2)
{
	struct seccomp_data d;

	memset(&d, 0, sizeof(d));
	d.nr = nr;
	d.arch = AUDIT_ARCH_X86_64;
	d.args[2] = a2;
	return kc_seccomp_run(f, n, &d);
}

static void test_seccomp__arch_nr_and_args(void **state)
{
	/* kill foreign arch; EPERM for mprotect with PROT_EXEC; kill ptrace (101); allow the rest
	 */
	const struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 10, 0, 3),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 3),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 101, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	size_t n = sizeof(f) / sizeof(f[0]);

	(void)state;
	assert_int_equal(run(f, n, 10, PROT_READ | PROT_EXEC), SECCOMP_RET_ERRNO | 1);
	assert_int_equal(run(f, n, 10, PROT_READ), SECCOMP_RET_ALLOW);
	assert_int_equal(run(f, n, 101, 0), SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(run(f, n, 9, 0), SECCOMP_RET_ALLOW);
}

static void test_seccomp__malformed_programs_reject(void **state)
{
	const struct sock_filter off_end[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
	    BPF_JUMP(BPF_JMP | BPF_JA, 5, 0, 0),
	};
	const struct sock_filter bad_load[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4096),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	const struct sock_filter div0[] = {
	    BPF_STMT(BPF_LD | BPF_IMM, 7),
	    BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	(void)state;
	assert_int_equal(run(off_end, 2, 1, 0), SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(run(bad_load, 2, 1, 0), SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(run(div0, 3, 1, 0), SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(run(NULL, 0, 1, 0), SECCOMP_RET_KILL_PROCESS);
}

static void test_seccomp__no_filters_allow_everything(void **state)
{
	uint64_t args[6] = {0};

	(void)state;
	assert_true(kc_seccomp_allows(NULL, 9, args, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seccomp__arch_nr_and_args),
	    cmocka_unit_test(test_seccomp__malformed_programs_reject),
	    cmocka_unit_test(test_seccomp__no_filters_allow_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
