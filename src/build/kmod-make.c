// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Running the tools of a kmod build (kbuild's make, apt-get, dpkg,
 * sign-file) with their output in a log, and reading the compiler's
 * first error back out of it. Knows nothing of what is built.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/kmod-int.h"
#include "build/logtail.h"

volatile sig_atomic_t kc_kmod_interrupted;

int kc_kmod_run(const char *dir, char *const argv[], const char *log, const char *what,
		struct kc_err *err)
{
	pid_t pid;
	int status, stopped = 0;

	if (kc_kmod_interrupted)
		return kc_err_set(err, -EINTR, "%s: interrupted", what);
	pid = fork();
	if (pid < 0)
		return kc_err_set(err, -errno, "cannot run %s: %s", argv[0], strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0 || null < 0 || chdir(dir) < 0)
			_exit(126);
		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return kc_err_set(err, -errno, "cannot wait for %s", argv[0]);
		/* the tool is in our process group: a terminal's ^C reached it too */
		if (kc_kmod_interrupted && !stopped++)
			kill(pid, SIGTERM);
	}
	if (kc_kmod_interrupted)
		return kc_err_set(err, -EINTR, "%s: interrupted", what);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return kc_err_set(err, -ENOENT, "%s failed: cannot run '%s'", what, argv[0]);
	{
		char last[300];

		kc_log_last_line(log, last, sizeof(last));
		return kc_err_set(err, -ECHILD, "%s failed%s%s", what, *last ? ": " : "", last);
	}
}

void kc_kmod_first_error(const char *log, const char *workdir, const char **work_names,
			 const char **from, size_t n, char *buf, size_t bufsz)
{
	FILE *f = fopen(log, "re");
	char line[1024];
	size_t wl = strlen(workdir);

	buf[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line;

		if (!strstr(line, "error:") && !strstr(line, "Error:"))
			continue;
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(p, workdir, wl) && p[wl] == '/')
			p += wl + 1;
		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(work_names[i]);

			if (!strncmp(p, work_names[i], l) && p[l] == ':') {
				snprintf(buf, bufsz, "%s%s", from[i], p + l);
				fclose(f);
				return;
			}
		}
		if (!buf[0])
			snprintf(buf, bufsz, "%s", p);
	}
	fclose(f);
}
