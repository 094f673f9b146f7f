/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The line of a build log that an error message quotes (private to src/build). */
#ifndef KC_BUILD_LOGTAIL_H
#define KC_BUILD_LOGTAIL_H

#include <stddef.h>

/*
 * The last non-empty line of the log file at @path, cut to @bufsz - 1
 * bytes, in @buf (also returned); "" when the file cannot be read.
 */
const char *kc_log_last_line(const char *path, char *buf, size_t bufsz);

#endif
