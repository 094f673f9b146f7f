/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every kcarectl command shares, whatever it patches (kernel or
 * userspace): the file layout under an optional root prefix, the loaded
 * config, the HTTP options it implies, the registration with the patch
 * server, and the choice of patchsets from verified feed entries (feed,
 * delay prefix, sticky date, products).
 */
#ifndef KCARE_AGENT_H
#define KCARE_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kcare/conf.h"
#include "kcare/err.h"
#include "kcare/http.h"

#define KC_AGENT_PATH_MAX 4096

/*
 * Every file the agent reads or writes, under @root ("" for /). Tests and
 * containers move the whole tree with --root or KCARE_ROOT.
 */
struct kc_agent_paths {
	char root[KC_AGENT_PATH_MAX];
	char conf[KC_AGENT_PATH_MAX];	      /* /etc/sysconfig/kcare/kcare.conf */
	char systemid[KC_AGENT_PATH_MAX];     /* /etc/sysconfig/kcare/systemid: server_id=... */
	char state_dir[KC_AGENT_PATH_MAX];    /* /var/lib/kcare */
	char registration[KC_AGENT_PATH_MAX]; /* /var/lib/kcare/registration.json: last server reply
					       */
	char trust_dir[KC_AGENT_PATH_MAX];    /* /var/lib/kcare/trust (trust.h state) */
	char cache_dir[KC_AGENT_PATH_MAX];    /* /var/cache/kcare */
	char user_cache[KC_AGENT_PATH_MAX];   /* /var/cache/kcare/userspace */
	char user_blobs[KC_AGENT_PATH_MAX];   /* /var/cache/kcare/userspace/patches */
	char user_selected[KC_AGENT_PATH_MAX];	/* /var/cache/kcare/userspace/selected.json */
	char cvelist[KC_AGENT_PATH_MAX];	/* /var/cache/kcare/libcare_cvelist */
	char blacklist_pkg[KC_AGENT_PATH_MAX];	/* /var/lib/libcare/blacklist */
	char blacklist_user[KC_AGENT_PATH_MAX]; /* /var/cache/kcare/userspace/blacklist */
	char lock[KC_AGENT_PATH_MAX];		/* /var/lib/kcare/kcarectl.lock */
};

/* Fills @p for @root (NULL or "" = /). -ENAMETOOLONG if a path does not fit. */
int kc_agent_paths_init(struct kc_agent_paths *p, const char *root, struct kc_err *err);

/* "ROOT" + @abs (an absolute path) into @out; for paths not in the struct. */
int kc_agent_path(const struct kc_agent_paths *p, const char *abs, char *out, size_t size,
		  struct kc_err *err);

/*
 * One kcarectl run: paths, config and the HTTP client made from it. Open
 * reads the config (warnings go to @warn); the HTTP client is made on first
 * use.
 */
struct kc_agent {
	struct kc_agent_paths paths;
	struct kc_conf *conf;
	struct kc_http_opts http_opts;
	struct kc_http *http;	    /* NULL until kc_agent_http() */
	const volatile int *cancel; /* SIGINT/SIGTERM flag of the front end, may be NULL */
	const char *sysroot; /* where /proc and /sys are for the kernel side (NULL: /), borrowed */
	char repo_url[1024]; /* PATCH_SERVER, ending in '/' ("" if unset) */
	char api_url[1024];  /* REGISTRATION_URL, or derived from PATCH_SERVER */
};

int kc_agent_open(struct kc_agent *a, const char *root, kc_conf_warn_fn warn, void *warn_ctx,
		  struct kc_err *err);
void kc_agent_close(struct kc_agent *a);
int kc_agent_http(struct kc_agent *a, struct kc_http **out, struct kc_err *err);

/*
 * Says why a metadata update from the patch server failed (@ret its
 * error): "cannot reach the patch server URL" when the network failed (a
 * server that is down is not one that refused us), "update from URL
 * refused" when what came back did not verify. Returns @ret.
 */
int kc_agent_update_failed(const struct kc_agent *a, int ret, struct kc_err *err);

/*
 * Takes the agent's lock (flock of paths.lock, created if needed): two
 * kcarectl runs that change state never overlap. Waits up to @timeout
 * seconds, then -EWOULDBLOCK. Returns the fd to pass to kc_agent_unlock().
 */
int kc_agent_lock(struct kc_agent *a, double timeout, struct kc_err *err);
void kc_agent_unlock(int fd);

/* Registration with the patch server (its agent API, docs/eportal-api.md). */

#define KC_PRODUCT_KERNEL 0x1u
#define KC_PRODUCT_LIBS	  0x2u
#define KC_PRODUCT_QEMU	  0x4u
#define KC_PRODUCT_DB	  0x8u
#define KC_PRODUCT_USER	  (KC_PRODUCT_LIBS | KC_PRODUCT_QEMU | KC_PRODUCT_DB)

