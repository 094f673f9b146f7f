// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One kcarectl run's context: the config read once, the server URLs it
 * implies, the HTTP client made on first use, and the lock that keeps two
 * runs that change state from overlapping.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kcare/agent.h"

/* URL with exactly one trailing slash (an empty URL stays empty). */
static int copy_dir_url(char *out, size_t size, const char *url, const char *what,
			struct kc_err *err)
{
	size_t len = url ? strlen(url) : 0;

	while (len > 0 && url[len - 1] == '/')
		len--;
	if (len == 0) {
		out[0] = '\0';
		return 0;
	}
	if (len + 2 > size)
		return kc_err_set(err, -ENAMETOOLONG, "%s is too long", what);
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return kc_err_set(err, -EINVAL, "%s '%s' is not an http:// or https:// URL", what,
				  url);
	memcpy(out, url, len);
	out[len] = '/';
	out[len + 1] = '\0';
	return 0;
}

/*
 * REGISTRATION_URL without a trailing slash; when unset, an eportal's
 * PATCH_SERVER ".../repo/" gives ".../api/v1".
 */
static int set_api_url(struct kc_agent *a, struct kc_err *err)
{
	const char *reg = kc_conf_get(a->conf, "REGISTRATION_URL");
	size_t len;
	int ret;

	if (reg && *reg) {
		ret = copy_dir_url(a->api_url, sizeof(a->api_url), reg, "REGISTRATION_URL", err);
		if (ret < 0)
			return ret;
		a->api_url[strlen(a->api_url) - 1] = '\0';
		return 0;
	}
	len = strlen(a->repo_url);
	if (len > 5 && !strcmp(a->repo_url + len - 5, "repo/") &&
	    len - 5 + strlen("api/v1") < sizeof(a->api_url)) {
		memcpy(a->api_url, a->repo_url, len - 5);
		strcpy(a->api_url + len - 5, "api/v1");
	}
	return 0;
}

int kc_agent_open(struct kc_agent *a, const char *root, kc_conf_warn_fn warn, void *warn_ctx,
		  struct kc_err *err)
{
	int ret;

	memset(a, 0, sizeof(*a));
	ret = kc_agent_paths_init(&a->paths, root, err);
	if (ret < 0)
		return ret;
	ret = kc_conf_load(a->paths.conf, warn, warn_ctx, &a->conf, err);
	if (ret < 0)
		return kc_err_prefix(err, "%s", a->paths.conf);
	ret = copy_dir_url(a->repo_url, sizeof(a->repo_url), kc_conf_get(a->conf, "PATCH_SERVER"),
			   "PATCH_SERVER", err);
	if (ret == 0)
		ret = set_api_url(a, err);
	if (ret < 0) {
		kc_conf_free(a->conf);
		a->conf = NULL;
		return ret;
	}
	/* the documents spell the proxy keys both ways; the upper case wins */
	a->http_opts.https_proxy = kc_conf_is_set(a->conf, "HTTPS_PROXY")
				       ? kc_conf_get(a->conf, "HTTPS_PROXY")
				       : kc_conf_get(a->conf, "https_proxy");
	a->http_opts.http_proxy = kc_conf_is_set(a->conf, "HTTP_PROXY")
				      ? kc_conf_get(a->conf, "HTTP_PROXY")
				      : kc_conf_get(a->conf, "http_proxy");
	return 0;
}

void kc_agent_close(struct kc_agent *a)
{
	kc_http_free(a->http);
	kc_conf_free(a->conf);
	a->http = NULL;
	a->conf = NULL;
}

int kc_agent_http(struct kc_agent *a, struct kc_http **out, struct kc_err *err)
{
	if (!a->http) {
		int ret;

		a->http_opts.cancel = a->cancel;
		ret = kc_http_new(&a->http_opts, &a->http, err);
		if (ret < 0)
			return ret;
	}
	*out = a->http;
	return 0;
}

static int mkdir_p(char *path, mode_t mode)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int kc_agent_lock(struct kc_agent *a, double timeout, struct kc_err *err)
{
	struct timespec start, now, pause = {0, 20 * 1000 * 1000};
	int fd, ret;

	ret = mkdir_p(a->paths.state_dir, 0755);
	if (ret < 0)
		return kc_err_set(err, ret, "cannot create '%s': %s", a->paths.state_dir,
				  strerror(-ret));
	fd = open(a->paths.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", a->paths.lock,
				  strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ret = kc_err_set(err, -errno, "cannot lock '%s': %s", a->paths.lock,
					 strerror(errno));
			close(fd);
			return ret;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >= timeout ||
		    (a->cancel && *a->cancel)) {
			close(fd);
			return kc_err_set(err, -EWOULDBLOCK,
					  "another kcarectl is running (lock '%s' is held)",
					  a->paths.lock);
		}
		nanosleep(&pause, NULL);
	}
	return fd;
}

void kc_agent_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int kc_products_parse(const char *list, unsigned *mask, struct kc_err *err)
{
	const char *p = list ? list : "";

	*mask = 0;
	while (*p) {
		size_t len = strcspn(p, ", ");
		unsigned bit = 0;

		for (unsigned b = KC_PRODUCT_KERNEL; b <= KC_PRODUCT_DB; b <<= 1)
			if (strlen(kc_product_name(b)) == len &&
			    !strncmp(p, kc_product_name(b), len))
				bit = b;
		if (len > 0 && !bit)
			return kc_err_set(err, -EINVAL,
					  "unknown product '%.*s' (kernel, libs, qemu, db)",
					  (int)len, p);
		*mask |= bit;
		p += len;
		p += strspn(p, ", ");
	}
	return 0;
}

const char *kc_product_name(unsigned bit)
{
	switch (bit) {
	case KC_PRODUCT_KERNEL:
		return "kernel";
	case KC_PRODUCT_LIBS:
		return "libs";
	case KC_PRODUCT_QEMU:
		return "qemu";
	case KC_PRODUCT_DB:
		return "db";
	default:
		return NULL;
	}
}

int kc_agent_update_failed(const struct kc_agent *a, int ret, struct kc_err *err)
{
	switch (ret) {
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -ETIMEDOUT:
	case -ECONNRESET:
		kc_err_prefix(err, "cannot reach the patch server %s", a->repo_url);
		break;
	default:
		kc_err_prefix(err, "update from %s refused", a->repo_url);
		break;
	}
	return ret;
}
