// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcb-measure: times one command and, when given a threads target's stats
 * file (kcb.h), reads the target's own longest pause over the same window.
 *   kcb-measure run STATS|- OUT ERR CMD [ARGS...]
 *   kcb-measure base STATS MS
 * A window starts by bumping the file's generation and waiting until every
 * looping thread has seen it; it ends (after CMD exits, or after MS) once
 * every such thread has run one more iteration, since a thread records a
 * pause only when it runs again. Prints one line of key=value pairs:
 * total_us (CMD's wall time), rc, gap_us (longest pause of any thread),
 * frozen_us (longest time during which no thread of the process iterated),
 * ticking (threads measured), lagging (threads that did not answer in time),
 * timeout (1 if CMD had to be killed). CMD runs at niceness KCB_NICE when set.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kcb.h"

#define WAIT_NS 20000000000ull /* a busy 1000-thread target needs a while to run every thread */

static struct kcb_hdr *map_stats(const char *path)
{
	struct stat st;
	struct kcb_hdr *h;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(*h)) {
		perror(path);
		exit(2);
	}
	h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED || h->magic != KCB_MAGIC ||
	    (size_t)st.st_size < kcb_file_size(h->nthreads)) {
		fprintf(stderr, "kcb-measure: %s: not a stats file\n", path);
		exit(2);
	}
	return h;
}

static void nap_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* New window; returns the number of looping threads that did not take it up in time. */
static uint32_t window_start(struct kcb_hdr *h, uint32_t *gen)
{
	struct kcb_slot *s = kcb_slots(h);
	uint64_t deadline = kcb_now_ns() + WAIT_NS;
	uint32_t late;

	*gen = __atomic_add_fetch(&h->gen, 1, __ATOMIC_RELEASE);
	do {
		late = 0;
		for (uint32_t i = 0; i < h->nthreads; i++)
			if (s[i].ticking && __atomic_load_n(&s[i].gen, __ATOMIC_ACQUIRE) != *gen)
				late++;
		if (late)
			nap_us(1000);
	} while (late && kcb_now_ns() < deadline);
	__atomic_store_n(&h->frozen_ns, 0, __ATOMIC_RELAXED);
	return late;
}

/* Longest pause of the window, once every thread of it has run again. */
static uint64_t window_end(struct kcb_hdr *h, uint32_t gen, uint32_t *ticking, uint32_t *late)
{
	struct kcb_slot *s = kcb_slots(h);
	uint64_t *seen = calloc(h->nthreads, sizeof(*seen));
	uint64_t deadline = kcb_now_ns() + WAIT_NS, max = 0;

	if (!seen)
		exit(2);
	for (uint32_t i = 0; i < h->nthreads; i++)
		seen[i] = __atomic_load_n(&s[i].iters, __ATOMIC_ACQUIRE);
	do {
		*late = *ticking = 0;
		for (uint32_t i = 0; i < h->nthreads; i++) {
			if (!s[i].ticking || __atomic_load_n(&s[i].gen, __ATOMIC_ACQUIRE) != gen)
				continue;
			(*ticking)++;
			if (__atomic_load_n(&s[i].iters, __ATOMIC_ACQUIRE) == seen[i])
				(*late)++;
		}
		if (*late)
			nap_us(1000);
	} while (*late && kcb_now_ns() < deadline);
	for (uint32_t i = 0; i < h->nthreads; i++) {
		uint64_t g;

		if (!s[i].ticking || __atomic_load_n(&s[i].gen, __ATOMIC_ACQUIRE) != gen)
			continue;
		g = __atomic_load_n(&s[i].max_gap_ns, __ATOMIC_RELAXED);
		if (g > max)
			max = g;
	}
	free(seen);
	return max;
}

static volatile sig_atomic_t expired;

static void on_alarm(int sig)
{
	(void)sig;
	expired++;
}

/*
 * Runs @cmd with its output in files; past KCB_TIMEOUT seconds (default 120)
 * it gets SIGTERM (libcare-ctl rolls back and exits), 5 s later SIGKILL.
 */
static int run(const char *out, const char *errf, char **cmd, uint64_t *us)
{
	const char *e = getenv("KCB_TIMEOUT");
	struct sigaction sa = {.sa_handler = on_alarm};
	uint64_t t0 = kcb_now_ns();
	int status, sent = 0;
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		kcb_set_nice();
		execvp(cmd[0], cmd);
		_exit(127);
	}
	sigaction(SIGALRM, &sa, NULL);
	alarm(e ? (unsigned)atoi(e) : 120);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR || expired == sent)
			continue;
		sent = expired;
		kill(pid, sent == 1 ? SIGTERM : SIGKILL);
		alarm(5);
	}
	alarm(0);
	*us = (kcb_now_ns() - t0) / 1000;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	struct kcb_hdr *h = NULL;
	uint32_t gen = 0, late0 = 0, late1 = 0, ticking = 0;
	uint64_t gap = 0, us = 0;
	int rc = 0;

	if (argc >= 6 && !strcmp(argv[1], "run")) {
		if (strcmp(argv[2], "-"))
			h = map_stats(argv[2]);
		if (h)
			late0 = window_start(h, &gen);
		rc = run(argv[3], argv[4], argv + 5, &us);
	} else if (argc == 4 && !strcmp(argv[1], "base")) {
		h = map_stats(argv[2]);
		late0 = window_start(h, &gen);
		nap_us(atol(argv[3]) * 1000);
	} else {
		fprintf(stderr, "usage: kcb-measure run STATS|- OUT ERR CMD [ARGS...]\n"
				"       kcb-measure base STATS MS\n");
		return 2;
	}
	if (h)
		gap = window_end(h, gen, &ticking, &late1);
	printf("total_us=%llu rc=%d gap_us=%llu frozen_us=%llu ticking=%u lagging=%u timeout=%d\n",
	       (unsigned long long)us, rc, (unsigned long long)(gap / 1000),
	       (unsigned long long)(h ? h->frozen_ns / 1000 : 0), ticking, late0 + late1,
	       expired > 0);
	return 0;
}
