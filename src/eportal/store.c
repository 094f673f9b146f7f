// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The data directory of a patch server and its lifetime: creating DIR, its
 * database (migrated on every open), its signing keys and first empty
 * repository on the first start; plus the small shared helpers of the model
 * (random tokens, name rules, products, settings).
 * Layout: DIR (0700) holds DIR/eportal.db (SQLite, 0600), DIR/keys/ (0700,
 * secrets 0600), DIR/repo/ (what agents fetch: signed metadata and
 * blobs/<sha256>, public by nature).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eportal/db.h"
#include "eportal/eportal.h"
#include "eportal/keys.h"

const char *const kc_ep_products[4] = {"kernel", "libs", "qemu", "db"};

int kc_ep_product_valid(const char *p)
{
	for (size_t i = 0; i < 4; i++)
		if (p && !strcmp(p, kc_ep_products[i]))
			return 1;
	return 0;
}

void kc_ep_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[64];

	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	randombytes_buf(b, nbytes);
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * nbytes] = '\0';
	sodium_memzero(b, sizeof(b));
}

int kc_ep_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > KC_EP_NAME_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

static int64_t real_now(void)
{
	return (int64_t)time(NULL);
}

static int mkdir_mode(const char *path, mode_t mode, struct kc_err *err)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	return kc_err_set(err, -errno, "cannot create directory '%s': %s", path, strerror(errno));
}

static char *path_join(const char *a, const char *b)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		return NULL;
	return p;
}

/* Appends ' @path' to @cmd, quoted for sh. */
static void cmd_add(char *cmd, size_t sz, const char *path)
{
	size_t n = strlen(cmd);

	n += (size_t)snprintf(cmd + n, n < sz ? sz - n : 0, " '");
	for (const char *p = path; *p && n + 5 < sz; p++)
		n += (size_t)snprintf(cmd + n, sz - n, *p == '\'' ? "'\\''" : "%c", *p);
	if (n + 1 < sz)
		snprintf(cmd + n, sz - n, "'");
}

/*
 * The data directory holds the signing keys and the database (registration
 * keys, password hashes): nothing in it is for other users. A directory
 * without a database or keys yet is new and is closed here (it may have been
 * made with a wider mode beforehand); an existing one that others may read
 * is refused, naming the command that closes it, rather than fixed behind
 * the administrator's back. A group may be given access (0750, 0640).
 */
static int data_dir_private(const char *dir, const char *keys_dir, const char *dbpath,
			    struct kc_err *err)
{
	static const char *const sfx[] = {"", "-wal", "-shm"};
	char cmd[4096] = "chmod o-rwx", path[4096];
	struct stat sb;
	int open_to_others = 0;

	if (stat(dir, &sb) < 0)
		return kc_err_set(err, -errno, "cannot stat '%s': %s", dir, strerror(errno));
	int fresh = access(keys_dir, F_OK) != 0 && (!dbpath || access(dbpath, F_OK) != 0);
	if ((sb.st_mode & S_IRWXO) && fresh && chmod(dir, 0700) < 0)
		return kc_err_set(err, -errno, "cannot close '%s' to other users: %s", dir,
				  strerror(errno));
	if ((sb.st_mode & S_IRWXO) && !fresh) {
		cmd_add(cmd, sizeof(cmd), dir);
		open_to_others = 1;
	}
	if (stat(keys_dir, &sb) == 0 && (sb.st_mode & S_IRWXO)) {
		cmd_add(cmd, sizeof(cmd), keys_dir);
		open_to_others = 1;
	}
	for (size_t i = 0; dbpath && i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dbpath, sfx[i]);
		if (stat(path, &sb) == 0 && (sb.st_mode & S_IRWXO)) {
			cmd_add(cmd, sizeof(cmd), path);
			open_to_others = 1;
		}
	}
	if (open_to_others)
		return kc_err_set(err, -EACCES,
				  "the data directory '%s' is open to other users (it holds the "
				  "signing keys and password hashes); fix: %s",
				  dir, cmd);
	return 0;
}

