// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Target of 1101: counts every signal another process sends it while it is
 * patched and unpatched, in the shared file argv[1] (see sigcount.h). Only
 * main takes the signals (the workers block them), and its handlers block
 * each other, so the real-time signals of one number are handled in the
 * order they were queued and their values can be checked one by one. Two
 * workers and main call value_fn(), the function the patch replaces.
 */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "kct.h"
#include "sigcount.h"

static struct sigcount *sc;
volatile int one = 1;
volatile long sink;

KCT_PATCHABLE int value_fn(void)
{
	return one;
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	int i = sig - sc_rt_signo(0);

	(void)uc;
	if (si->si_code != SI_QUEUE)
		sc->rt_info++;
	if (si->si_value.sival_int != sc->rt_last[i] + 1) {
		if (sc->rt_order < 8) {
			sc->gaps[sc->rt_order].signo = sig;
			sc->gaps[sc->rt_order].want = sc->rt_last[i] + 1;
			sc->gaps[sc->rt_order].got = si->si_value.sival_int;
		}
		sc->rt_order++;
	}
	sc->rt_last[i] = si->si_value.sival_int;
	__atomic_store_n(&sc->rt[i], sc->rt[i] + 1, __ATOMIC_RELEASE);
}

static void on_usr(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si->si_code != SI_USER)
		sc->usr_info++;
	__atomic_add_fetch(&sc->usr[sig == SIGUSR2], 1, __ATOMIC_RELEASE);
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

static void catch_all(sigset_t *set)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_mask = *set;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	for (int i = 0; i < SC_NRT; i++) {
		sa.sa_sigaction = on_rt;
		sigaction(sc_rt_signo(i), &sa, NULL);
	}
	for (int i = 0; i < SC_NUSR; i++) {
		sa.sa_sigaction = on_usr;
		sigaction(sc_usr_signo(i), &sa, NULL);
	}
}

int main(int argc, char **argv)
{
	sigset_t set;
	pthread_t t;
	int fd;

	kct_init(1800);
	if (argc < 2)
		return 2;
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096))
		return 1;
	sc = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (sc == MAP_FAILED)
		return 1;
	sigemptyset(&set);
	for (int i = 0; i < SC_NRT; i++)
		sigaddset(&set, sc_rt_signo(i));
	for (int i = 0; i < SC_NUSR; i++)
		sigaddset(&set, sc_usr_signo(i));
	catch_all(&set);
	/* the workers inherit the blocked set; main unblocks it afterwards */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&t, NULL, worker, NULL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	printf("ready\n");
	for (;;) {
		printf("value %d rt %lu %lu usr %lu %lu\n", value_fn(), sc_load(&sc->rt[0]),
		       sc_load(&sc->rt[1]), sc_load(&sc->usr[0]), sc_load(&sc->usr[1]));
		kct_sleep_ms(20);
	}
}
