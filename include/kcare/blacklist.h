/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The LibCare process blacklist: which processes kcarectl must never touch.
 * One rule per line: `path:GLOB` (the whole executable path), `filename:GLOB`
 * (its last component), `regex:POSIX-ERE` (the whole path, unanchored as
 * regexec does it, so anchor with ^...$ for a full match); spaces allowed
 * around the colon and at both ends of the line; `#` starts a comment
 * line; blank lines are skipped. The packaged default
 * (/var/lib/libcare/blacklist) is replaced as a whole by the admin's file
 * (/var/cache/kcare/userspace/blacklist) when that one exists.
 */
#ifndef KCARE_BLACKLIST_H
#define KCARE_BLACKLIST_H

#include <stddef.h>

#include "kcare/err.h"

#define KC_BLACKLIST_MAX_BYTES (1024u * 1024)
#define KC_BLACKLIST_MAX_RULES 4096

struct kc_blacklist;

/*
 * Parses @text (@len bytes, need not be NUL-terminated). A line with an
 * unknown type, no colon, an empty pattern or a regex that does not compile
 * fails the whole parse with -EBADMSG and a message naming the line number
 * ("line 3: unknown rule type 'paht'"): a typo must not silently let a
 * process through. -EFBIG over the limits above.
 */
int kc_blacklist_parse(const char *text, size_t len, struct kc_blacklist **out, struct kc_err *err);

/*
 * Loads the effective blacklist: @override if that file exists, else
 * @packaged if it exists, else an empty list. *@source (may be NULL) gets
 * the path actually used, or NULL when neither exists (points at the
 * argument). Errors name the file.
 */
int kc_blacklist_load(const char *packaged, const char *override, struct kc_blacklist **out,
		      const char **source, struct kc_err *err);

struct kc_blacklist *kc_blacklist_new_empty(void);
void kc_blacklist_free(struct kc_blacklist *b);
size_t kc_blacklist_count(const struct kc_blacklist *b);

/*
 * Whether the executable at @exe_path (as /proc/PID/exe reads, " (deleted)"
 * suffix already removed by the caller) matches a rule. Returns the
 * matching rule as written after trimming ("filename:docker*"), owned by
 * @b, or NULL.
 */
const char *kc_blacklist_match(const struct kc_blacklist *b, const char *exe_path);

#endif
