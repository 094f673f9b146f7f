/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verbs of libcare-ctl and what they share: target selection and report lines. */
#ifndef KC_LIBCARE_CTL_CMDS_H
#define KC_LIBCARE_CTL_CMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "kcare/upatch.h"

int cmd_patch(int argc, char **argv);
int cmd_unpatch(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_recover(int argc, char **argv);

/* -p PID|all: the processes to work on; caller frees *pids. Returns 0, or an exit status. */
int lcctl_targets(const char *spec, pid_t **pids, size_t *n);

/* Whether the process looks patchable at all (a user process we may trace). */
bool lcctl_is_candidate(pid_t pid);

/* Prints one report line for an engine event (ctx: const bool *quiet_skips). */
void lcctl_report(void *ctx, const struct kc_upatch_event *ev);

/* Parses --timeout SECONDS. */
int lcctl_parse_timeout(const char *s, double *out);

void lcctl_error(pid_t pid, const char *msg);

/* Set by SIGINT/SIGTERM/SIGHUP once lcctl_catch_signals() ran; handed to the engine as cancel. */
extern volatile int lcctl_cancel;
void lcctl_catch_signals(void);

/* Report context: whether to hide "skipped" lines and to print stats lines. */
struct lcctl_report_opts {
	bool quiet_skips;
	bool stats;
};

/* Reports an engine failure for @pid; returns true if the whole command should stop. */
bool lcctl_failed(pid_t pid, const struct kc_err *err);

#endif
