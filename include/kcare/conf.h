/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's configuration file (/etc/sysconfig/kcare/kcare.conf): shell-like
 * KEY=VALUE lines as KernelCare writes them, the table of keys the agent
 * knows with their defaults, typed getters, and an editor that changes one
 * key in place (kcarectl --set-sticky-patch, --set-patch-type, ...) while
 * keeping every other line, comment and unknown key as it was.
 * Not here: where the file lives (agent.h builds paths under a root).
 */
#ifndef KCARE_CONF_H
#define KCARE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "kcare/err.h"

/* The file is at most this long; longer is refused with -EFBIG. */
#define KC_CONF_MAX_BYTES (256u * 1024)

struct kc_conf;

/*
 * A warning about the file that does not stop the agent: an unknown key, a
 * line that is not KEY=VALUE, a value of the wrong type for a known key
 * (then the default is used). @line is 1-based.
 */
typedef void (*kc_conf_warn_fn)(void *ctx, unsigned line, const char *msg);

/*
 * Parses @text (not NUL-terminated, @len bytes). Syntax, per line: blank,
 * `# comment`, or `KEY=VALUE` with optional `export `, spaces around `=`,
 * VALUE bare (to the end of the line, trailing spaces and a trailing
 * ` # comment` dropped), 'single-quoted' or "double-quoted" (backslash escapes
 * \" \\ \$ \`). KEY is [A-Za-z_][A-Za-z0-9_]*. A key given twice: the last
 * wins. Bad lines and unknown keys are reported through @warn (may be NULL)
 * and skipped: only -ENOMEM, -EFBIG and embedded NUL bytes (-EBADMSG) fail.
 */
int kc_conf_parse(const char *text, size_t len, kc_conf_warn_fn warn, void *ctx,
		  struct kc_conf **out, struct kc_err *err);

/* Reads and parses @path; a missing file is an empty config (defaults). */
int kc_conf_load(const char *path, kc_conf_warn_fn warn, void *ctx, struct kc_conf **out,
		 struct kc_err *err);

/* An empty config: every getter returns the default. */
struct kc_conf *kc_conf_new_empty(void);
void kc_conf_free(struct kc_conf *c);

/*
 * The value of @key as written in the file (after unquoting), or the key's
 * default if the file does not set it, or NULL for an unknown key not set.
 * Owned by @c.
 */
const char *kc_conf_get(const struct kc_conf *c, const char *key);

/* Whether the file sets @key (defaults do not count). */
bool kc_conf_is_set(const struct kc_conf *c, const char *key);

/*
 * Booleans as KernelCare writes them: 1/0, yes/no, true/false, on/off, y/n
 * in any case. Anything else (or unset) gives the key's default; an
 * unknown key without a default gives @fallback.
 */
bool kc_conf_get_bool(const struct kc_conf *c, const char *key, bool fallback);

/*
 * Sets @key to @value in the file at @path, atomically (temp file in the
 * same directory, fsync, rename, fsync of the directory): the first line
 * setting @key is rewritten (as KEY=VALUE, double-quoted if VALUE has
 * characters that need it), later lines setting it are dropped, and if no
 * line sets it one is appended. @value NULL removes the key's lines. Other
 * lines are kept byte for byte. Creates the file (0644) and its directory if
 * missing. -EINVAL for a key that is not [A-Za-z_][A-Za-z0-9_]* or a value
 * with a newline or NUL.
 */
int kc_conf_set_file(const char *path, const char *key, const char *value, struct kc_err *err);

/* The known keys, for --help and kcarectl --doctor: NULL-terminated, with defaults ("" = none). */
struct kc_conf_key {
	const char *name;
	const char *def;
	enum { KC_CONF_STR, KC_CONF_BOOL, KC_CONF_INT, KC_CONF_ENUM } type;
	const char *choices; /* ENUM: "REMOTE|LOCAL|LOCAL_FIRST" (compared case-insensitively) */
};
extern const struct kc_conf_key kc_conf_keys[];

/*
 * Writes @len bytes to @path atomically (temp file, fsync, rename, fsync of
 * the directory) with @mode; creates missing parent directories (0755).
 * The one way every part of kcare replaces a file: a reader sees the old or
 * the new content, and a crash leaves at most a hidden temp file.
 */
int kc_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode,
			 struct kc_err *err);
/* The same where the directory must exist already (an output file named by the user). */
int kc_file_replace(const char *path, const void *buf, size_t len, unsigned mode,
		    struct kc_err *err);

/*
 * The same, step by step, for content that is streamed rather than held in
 * memory (an archive, a report): the directory must exist; open, write through @fd, then commit
 * (fsync, rename, fsync of the directory) or abort (the temp file goes). Either one frees @f; abort
 * is harmless after commit or a failed open.
 */
struct kc_file_atomic {
	int fd;
	char *tmp; /* the hidden temp file in the target's directory */
	char *dir, *path;
};
int kc_file_atomic_open(struct kc_file_atomic *f, const char *path, unsigned mode,
			struct kc_err *err);
int kc_file_atomic_commit(struct kc_file_atomic *f, struct kc_err *err);
void kc_file_atomic_abort(struct kc_file_atomic *f);

/* write(2) until all @len bytes are out (EINTR retried): 0 or -errno. */
int kc_fd_write_all(int fd, const void *buf, size_t len);

/*
 * Reads a whole file of at most @max bytes into a NUL-terminated malloc'd
 * buffer (*@len excludes the NUL). -ENOENT if missing, -EFBIG if longer.
 */
int kc_file_read_all(const char *path, size_t max, char **buf, size_t *len, struct kc_err *err);

#endif
