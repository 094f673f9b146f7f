// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Backup and restore of an SQLite data directory as one .tar.gz: a
 * consistent copy of the database (VACUUM INTO, taken while the server may
 * keep running), the keys and the published repository. Restore unpacks into
 * a directory that has no database yet, refusing unsafe member names.
 * A PostgreSQL database is backed up with its own tools (pg_dump); this
 * refuses it so that nobody believes a partial copy is whole.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eportal/model.h"

struct walk {
	struct archive *a;
	const char *base; /* the data directory */
	size_t baselen;
	const char *skip; /* the temporary database copy */
	struct kc_err *err;
	int r;
};

static struct walk *cur_walk; /* nftw has no user pointer; one backup at a time */

static int add_file(struct walk *w, const char *path, const char *name, const struct stat *sb)
{
	struct archive_entry *e = archive_entry_new();
	char buf[65536];
	ssize_t n;
	int fd, r = 0;

	if (!e)
		return kc_err_set(w->err, -ENOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, sb->st_size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, sb->st_mode & 0777);
	archive_entry_set_mtime(e, sb->st_mtime, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		archive_entry_free(e);
		return kc_err_set(w->err, -errno, "cannot read '%s': %s", path, strerror(errno));
	}
	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		r = kc_err_set(w->err, -EIO, "backup: %s", archive_error_string(w->a));
	while (r == 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(w->a, buf, (size_t)n) != n)
			r = kc_err_set(w->err, -EIO, "backup: %s", archive_error_string(w->a));
	close(fd);
	archive_entry_free(e);
	return r;
}

static int walk_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	struct walk *w = cur_walk;
	const char *name = path + w->baselen;

	(void)ftw;
	while (*name == '/')
		name++;
	if (type != FTW_F || !*name || !strcmp(path, w->skip) || strstr(name, ".lock") ||
	    !strncmp(name, "eportal.db", 10) || !S_ISREG(sb->st_mode))
		return 0;
	if (strncmp(name, "keys/", 5) && strncmp(name, "repo/", 5) && strncmp(name, "upstream/", 9))
		return 0;
	w->r = add_file(w, path, name, sb);
	return w->r < 0 ? 1 : 0;
}

