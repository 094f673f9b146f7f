// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Running the commands of kcare-build deb (apt-get, dpkg-query, the
 * package's build): fork, optional private mount namespace with the
 * source tree bind-mounted at Debian's build path, exec, wait. Output
 * goes to a log file so that a failure can name it; nothing is printed.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/deb-int.h"

/* mkdir -p for the namespace child (async-signal-safe enough: no malloc). */
static int exec_mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/*
 * The child's side of the namespace: every mount private first, so that
 * nothing we mount leaks to the host (the matching unshare is just
 * before); then a tmpfs on /build so that concurrent builds never see
 * each other's trees, then the bind mount.
 */
static int exec_enter_ns(const struct kc_deb_cmd *c)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	if (mount("kcare-build", "/build", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return -1;
	if (exec_mkdirs(c->bind_to) < 0)
		return -1;
	return mount(c->bind_from, c->bind_to, NULL, MS_BIND | MS_REC, NULL);
}

static void exec_child(const struct kc_deb_cmd *c, int outfd, int logfd)
{
	int nullfd = open("/dev/null", O_RDONLY);

	if (nullfd >= 0)
		dup2(nullfd, 0);
	dup2(outfd >= 0 ? outfd : logfd, 1);
	dup2(logfd, 2);
	if (c->bind_from && exec_enter_ns(c) < 0) {
		dprintf(2, "kcare-build: cannot prepare the build namespace at '%s': %s\n",
			c->bind_to, strerror(errno));
		_exit(126);
	}
	if (c->cwd && chdir(c->cwd) < 0) {
		dprintf(2, "kcare-build: cannot enter '%s': %s\n", c->cwd, strerror(errno));
		_exit(126);
	}
	for (const char *const *e = c->env; e && *e; e++)
		putenv((char *)*e);
	signal(SIGPIPE, SIG_DFL);
	if (c->argv)
		execvp(c->argv[0], (char *const *)c->argv);
	else
		execl("/bin/sh", "sh", "-c", c->script, (char *)NULL);
	dprintf(2, "kcare-build: cannot run '%s': %s\n", c->argv ? c->argv[0] : "/bin/sh",
		strerror(errno));
	_exit(127);
}

/* Reads all of @fd into a malloc'd string. */
static int exec_slurp(int fd, char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (cap - len < 2048) {
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int kc_deb_exec(const struct kc_deb_cmd *c, struct kc_err *err)
{
	const char *what = c->argv ? c->argv[0] : "/bin/sh";
	int logfd, pipefd[2] = {-1, -1}, status, ret = 0;
	pid_t pid;

	KC_BUG_ON(!c->argv && !c->script);
	if (c->out)
		*c->out = NULL;
	logfd =
	    open(c->log ? c->log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0)
		return kc_err_set(err, -errno, "cannot open the log '%s': %s", c->log,
				  strerror(errno));
	if (c->out && pipe2(pipefd, O_CLOEXEC) < 0) {
		ret = kc_err_set(err, -errno, "cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = kc_err_set(err, -errno, "cannot run '%s': %s", what, strerror(errno));
		goto out;
	}
	if (pid == 0)
		exec_child(c, pipefd[1], logfd);
	if (c->out) {
		close(pipefd[1]);
		pipefd[1] = -1;
		ret = exec_slurp(pipefd[0], c->out);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			ret = kc_err_set(err, -errno, "cannot wait for '%s': %s", what,
					 strerror(errno));
			goto out;
		}
	if (ret < 0) {
		ret = kc_err_set(err, ret, "out of memory reading the output of '%s'", what);
		goto out;
	}
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	if (ret < 0 && c->out) {
		free(*c->out);
		*c->out = NULL;
	}
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	close(logfd);
	return ret;
}

int kc_deb_log_offline(const char *log)
{
	/* apt's own words for a network it cannot use (apt 2.6) */
	static const char *const words[] = {
	    "Temporary failure resolving",
	    "Could not resolve",
	    "Could not connect",
	    "Unable to connect",
	    "Network is unreachable",
	    "Connection timed out",
	    "No route to host",
	};
	char *text = NULL;
	int found = 0, fd = open(log, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (exec_slurp(fd, &text) == 0)
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]) && !found; i++)
			found = strstr(text, words[i]) != NULL;
	close(fd);
	free(text);
	return found;
}
