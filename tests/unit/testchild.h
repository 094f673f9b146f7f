/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helpers for unit tests that inspect a real child process: compile a
 * small C program at test time (gcc in a temporary directory), run it with
 * its stdout on a pipe, read the lines it prints, and read its memory.
 * Header-only (static functions) so each test executable stays standalone.
 */
#ifndef KCARE_TESTS_TESTCHILD_H
#define KCARE_TESTS_TESTCHILD_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

struct tc_child {
	pid_t pid;
	int out; /* read end of the child's stdout */
	char dir[64];
};

/* Creates a temporary directory for sources and binaries. */
static inline int tc_mkdir(struct tc_child *c)
{
	snprintf(c->dir, sizeof(c->dir), "/tmp/kc-test-XXXXXX");
	return mkdtemp(c->dir) ? 0 : -errno;
}

/* Writes @text into @dir/@name. */
static inline int tc_write_file(const struct tc_child *c, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* Runs a shell command (formatted) inside the directory; returns its exit status. */
static inline int tc_sh(const struct tc_child *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline int tc_sh(const struct tc_child *c, const char *fmt, ...)
{
	char cmd[2048];
	int n, st;
	va_list ap;

	n = snprintf(cmd, sizeof(cmd), "cd '%s' && ", c->dir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Starts @dir/@exe with stdout on a pipe; the child dies with us. */
static inline int tc_spawn(struct tc_child *c, const char *exe)
{
	int fds[2];
	pid_t parent = getpid();

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		char path[256];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		dup2(fds[1], 1);
		snprintf(path, sizeof(path), "%s/%s", c->dir, exe);
		execl(path, exe, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	c->out = fds[0];
	return 0;
}

/* Reads one line (without the newline) within 20 seconds. */
static inline int tc_read_line(struct tc_child *c, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = {.fd = c->out, .events = POLLIN};
		char ch;

		if (poll(&p, 1, 20000) <= 0)
			return -ETIMEDOUT;
		if (read(c->out, &ch, 1) != 1)
			return -EPIPE;
		if (ch == '\n')
			break;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return 0;
}

/* Kills and reaps the child, removes the directory. */
static inline void tc_finish(struct tc_child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, __WALL);
		c->pid = 0;
	}
	if (c->out > 0)
		close(c->out);
	c->out = -1;
	if (c->dir[0]) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", c->dir);
		c->dir[0] = '\0';
	}
}

/* kc_mem_read_fn over process_vm_readv; @ctx is a pointer to the pid. */
static inline int tc_read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	pid_t pid = *(pid_t *)ctx;
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

#endif
