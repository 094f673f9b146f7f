/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the target and the sender of 1101: the counters the target
 * keeps in a file both map (MAP_SHARED), so that the sender sees each
 * signal arrive. Real-time signals carry a sequence number (1, 2, ...)
 * that must arrive once each and in order; ordinary ones are counted,
 * and the sender waits for each to be counted before sending the next
 * of its kind (two pending ordinary signals of one kind merge into one).
 */
#ifndef SIGCOUNT_H
#define SIGCOUNT_H

#include <signal.h>

#define SC_NRT	2 /* SIGRTMIN+1, SIGRTMIN+2 */
#define SC_NUSR 2 /* SIGUSR1, SIGUSR2 */

struct sigcount {
	unsigned long rt[SC_NRT];   /* real-time signals received */
	long rt_last[SC_NRT];	    /* sequence number of the last one */
	unsigned long rt_order;	    /* received out of order or twice */
	unsigned long rt_info;	    /* si_code not SI_QUEUE (re-sent, value lost) */
	unsigned long usr[SC_NUSR]; /* ordinary signals received */
	unsigned long usr_info;	    /* si_code not SI_USER */
	struct {
		int signo;
		long want, got;
	} gaps[8]; /* the first out-of-order arrivals */
};

static inline int sc_rt_signo(int i)
{
	return SIGRTMIN + 1 + i;
}

static inline int sc_usr_signo(int i)
{
	return i ? SIGUSR2 : SIGUSR1;
}

static inline unsigned long sc_load(const unsigned long *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

#endif
