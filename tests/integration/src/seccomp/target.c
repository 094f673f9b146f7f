// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1109: after startup (two workers running, stdout buffer set
 * up) it installs a seccomp filter on all its threads that makes mmap
 * fail with EPERM, and with argv[1] "mprotect" mprotect as well; the
 * filter is a hand-written BPF program. It prints "filtered" when an
 * mmap of its own fails as it should (BAD if not), then value_fn() every
 * 10 ms and, on SIGUSR1, tries mmap again ("mmap still denied").
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "kct.h"

volatile int one = 1;
volatile long sink;
static volatile sig_atomic_t probe;

KCT_PATCHABLE int value_fn(void)
{
	return one;
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		sink += value_fn();
		kct_sleep_ms(1);
	}
	return NULL;
}

static int install_filter(int deny_mprotect)
{
	struct sock_filter insns[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, deny_mprotect ? __NR_mprotect : __NR_mmap, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	/* TSYNC: the workers already run and must be filtered too */
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
}

static void mmap_denied(const char *what)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED || errno != EPERM)
		printf("BAD mmap not denied\n");
	else
		printf("%s\n", what);
}

static void on_usr1(int sig)
{
	(void)sig;
	probe = 1;
}

int main(int argc, char **argv)
{
	pthread_t t;

	kct_init(120);
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < 2; i++)
		pthread_create(&t, NULL, worker, NULL);
	printf("starting\n");
	if (install_filter(argc > 1 && !strcmp(argv[1], "mprotect"))) {
		printf("BAD seccomp: errno %d\n", errno);
		return 1;
	}
	mmap_denied("filtered");
	printf("ready\n");
	for (;;) {
		if (probe) {
			probe = 0;
			mmap_denied("mmap still denied");
		}
		printf("value %d\n", value_fn());
		kct_sleep_ms(10);
	}
}