int kc_ep_backup(struct kc_ep *ep, const char *file, struct kc_err *err)
{
	struct walk w = {0};
	struct kc_db_stmt *st;
	struct stat sb;
	char tmp[4096], part[4096];
	int r, fd = -1;

	if (kc_db_kind(ep->db) != KC_DB_SQLITE)
		return kc_err_set(
		    err, -EOPNOTSUPP,
		    "backup covers SQLite data directories; use pg_dump for postgresql");
	snprintf(tmp, sizeof(tmp), "%s/eportal.db.backup-%d", ep->dir, (int)getpid());
	unlink(tmp);
	r = kc_db_prepare(ep->db, "VACUUM INTO ?", &st, err);
	if (r < 0)
		return r;
	kc_db_bind_text(st, 1, tmp);
	r = kc_db_step(st, err);
	kc_db_finalize(st);
	if (r < 0)
		return kc_err_prefix(err, "cannot copy the database");
	w.a = archive_write_new();
	if (!w.a) {
		unlink(tmp);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	archive_write_add_filter_gzip(w.a);
	archive_write_set_format_pax_restricted(w.a);
	/*
	 * The archive holds the signing keys: it is made 0600 under a temporary
	 * name next to @file and renamed over it when complete, so neither a
	 * reader of a wider file nor a half-written archive ever exists.
	 */
	if (snprintf(part, sizeof(part), "%s.XXXXXX", file) >= (int)sizeof(part)) {
		r = kc_err_set(err, -ENAMETOOLONG, "backup file name is too long");
		goto out;
	}
	fd = mkostemp(part, O_CLOEXEC);
	if (fd < 0) {
		r = kc_err_set(err, -errno, "cannot write '%s': %s", file, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || archive_write_open_fd(w.a, fd) != ARCHIVE_OK) {
		r = kc_err_set(err, -EIO, "cannot write '%s': %s", file, archive_error_string(w.a));
		goto out;
	}
	w.base = ep->dir;
	w.baselen = strlen(ep->dir);
	w.skip = tmp;
	w.err = err;
	r = stat(tmp, &sb) < 0 ? kc_err_set(err, -errno, "cannot stat '%s'", tmp)
			       : add_file(&w, tmp, "eportal.db", &sb);
	if (r == 0) {
		cur_walk = &w;
		if (nftw(ep->dir, walk_one, 16, FTW_PHYS) != 0 && w.r == 0)
			w.r = kc_err_set(err, -EIO, "cannot walk '%s'", ep->dir);
		cur_walk = NULL;
		r = w.r;
	}
	if (archive_write_close(w.a) != ARCHIVE_OK && r == 0)
		r = kc_err_set(err, -EIO, "cannot finish '%s': %s", file,
			       archive_error_string(w.a));
	if (r == 0 && fsync(fd) < 0)
		r = kc_err_set(err, -errno, "cannot write '%s': %s", file, strerror(errno));
	if (r == 0 && rename(part, file) < 0)
		r = kc_err_set(err, -errno, "cannot write '%s': %s", file, strerror(errno));
out:
	archive_write_free(w.a);
	if (fd >= 0) {
		close(fd);
		if (r < 0)
			unlink(part);
	}
	unlink(tmp);
	return r;
}

/* Modes of a restored data directory: what repo/ holds and public keys are public. */
static int public_part(const char *name)
{
	size_t n = strlen(name);

	return !strncmp(name, "repo/", 5) || !strcmp(name, "repo") ||
	       (n > 4 && !strcmp(name + n - 4, ".pub"));
}

static size_t restore_baselen; /* nftw has no user pointer; one restore at a time */

static int tighten_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	const char *name = path + restore_baselen;

	(void)sb;
	(void)ftw;
	while (*name == '/')
		name++;
	if (type == FTW_D)
		return chmod(path, public_part(name) ? 0755 : 0700) < 0 ? 1 : 0;
	if (type == FTW_F)
		return chmod(path, public_part(name) ? 0644 : 0600) < 0 ? 1 : 0;
	return 0;
}

int kc_ep_restore(const char *dir, const char *file, struct kc_err *err)
{
	struct archive *a, *disk;
	struct archive_entry *e;
	char db[4096], cwd[4096];
	int r = 0, rc;

	snprintf(db, sizeof(db), "%s/eportal.db", dir);
	if (access(db, F_OK) == 0)
		return kc_err_set(err, -EEXIST,
				  "'%s' already has a database; restore into a new directory", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return kc_err_set(err, -errno, "cannot create '%s': %s", dir, strerror(errno));
	/* a directory without a database is new: closed before secrets land in it */
	if (chmod(dir, 0700) < 0)
		return kc_err_set(err, -errno, "cannot close '%s' to other users: %s", dir,
				  strerror(errno));
	if (!getcwd(cwd, sizeof(cwd)))
		return kc_err_set(err, -errno, "cannot read the current directory");
	a = archive_read_new();
	disk = archive_write_disk_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_write_disk_set_options(
	    disk, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		      ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (archive_read_open_filename(a, file, 65536) != ARCHIVE_OK) {
		r = kc_err_set(err, -EIO, "cannot read '%s': %s", file, archive_error_string(a));
		goto out;
	}
	if (chdir(dir) < 0) {
		r = kc_err_set(err, -errno, "cannot enter '%s'", dir);
		goto out;
	}
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		if (archive_entry_filetype(e) != AE_IFREG ||
		    (strcmp(name, "eportal.db") && strncmp(name, "keys/", 5) &&
		     strncmp(name, "repo/", 5) && strncmp(name, "upstream/", 9))) {
			r = kc_err_set(err, -EBADMSG, "backup member '%.200s' is not allowed",
				       name);
			break;
		}
		/* the archive's modes are not trusted: secrets are 0600 from the start */
		archive_entry_set_perm(e, public_part(name) ? 0644 : 0600);
		if (archive_write_header(disk, e) != ARCHIVE_OK) {
			r = kc_err_set(err, -EIO, "cannot restore '%.200s': %s", name,
				       archive_error_string(disk));
			break;
		}
		const void *buf;
		size_t len;
		la_int64_t off;
		while ((rc = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
			if (archive_write_data_block(disk, buf, len, off) != ARCHIVE_OK) {
				rc = ARCHIVE_FATAL;
				break;
			}
		if (rc != ARCHIVE_EOF) {
			r = kc_err_set(err, -EIO, "cannot restore '%.200s'", name);
			break;
		}
		archive_write_finish_entry(disk);
	}
	if (r == 0 && rc != ARCHIVE_EOF)
		r = kc_err_set(err, -EBADMSG, "'%s': %s", file, archive_error_string(a));
	if (chdir(cwd) < 0 && r == 0)
		r = kc_err_set(err, -errno, "cannot return to '%s'", cwd);
	/* directories libarchive made along the way took the umask's mode */
	restore_baselen = strlen(dir);
	if (r == 0 && nftw(dir, tighten_one, 16, FTW_PHYS) != 0)
		r = kc_err_set(err, -EIO, "cannot set the modes under '%s'", dir);
	if (r == 0 && chmod(dir, 0700) < 0)
		r = kc_err_set(err, -errno, "cannot close '%s' to other users", dir);
out:
	archive_read_free(a);
	archive_write_free(disk);
	if (r == 0)
		sync();
	return r;
}
