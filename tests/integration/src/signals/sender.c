// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sender of 1101: `sender PID FILE STOPFILE` sends signals to PID until
 * STOPFILE exists: per round one sigqueue() of each real-time signal with
 * the round number as value, then SIGUSR1 and SIGUSR2, each time waiting
 * until the target has counted it (FILE, see sigcount.h). A signal not
 * counted within 5 s is lost. At the end it waits up to 10 s for the
 * real-time counts, lists the first values that arrived out of order and
 * prints what was sent and received; exit 0 when everything arrived, in
 * order and with its value.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kct.h"
#include "sigcount.h"

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* waits until *p reaches want, at most ms milliseconds; 0 when it did */
static int wait_count(const unsigned long *p, unsigned long want, long ms)
{
	long end = now_us() + ms * 1000;

	while (sc_load(p) < want) {
		if (now_us() > end)
			return -1;
		usleep(50);
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long usr_sent[SC_NUSR] = {0}, lost = 0, late_ms = 0;
	long rounds = 0, end;
	struct sigcount *sc;
	pid_t pid;
	int fd;

	kct_init(1800);
	if (argc < 4)
		return 2;
	pid = atoi(argv[1]);
	fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		return 2;
	sc = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (sc == MAP_FAILED)
		return 2;
	printf("sending\n");
	while (rounds % 32 || access(argv[3], F_OK)) {
		rounds++;
		for (int i = 0; i < SC_NRT; i++) {
			union sigval v = {.sival_int = (int)rounds};

			while (sigqueue(pid, sc_rt_signo(i), v)) {
				if (errno != EAGAIN) {
					printf("sigqueue: errno %d\n", errno);
					return 1;
				}
				usleep(1000); /* queue full: wait for the target to take some */
			}
		}
		for (int i = 0; i < SC_NUSR; i++) {
			long t0 = now_us();

			if (kill(pid, sc_usr_signo(i))) {
				printf("kill: errno %d\n", errno);
				return 1;
			}
			usr_sent[i]++;
			if (wait_count(&sc->usr[i], usr_sent[i], 5000)) {
				printf("lost signal %d of round %ld\n", sc_usr_signo(i), rounds);
				lost++;
				usr_sent[i] = sc_load(&sc->usr[i]); /* go on from what arrived */
			} else if ((now_us() - t0) / 1000 > (long)late_ms) {
				late_ms = (now_us() - t0) / 1000;
			}
		}
		usleep(300);
	}
	end = now_us() + 10000000L;
	for (int i = 0; i < SC_NRT; i++)
		if (wait_count(&sc->rt[i], rounds, (end - now_us()) / 1000))
			lost++;
	for (unsigned long i = 0; i < sc_load(&sc->rt_order) && i < 8; i++)
		printf("signal %d: value %ld after %ld\n", sc->gaps[i].signo, sc->gaps[i].got,
		       sc->gaps[i].want - 1);
	printf("longest wait for an ordinary signal %lu ms\n", late_ms);
	printf("sent rt %ld %ld usr %lu %lu\n", rounds, rounds, usr_sent[0], usr_sent[1]);
	printf("got rt %lu %lu usr %lu %lu order %lu info rt %lu usr %lu lost %lu\n",
	       sc_load(&sc->rt[0]), sc_load(&sc->rt[1]), sc_load(&sc->usr[0]), sc_load(&sc->usr[1]),
	       sc_load(&sc->rt_order), sc_load(&sc->rt_info), sc_load(&sc->usr_info), lost);
	return lost || sc_load(&sc->rt[0]) != (unsigned long)rounds ||
	       sc_load(&sc->rt[1]) != (unsigned long)rounds || sc_load(&sc->rt_order) ||
	       sc_load(&sc->rt_info) || sc_load(&sc->usr_info);
}
