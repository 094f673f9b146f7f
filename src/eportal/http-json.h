/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoding of request bodies and paths that come from the network (untrusted):
 * JSON objects with a depth and size bound, an agent's report into a
 * check-in, a key object for the admin API, and the repository path check
 * for static files. Pure functions with no I/O, so they are fuzzed directly.
 */
#ifndef KC_EPORTAL_HTTP_JSON_H
#define KC_EPORTAL_HTTP_JSON_H

#include <stddef.h>

#include "eportal/eportal.h"

struct json_object;

#define KC_HTTPD_JSON_DEPTH 8

/* Parses @len bytes as exactly one JSON object. Caller owns *out. -EBADMSG. */
int kc_httpd_json_object(const char *buf, size_t len, struct json_object **out, struct kc_err *err);

/*
 * Fills @c from an agent's report (@o borrowed: c's strings point into it).
 * Unknown members are ignored; a member of the wrong type is -EINVAL.
 * patch_level/uptime absent: -2/-1 ("not sent").
 */
int kc_httpd_checkin_decode(struct json_object *o, struct kc_ep_checkin *c, struct kc_err *err);

/* Optional string member: 0 with *v NULL when absent, -EINVAL when not a string. */
int kc_httpd_json_str(struct json_object *o, const char *name, const char **v, struct kc_err *err);
/* Optional integer member (*set = 1 when present); -EINVAL for another type. */
int kc_httpd_json_int(struct json_object *o, const char *name, int64_t *v, int *set,
		      struct kc_err *err);
/* Optional boolean member (true/false or 0/1). */
int kc_httpd_json_bool(struct json_object *o, const char *name, int *v, int *set,
		       struct kc_err *err);

/* Fills @k and *mask from an admin key object ("products" is an array of names). */
int kc_httpd_key_decode(struct json_object *o, struct kc_ep_key *k, unsigned *mask,
			struct kc_err *err);

/*
 * Whether @path (after "/repo/") names a file agents may fetch: components of
 * [A-Za-z0-9._-], none empty or starting with '.', at most 4 deep.
 */
int kc_httpd_repo_path_ok(const char *path);

#define KC_HTTPD_BASIC_MAX 1100 /* decoded "user:password" bytes */

/*
 * Decodes an Authorization header of the Basic scheme into @user and @pass
 * (each at least KC_HTTPD_BASIC_MAX + 1 bytes). 1 when @hdr is of another
 * scheme (not ours to judge), 0 when decoded, -EBADMSG when malformed: bad
 * base64, no ':', or a NUL byte anywhere (never cut at it), -E2BIG when
 * longer than KC_HTTPD_BASIC_MAX.
 */
int kc_httpd_basic_decode(const char *hdr, char *user, char *pass, struct kc_err *err);

#endif
