/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verbs of libcare-ctl and what they share: target selection and report lines. */
#ifndef KC_LIBCARE_CTL_CMDS_H
#define KC_LIBCARE_CTL_CMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
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

/*
 * The blacklist `patch -p all` honours: kcarectl's packaged and admin files
 * (kcare/blacklist.h), under $KCARE_ROOT. Returns 0, or an exit status
 * after printing why (a list that does not parse is an error).
 */
struct kc_blacklist;
int lcctl_blacklist_load(struct kc_blacklist **out);

/* The rule of @bl that @pid's executable (into @exe) matches, or NULL. */
const char *lcctl_blacklisted(const struct kc_blacklist *bl, pid_t pid, char *exe, size_t size);

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
	unsigned changed; /* processes changed (patched, unpatched, recovered) so far */
};

/* Reports an engine failure for @pid; returns true if the whole command should stop. */
bool lcctl_failed(pid_t pid, const struct kc_err *err);

/* What every verb takes: -p PID|all, --timeout, --stats, --help. */
struct lcctl_common {
	const char *spec;
	bool all;
	struct kc_upatch_opts uo;
	struct lcctl_report_opts ro;
};

#define LCCTL_COMMON_LONGOPTS                                                                      \
	{"pid", required_argument, NULL, 'p'}, {"timeout", required_argument, NULL, 't'},          \
	    {"stats", no_argument, NULL, 's'},                                                     \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}
#define LCCTL_COMMON_SHORTOPTS "p:h"

void lcctl_common_init(struct lcctl_common *c);

/*
 * Handles getopt result @opt if it is a common option: returns true if
 * handled. Sets *exit_status (>= 0) when the verb must return it now
 * (after --help, or a bad value).
 */
bool lcctl_common_opt(struct lcctl_common *c, int opt, const char *arg, void (*usage)(FILE *),
		      int *exit_status);

/*
 * Runs @fn for every selected process (-p): with "all", processes that
 * cannot be patched are left out and one that exits meanwhile is not a
 * failure. Stops at SIGINT/SIGTERM. Returns the exit status.
 */
typedef int (*lcctl_pid_fn)(pid_t pid, struct lcctl_common *c, void *ctx, struct kc_err *err);
int lcctl_run(struct lcctl_common *c, lcctl_pid_fn fn, void *ctx);

#endif
