// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Diagnostic reports of agents (eportal/doctor.h): files under DIR/doctor,
 * written atomically, listed from the directory, limited per address and
 * day so that one host cannot fill the disk. The directory is the only
 * state: a report with no sidecar (a crash between the two renames cannot
 * make one, but an admin's copy can) is listed from its file's metadata.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eportal/doctor.h"
#include "eportal/model.h"
#include "kcare/conf.h"

#define SIDECAR_MAX 4096

/* Count-then-store must not interleave between the server's threads. */
static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;

static int id_valid(const char *s)
{
	if (!s || strlen(s) != KC_EP_REPORT_ID_LEN)
		return 0;
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return 0;
	return 1;
}

static int server_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

static int dir_path(struct kc_ep *ep, const char *name, char *out, size_t size, struct kc_err *err)
{
	int n = name ? snprintf(out, size, "%s/doctor/%s", ep->dir, name)
		     : snprintf(out, size, "%s/doctor", ep->dir);

	if (n < 0 || (size_t)n >= size)
		return kc_err_set(err, -ENAMETOOLONG, "path in '%s/doctor' is too long", ep->dir);
	return 0;
}

/* Replaces DIR/doctor/@name with @len bytes (0600). */
static int write_file(struct kc_ep *ep, const char *name, const void *buf, size_t len,
		      struct kc_err *err)
{
	char final[4096];
	int r = dir_path(ep, name, final, sizeof(final), err);

	return r < 0 ? r : kc_file_write_atomic(final, buf, len, 0600, err);
}

static void sync_dir(struct kc_ep *ep)
{
	char d[4096];
	int fd;

	if (dir_path(ep, NULL, d, sizeof(d), NULL) < 0)
		return;
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Fills @r for report @id from its sidecar, or from the file alone; -ENOENT if no .tar.gz. */
static int load(struct kc_ep *ep, const char *id, struct kc_ep_report *r, struct kc_err *err)
{
	char path[4096], name[64], buf[SIDECAR_MAX + 1];
	struct json_object *o = NULL, *v;
	struct stat st;
	ssize_t n;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	snprintf(name, sizeof(name), "%s.tar.gz", id);
	ret = dir_path(ep, name, path, sizeof(path), err);
	if (ret < 0)
		return ret;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return kc_err_set(err, -ENOENT, "no report '%s'", id);
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->size = st.st_size;
	r->received = st.st_mtime;
	snprintf(name, sizeof(name), "%s.json", id);
	if (dir_path(ep, name, path, sizeof(path), NULL) < 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = read(fd, buf, SIDECAR_MAX);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	o = json_tokener_parse(buf);
	if (o && json_object_object_get_ex(o, "server_id", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(r->server_id, sizeof(r->server_id), "%s", json_object_get_string(v));
	if (o && json_object_object_get_ex(o, "ip", &v) && json_object_is_type(v, json_type_string))
		snprintf(r->ip, sizeof(r->ip), "%s", json_object_get_string(v));
	if (o && json_object_object_get_ex(o, "received", &v) &&
	    json_object_is_type(v, json_type_int))
		r->received = json_object_get_int64(v);
	json_object_put(o);
	return 0;
}

static int by_received(const void *a, const void *b)
{
	const struct kc_ep_report *x = a, *y = b;

	if (x->received != y->received)
		return x->received < y->received ? -1 : 1;
	return strcmp(x->id, y->id);
}

int kc_ep_report_list(struct kc_ep *ep, struct kc_ep_report **out, size_t *n, struct kc_err *err)
{
	struct kc_ep_report *arr = NULL, *r;
	size_t cnt = 0, cap = 0;
	char dir[4096], id[KC_EP_REPORT_ID_LEN + 1];
	struct dirent *e;
	DIR *d;
	int ret;

	*out = NULL;
	*n = 0;
	ret = dir_path(ep, NULL, dir, sizeof(dir), err);
	if (ret < 0)
		return ret;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT
			   ? 0
			   : kc_err_set(err, -errno, "cannot read '%s': %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l != KC_EP_REPORT_ID_LEN + 7 ||
		    strcmp(e->d_name + KC_EP_REPORT_ID_LEN, ".tar.gz"))
			continue;
		memcpy(id, e->d_name, KC_EP_REPORT_ID_LEN);
		id[KC_EP_REPORT_ID_LEN] = '\0';
		if (!id_valid(id))
			continue;
		r = kc_ep_grow((void **)&arr, &cnt, &cap, sizeof(*arr));
		if (!r) {
			closedir(d);
			free(arr);
			return kc_err_set(err, -ENOMEM, "out of memory");
		}
		if (load(ep, id, r, NULL) < 0)
			cnt--; /* deleted meanwhile */
	}
	closedir(d);
	if (cnt)
		qsort(arr, cnt, sizeof(*arr), by_received);
	*out = arr;
	*n = cnt;
	return 0;
}

int kc_ep_report_get(struct kc_ep *ep, const char *id, struct kc_ep_report *out, char *path,
		     size_t size, struct kc_err *err)
{
	char name[64];
	int ret;

	if (!id_valid(id))
		return kc_err_set(err, -ENOENT, "no report '%.64s'", id ? id : "");
	ret = load(ep, id, out, err);
	if (ret < 0 || !path)
		return ret;
	snprintf(name, sizeof(name), "%s.tar.gz", id);
	return dir_path(ep, name, path, size, err);
}

int kc_ep_report_delete(struct kc_ep *ep, const char *id, struct kc_err *err)
{
	char path[4096], name[64];
	int ret;

	if (!id_valid(id))
		return kc_err_set(err, -ENOENT, "no report '%.64s'", id ? id : "");
	snprintf(name, sizeof(name), "%s.tar.gz", id);
	ret = dir_path(ep, name, path, sizeof(path), err);
	if (ret < 0)
		return ret;
	if (unlink(path) < 0)
		return errno == ENOENT ? kc_err_set(err, -ENOENT, "no report '%s'", id)
				       : kc_err_set(err, -errno, "cannot delete '%s': %s", path,
						    strerror(errno));
	snprintf(name, sizeof(name), "%s.json", id);
	if (dir_path(ep, name, path, sizeof(path), NULL) == 0)
		unlink(path);
	sync_dir(ep);
	return 0;
}

/* Reports received in the last day from @ip or for @server_id. */
static int recent(struct kc_ep *ep, const char *ip, const char *server_id, size_t *count,
		  struct kc_err *err)
{
	struct kc_ep_report *all = NULL;
	int64_t since = ep->now() - 86400;
	size_t n = 0;
	int ret = kc_ep_report_list(ep, &all, &n, err);

	*count = 0;
	for (size_t i = 0; ret == 0 && i < n; i++)
		if (all[i].received > since &&
		    ((ip && ip[0] && !strcmp(all[i].ip, ip)) ||
		     (server_id && server_id[0] && !strcmp(all[i].server_id, server_id))))
			(*count)++;
	free(all);
	return ret;
}

int kc_ep_report_store(struct kc_ep *ep, const void *buf, size_t len, const char *server_id,
		       const char *ip, unsigned per_day, struct kc_ep_report *out,
		       struct kc_err *err)
{
	const unsigned char *b = buf;
	struct kc_ep_report r = {0};
	struct json_object *o;
	char dir[4096], name[64];
	size_t count = 0;
	int ret;

	if (len < 2 || b[0] != 0x1f || b[1] != 0x8b)
		return kc_err_set(err, -EBADMSG, "report is not gzip data");
	if (server_id && server_id[0] && !server_id_valid(server_id))
		return kc_err_set(err, -EINVAL, "invalid 'server_id'");
	ret = dir_path(ep, NULL, dir, sizeof(dir), err);
	if (ret < 0)
		return ret;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return kc_err_set(err, -errno, "cannot create '%s': %s", dir, strerror(errno));
	pthread_mutex_lock(&store_lock);
	if (per_day) {
		ret = recent(ep, ip, server_id, &count, err);
		if (ret == 0 && count >= per_day)
			ret = kc_err_set(err, -EAGAIN,
					 "too many reports: at most %u a day from one address",
					 per_day);
		if (ret < 0)
			goto out;
	}
	kc_ep_random_hex(r.id, KC_EP_REPORT_ID_LEN / 2);
	snprintf(r.server_id, sizeof(r.server_id), "%s", server_id ? server_id : "");
	snprintf(r.ip, sizeof(r.ip), "%s", ip ? ip : "");
	r.received = ep->now();
	r.size = (int64_t)len;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(r.id));
	json_object_object_add(o, "server_id", json_object_new_string(r.server_id));
	json_object_object_add(o, "ip", json_object_new_string(r.ip));
	json_object_object_add(o, "received", json_object_new_int64(r.received));
	json_object_object_add(o, "size", json_object_new_int64(r.size));
	const char *js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(name, sizeof(name), "%s.json", r.id);
	ret = write_file(ep, name, js, strlen(js), err);
	json_object_put(o);
	if (ret < 0)
		goto out;
	snprintf(name, sizeof(name), "%s.tar.gz", r.id);
	ret = write_file(ep, name, buf, len, err);
	if (ret < 0) {
		char side[4096];
		snprintf(name, sizeof(name), "%s.json", r.id);
		if (dir_path(ep, name, side, sizeof(side), NULL) == 0)
			unlink(side);
		goto out;
	}
	if (out)
		*out = r;
out:
	pthread_mutex_unlock(&store_lock);
	return ret;
}
