/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libcare-cron: the scheduled `kcarectl --lib-update` job, off until an
 * admin asks for it. Installs a cron.d file everywhere, plus a systemd
 * service and timer (enabled by the wants/ symlink) where systemd runs;
 * removes exactly those files; reports what is installed. Every path is
 * under a root prefix ("" for /). This module only writes files and runs
 * systemctl when asked: the front end decides when and prints.
 */
#ifndef KCARE_CRON_H
#define KCARE_CRON_H

#include <stdbool.h>
#include <stddef.h>

#include "kcare/err.h"

#define KC_CRON_INTERVAL_DEFAULT 4
#define KC_CRON_INTERVAL_MIN	 1
#define KC_CRON_INTERVAL_MAX	 168 /* a week */

/* The files, as absolute paths below the root. */
#define KC_CRON_FILE	   "/etc/cron.d/libcare-cron"
#define KC_CRON_SERVICE	   "/etc/systemd/system/libcare-cron.service"
#define KC_CRON_TIMER	   "/etc/systemd/system/libcare-cron.timer"
#define KC_CRON_TIMER_LINK "/etc/systemd/system/timers.target.wants/libcare-cron.timer"
/* Present while systemd is the running init (sd_booted(3) checks the same). */
#define KC_CRON_SYSTEMD_RUNDIR "/run/systemd/system"

enum kc_cron_systemd {
	KC_CRON_SYSTEMD_AUTO, /* units when ROOT/run/systemd/system exists */
	KC_CRON_SYSTEMD_YES,
	KC_CRON_SYSTEMD_NO,
};

struct kc_cron_opts {
	const char *root;	 /* borrowed; NULL or "" for / */
	const char *kcarectl;	 /* borrowed; absolute installed path of kcarectl */
	unsigned interval_hours; /* KC_CRON_INTERVAL_MIN..MAX */
	enum kc_cron_systemd systemd;
};

/* One file of the job and what install, remove or status found or did. */
enum kc_cron_file_id {
	KC_CRON_F_CRON,
	KC_CRON_F_SERVICE,
	KC_CRON_F_TIMER,
	KC_CRON_F_LINK,
	KC_CRON_F_COUNT,
};

struct kc_cron_file {
	char path[4096]; /* ROOT + the absolute path */
	bool present;	 /* after the call: the file exists */
	bool changed;	 /* install: written or replaced; remove: deleted */
};

struct kc_cron_state {
	struct kc_cron_file f[KC_CRON_F_COUNT];
	bool systemd_running; /* ROOT/run/systemd/system exists */
	bool units;	      /* install: units were wanted (yes, or auto and running) */
	/* status: read back from the cron file's marker line; 0 when absent or foreign */
	unsigned interval_hours;
	int minute; /* -1 when unknown */
};

/* Parses "auto", "yes" or "no". -EINVAL otherwise. */
int kc_cron_systemd_parse(const char *s, enum kc_cron_systemd *out, struct kc_err *err);

/*
 * The host's fixed minute (0-59) and hour offset (0-23) for the cron line:
 * a hash of ROOT/etc/machine-id, or of the host name when that file is
 * missing or empty, so that a fleet spreads its requests over the hour but
 * one host always gets the same line back (init twice changes nothing).
 */
void kc_cron_slot(const char *root, unsigned *minute, unsigned *hour);

/*
 * Renders the three file bodies into caller buffers. -ENOSPC if one does
 * not fit, -EINVAL for an interval out of range or a kcarectl path that is
 * not absolute or holds a character a cron line or unit file cannot carry.
 * @units says whether the timer does the job where systemd runs (the cron
 * line then steps aside when /run/systemd/system exists).
 */
int kc_cron_render_cron(const struct kc_cron_opts *o, unsigned minute, unsigned hour, bool units,
			char *buf, size_t size, struct kc_err *err);
int kc_cron_render_service(const struct kc_cron_opts *o, char *buf, size_t size,
			   struct kc_err *err);
int kc_cron_render_timer(const struct kc_cron_opts *o, char *buf, size_t size, struct kc_err *err);

/*
 * Installs the job. All new contents are first written to temporary files
 * next to their targets (mode 0644, fsync'd), then renamed into place; if
 * any step fails, the temporary files, the files this call created and the
 * directories it made are removed, so a failure leaves the tree as it was
 * (a file this call replaced keeps its new content: rename cannot be
 * undone, and its old content was the same kind of file). Files whose
 * content is already right are not rewritten. With units not wanted, unit
 * files of an earlier `init --systemd yes` are removed so that cron and
 * timer never both run. Fills @st (may be NULL).
 */
int kc_cron_install(const struct kc_cron_opts *o, struct kc_cron_state *st, struct kc_err *err);

/* Removes the four files where present (ENOENT is not an error). Fills @st (may be NULL). */
int kc_cron_remove(const char *root, struct kc_cron_state *st, struct kc_err *err);

/* What is installed under @root. */
int kc_cron_status(const char *root, struct kc_cron_state *st, struct kc_err *err);

/*
 * Runs `systemctl ARGS...` (NULL-terminated) with stdin, stdout and stderr
 * on /dev/null and waits for it. For the real root only: callers check
 * that root is "" and systemd runs. -ENOENT when systemctl is not found,
 * -EIO with its exit status when it fails.
 */
int kc_cron_systemctl(const char *const *args, struct kc_err *err);

#endif