/* Creates the SQLite file 0600 when missing: its -wal and -shm files take its mode. */
static int db_file_private(const char *dbpath, struct kc_err *err)
{
	int fd = open(dbpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		return kc_err_set(err, -errno, "cannot create database '%s': %s", dbpath,
				  strerror(errno));
	return 0;
}

int kc_ep_open(const char *dir, const char *db_url, unsigned flags, struct kc_ep **out,
	       struct kc_err *err)
{
	struct kc_ep *ep;
	char *dbpath = NULL;
	int r;

	if (sodium_init() < 0)
		return kc_err_set(err, -EIO, "cannot initialise libsodium");
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return kc_err_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&ep->publish_lock, NULL);
	pthread_mutex_init(&ep->gc_lock, NULL);
	pthread_cond_init(&ep->gc_cond, NULL);
	ep->gc_tail = &ep->gc_head;
	ep->now = real_now;
	ep->dir = strdup(dir);
	ep->repo_dir = path_join(dir, "repo");
	ep->keys_dir = path_join(dir, "keys");
	if (!ep->dir || !ep->repo_dir || !ep->keys_dir) {
		r = kc_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (!db_url) {
		dbpath = path_join(dir, "eportal.db");
		if (!dbpath) {
			r = kc_err_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
	}
	r = mkdir_mode(dir, 0700, err);
	if (r == 0)
		r = data_dir_private(dir, ep->keys_dir, dbpath, err);
	if (r == 0)
		r = mkdir_mode(ep->repo_dir, 0755, err);
	if (r == 0)
		r = mkdir_mode(ep->keys_dir, 0700, err);
	if (r == 0 && dbpath)
		r = db_file_private(dbpath, err);
	if (r < 0) {
		free(dbpath);
		goto fail;
	}
	r = kc_db_open(db_url ? db_url : dbpath, &ep->db, err);
	free(dbpath);
	if (r < 0)
		goto fail;
	r = kc_ep_migrate(ep->db, NULL, err);
	if (r < 0)
		goto fail;
	if (!(flags & KC_EP_OPEN_NO_KEYS)) {
		r = kc_ep_keys_init(ep, err);
		if (r < 0)
			goto fail;
	}
	*out = ep;
	return 0;
fail:
	kc_ep_close(ep);
	return r;
}

void kc_ep_close(struct kc_ep *ep)
{
	if (!ep)
		return;
	kc_db_close(ep->db);
	pthread_mutex_destroy(&ep->publish_lock);
	pthread_mutex_destroy(&ep->gc_lock);
	pthread_cond_destroy(&ep->gc_cond);
	free(ep->dir);
	free(ep->repo_dir);
	free(ep->keys_dir);
	free(ep);
}

int kc_ep_setting_get(struct kc_ep *ep, const char *name, char *out, size_t outsz,
		      struct kc_err *err)
{
	struct kc_db_stmt *st;
	int r;

	out[0] = '\0';
	r = kc_db_begin(ep->db, 0, err);
	if (r < 0)
		return r;
	r = kc_db_prepare(ep->db, "SELECT value FROM settings WHERE name = ?", &st, err);
	if (r == 0) {
		kc_db_bind_text(st, 1, name);
		r = kc_db_step(st, err);
		if (r > 0)
			snprintf(out, outsz, "%s", kc_db_col_text(st, 0));
		kc_db_finalize(st);
	}
	if (r < 0) {
		kc_db_rollback(ep->db);
		return r;
	}
	return kc_db_commit(ep->db, err);
}

int kc_ep_setting_set(struct kc_ep *ep, const char *name, const char *value, struct kc_err *err)
{
	int64_t r;

	r = kc_db_begin(ep->db, 1, err);
	if (r < 0)
		return (int)r;
	if (value)
		r = kc_db_run(ep->db, err,
			      "INSERT INTO settings (name, value) VALUES (?, ?) "
			      "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
			      "tt", name, value);
	else
		r = kc_db_run(ep->db, err, "DELETE FROM settings WHERE name = ?", "t", name);
	if (r < 0) {
		kc_db_rollback(ep->db);
		return (int)r;
	}
	return kc_db_commit(ep->db, err);
}
