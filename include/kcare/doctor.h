/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kcarectl --doctor: a diagnostic report of one host for support. The
 * collector packs what the agent knows about itself (system facts, the
 * config with secrets redacted, registration and trust state, blacklists,
 * the auto-update job, the cache listing) into a local .tar.gz; the
 * uploader hands that file to the patch server, which answers with an id.
 * Collecting never fails because one item cannot be read: report.txt says
 * "unavailable: ..." for it instead.
 */
#ifndef KCARE_DOCTOR_H
#define KCARE_DOCTOR_H

#include <stddef.h>

#include "kcare/agent.h"
#include "kcare/err.h"
#include "kcare/http.h"

/* At most this much of any one collected file goes into the report (the rest is cut). */
#define KC_DOCTOR_FILE_MAX (1024u * 1024)
/* The server refuses larger reports (eportal --max-report, 16 MiB by default). */
#define KC_DOCTOR_UPLOAD_MAX (16u * 1024 * 1024)

/*
 * Extra text from the front end (kcarectl --lib-info output, the proxy in
 * use, ...): stored as "<name>.txt". @name is [A-Za-z0-9_-]+ (at most 64).
 */
struct kc_doctor_section {
	const char *name;
	const char *text;
};

/*
 * Writes ROOT/var/cache/kcare/doctor/kcare-report-<UTC YYYYmmddTHHMMSS>-<pid>.tar.gz
 * (0600, directory 0700; "-N" is appended on a name clash) and copies its
 * path into @out_path. Members: report.txt, kcare.conf (redacted), systemid
 * (redacted), state/<file> for the files of /var/lib/kcare (redacted),
 * trust.txt, blacklist-packaged, blacklist-user, cron/<file>, limits.txt,
 * cache.txt and one <name>.txt per extra section. A member that cannot be
 * read is left out and report.txt says why. Fails only when the archive
 * itself cannot be written (-EIO, -ENOSPC, -EACCES...), for a bad section
 * name (-EINVAL) or when @out_path is too small (-ENAMETOOLONG).
 */
int kc_doctor_collect(const struct kc_agent_paths *paths, const struct kc_doctor_section *extra,
		      size_t nextra, char *out_path, size_t out_size, struct kc_err *err);

/*
 * Redacts secrets in the text of a kcare.conf (@in, @len bytes) into a
 * malloc'd NUL-terminated copy (*@out): values of keys whose name holds
 * KEY, PASSWORD, TOKEN or SECRET become <redacted>, and user:password@ in
 * any URL or proxy value becomes <redacted>@. Exposed for tests and fuzzing.
 */
int kc_doctor_redact_conf(const char *in, size_t len, char **out, struct kc_err *err);

/*
 * POSTs the report at @path to @registration_url + "/doctor" (the
 * REGISTRATION_URL of the config, like http://host:port/api/v1) as
 * application/gzip, with ?server_id=@server_id when @server_id is neither
 * NULL nor "". On 201 {"id": "..."} copies the id into @id. Another status
 * is -EPROTO with the server's message (-EFBIG for 413, -EAGAIN for 429,
 * -ENOENT for 404: a server without the endpoint); transport failures as
 * kc_http_post(). The file must be at most KC_DOCTOR_UPLOAD_MAX bytes.
 */
int kc_doctor_upload(struct kc_http *h, const char *registration_url, const char *server_id,
		     const char *path, char *id, size_t id_size, struct kc_err *err);

#endif