/* "libs,qemu" -> mask; -EINVAL naming an unknown product. "" gives 0. */
int kc_products_parse(const char *list, unsigned *mask, struct kc_err *err);
/* Bit -> "kernel", "libs", "qemu", "db"; NULL for anything else. */
const char *kc_product_name(unsigned bit);

/* What the server said at the last register, check-in or license call. */
struct kc_reg {
	char server_id[129];
	char feed[65];
	char sticky[11]; /* "" or YYYY-MM-DD: the key's sticky date */
	unsigned products;
	bool is_updated;
	char repo[1024]; /* the server's repository URL as it sees itself ("" if not sent) */
};

/* The saved registration: -ENOENT when the host is not registered. */
int kc_reg_load(const struct kc_agent *a, struct kc_reg *r, struct kc_err *err);

/*
 * Registers with @key (NULL: IP-based registration) and saves the server id
 * (systemid, 0600) and the reply (registration.json). Errors carry the
 * server's message ("key has reached its limit of 2 servers").
 */
int kc_reg_register(struct kc_agent *a, const char *key, struct kc_reg *r, struct kc_err *err);

/* Checks in (hostname, uptime, tags, ...); refreshes registration.json. */
int kc_reg_checkin(struct kc_agent *a, struct kc_reg *r, struct kc_err *err);

/* Unregisters at the server and forgets the server id (also when the server no longer knows it). */
int kc_reg_unregister(struct kc_agent *a, struct kc_err *err);

/* The license as the server describes it (JSON object, caller puts it). */
struct json_object;
int kc_reg_license(struct kc_agent *a, struct json_object **out, struct kc_err *err);

/* Choosing patches from verified feed entries. */

/* The feed and product selection for this run, from the config, the command line and the
 * registration. */
struct kc_feed_choice {
	char feed[65]; /* feed file to read: the registration's feed, or PREFIX naming a feed */
	int64_t delay_seconds; /* PREFIX=12h/24h/48h (any N h): skip patchsets younger than this */
	int64_t sticky_until; /* STICKY_PATCH: only patchsets released before this time; 0 = none */
	char sticky_date[11]; /* the sticky day as YYYY-MM-DD, for messages ("" = none) */
};

/*
 * Works out the choice. @prefix overrides PREFIX (NULL: from the config);
 * @reg may be NULL (not registered: feed "main", STICKY_PATCH=KEY has no
 * date). STICKY_PATCH is "", "KEY" (the key's date from the server), DDMMYY
 * or DDMMYYYY; a bad value is -EINVAL with a one-line reason.
 */
int kc_feed_choice_make(const struct kc_agent *a, const char *prefix, const struct kc_reg *reg,
			struct kc_feed_choice *fc, struct kc_err *err);

/*
 * The opening of every update from the patch server: the feed chosen for
 * this host (@prefix as for kc_feed_choice_make) and the trust client
 * brought up to date, over the agent's HTTP, for the @n @products of that
 * feed. Then the caller reads u->tc's feed files, fetches blobs through
 * &u->repo and calls kc_feed_update_close(). @n == 0 only makes the choice
 * (u->tc stays NULL). Errors say what to do (no PATCH_SERVER, no root key),
 * and a refused or failed update is recorded by kc_agent_update_failed().
 */
struct kc_trust_client;
struct kc_feed_update {
	struct kc_feed_choice fc;
	struct kc_trust_client *tc;
	struct kc_http_repo repo;
	int64_t now;
};
int kc_feed_update_open(struct kc_agent *a, const char *prefix, const char *const *products,
			size_t n, struct kc_feed_update *u, struct kc_err *err);
void kc_feed_update_close(struct kc_feed_update *u);

/* One chosen patch: the newest level of its (build-id, id) within the choice. */
struct kc_trust_target;
struct kc_chosen {
	const struct kc_trust_target *target; /* borrowed from the trust client */
	const char *patchset, *product, *build_id, *id, *target_name, *description;
	uint32_t level;
	int64_t released;
	struct json_object *cves; /* array, borrowed */
};

struct kc_choice_result {
	struct kc_chosen *v;
	size_t n;
	size_t held_back;	     /* entries left out by the delay or the sticky date */
	const char *newest_patchset; /* newest patchset chosen, NULL if none */
};

/*
 * Chooses among @n verified entries of one feed file of @kind ("user" or
 * "module"): entries released at or before the cut-off (now - delay, and
 * before sticky_until), keeping for each (build-id, id) the highest level.
 * Entries with missing or mistyped fields are -EBADMSG: the server signed
 * them, so they are a server bug worth stopping for.
 */
int kc_choose(const struct kc_trust_target *t, size_t n, const char *kind,
	      const struct kc_feed_choice *fc, int64_t now, struct kc_choice_result *out,
	      struct kc_err *err);
void kc_choice_result_free(struct kc_choice_result *r);

#endif
