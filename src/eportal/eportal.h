/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The patch server's library: one data directory (database, signing keys,
 * the published repository) and the model operations over it: feeds, keys,
 * servers and check-ins, users and API keys, patchsets and their per-feed
 * states, deploy and publish. The daemon (eportal) and the CLI (kc.eportal)
 * are thin fronts over these functions; HTTP handling is in http.h.
 *
 * Every operation is one database transaction: it either commits and
 * returns 0 (then it is durable) or changes nothing. Strings in the structs
 * below are fixed-size arrays so results own nothing but the arrays that
 * hold them (free those with free()).
 *
 * Error codes shared by the operations: -ENOENT no such object, -EEXIST
 * already exists, -EINVAL bad value (message says which), -ENOKEY unknown
 * registration key, -EDQUOT key's server limit reached, -EACCES refused
 * credentials or address, -EBUSY object still in use, -EPERM blocked.
 */
#ifndef KC_EPORTAL_EPORTAL_H
#define KC_EPORTAL_EPORTAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kcare/err.h"

struct kc_db;

#define KC_EP_NAME_MAX 64  /* feed names, user names */
#define KC_EP_KEY_LEN  32  /* registration keys and server ids, hex */
#define KC_EP_NOTE_MAX 255 /* notes, hostnames, versions */

/* The products a patchset belongs to, by name: kernel, libs, qemu, db. */
extern const char *const kc_ep_products[4];
int kc_ep_product_valid(const char *p);

struct kc_ep {
	char *dir;	/* owned: the data directory */
	char *repo_dir; /* owned: DIR/repo, served to agents */
	char *keys_dir; /* owned: DIR/keys */
	struct kc_db *db;
	pthread_mutex_t publish_lock; /* one publish at a time within a process */
	int64_t (*now)(void);	      /* clock; tests replace it */
	/*
	 * Group commit of check-ins (model-servers.c): callers queue under
	 * gc_lock; one of them (the leader) commits everything queued in one
	 * transaction while the others wait on gc_cond.
	 */
	pthread_mutex_t gc_lock;
	pthread_cond_t gc_cond;
	struct kc_ep_pending *gc_head, **gc_tail;
	int gc_leader;
	atomic_llong pw_checks; /* password hashes run by kc_ep_user_auth() (metrics) */
	/* bumped by every change of users: logins remembered before it are void */
	atomic_uint users_generation;
};

#define KC_EP_OPEN_NO_KEYS 0x1u /* do not create signing keys (tests of the model alone) */

/*
 * Opens the data directory @dir (created 0700 if missing) and the database:
 * @db_url, or DIR/eportal.db when NULL. Applies pending migrations. On
 * first start also creates the signing keys and publishes an empty
 * repository. Caller owns *out (kc_ep_close()).
 */
int kc_ep_open(const char *dir, const char *db_url, unsigned flags, struct kc_ep **out,
	       struct kc_err *err);
void kc_ep_close(struct kc_ep *ep);

/* Migrations (migrate.c). *@applied: how many ran now. */
int kc_ep_migrate(struct kc_db *db, int64_t *applied, struct kc_err *err);
int64_t kc_ep_schema_version(void);

/* Random lowercase hex of @nbytes bytes into @out (2 * nbytes + 1). */
void kc_ep_random_hex(char *out, size_t nbytes);

/* Name rules: [A-Za-z0-9_-][A-Za-z0-9._-]{0,63}. */
int kc_ep_name_valid(const char *s);

/* ---- feeds ---------------------------------------------------------- */

struct kc_ep_feed {
	char name[KC_EP_NAME_MAX + 1];
	int auto_update;	    /* 0/1; -1 in a change: keep */
	int64_t deploy_after_hours; /* >= 0; -1 in a change: keep */
	char channel[16];	    /* default|test|unstable; "" in a change: keep */
};

int kc_ep_feed_add(struct kc_ep *ep, const struct kc_ep_feed *f, struct kc_err *err);
int kc_ep_feed_change(struct kc_ep *ep, const struct kc_ep_feed *f, struct kc_err *err);
/* -EPERM for "main", -EBUSY while keys are bound to the feed. */
int kc_ep_feed_delete(struct kc_ep *ep, const char *name, struct kc_err *err);
int kc_ep_feed_list(struct kc_ep *ep, struct kc_ep_feed **out, size_t *n, struct kc_err *err);
int kc_ep_feed_get(struct kc_ep *ep, const char *name, struct kc_ep_feed *out, struct kc_err *err);

/* ---- registration keys --------------------------------------------- */

struct kc_ep_key {
	char key[KC_EP_KEY_LEN + 1];   /* "" in an add: generate */
	char feed[KC_EP_NAME_MAX + 1]; /* "" in an add: main */
	int64_t server_limit;	       /* 0: unlimited; -1 in a change: keep */
	char products[64];	       /* comma list; "" = all */
	char note[KC_EP_NOTE_MAX + 1]; /* free text */
	char sticky[16];	       /* "" or YYYY-MM-DD */
	char ip_range[64];	       /* "" or CIDR: IP-based registration */
	int64_t created, servers;      /* out only */
};

/* Which fields kc_ep_key_change() sets. */
#define KC_EP_KEY_FEED	   0x01u
#define KC_EP_KEY_LIMIT	   0x02u
#define KC_EP_KEY_PRODUCTS 0x04u
#define KC_EP_KEY_NOTE	   0x08u
#define KC_EP_KEY_STICKY   0x10u
#define KC_EP_KEY_IPRANGE  0x20u

int kc_ep_key_add(struct kc_ep *ep, struct kc_ep_key *k, struct kc_err *err);
int kc_ep_key_change(struct kc_ep *ep, const struct kc_ep_key *k, unsigned mask,
		     struct kc_err *err);
/* Deleting a key unregisters its servers. */
int kc_ep_key_delete(struct kc_ep *ep, const char *key, struct kc_err *err);
int kc_ep_key_list(struct kc_ep *ep, struct kc_ep_key **out, size_t *n, struct kc_err *err);
int kc_ep_key_get(struct kc_ep *ep, const char *key, struct kc_ep_key *out, struct kc_err *err);

/* Checks a key's fields (also used by the HTTP layer before a change). */
int kc_ep_key_validate(const struct kc_ep_key *k, unsigned mask, struct kc_err *err);

/* Nagios-style health of one key's servers. */
struct kc_ep_key_status {
	int64_t servers, updated, outdated, inactive, server_limit;
	int code; /* 0 OK, 1 WARNING, 2 CRITICAL */
};
int kc_ep_key_status(struct kc_ep *ep, const char *key, int64_t inactive_after,
		     struct kc_ep_key_status *st, struct kc_err *err);

/* ---- servers and check-ins ----------------------------------------- */

#define KC_EP_MAX_TAGS 16

/* What an agent reports; every pointer is borrowed, NULL means "not sent". */
struct kc_ep_checkin {
	const char *hostname, *ip, *kernel_id, *effective_version, *distro, *agent_version;
	int64_t patch_level; /* -1: no patch applied; -2: not sent (check-in keeps the old) */
	int64_t uptime;	     /* seconds; -1: not sent */
	const char *tags[KC_EP_MAX_TAGS];
	size_t ntags;
	int tags_set; /* tags replace the stored ones only when set */
};

struct kc_ep_server {
	char server_id[KC_EP_KEY_LEN + 1];
	char key[KC_EP_KEY_LEN + 1];
	char feed[KC_EP_NAME_MAX + 1];
	char products[64];
	char sticky[16];
	char hostname[KC_EP_NOTE_MAX + 1];
	char ip[64];
	char kernel_id[129];
	int64_t patch_level;
	int64_t latest_level; /* highest kernel level the feed has for the kernel, -1 none */
	char effective_version[KC_EP_NOTE_MAX + 1];
	char distro[KC_EP_NOTE_MAX + 1];
	int64_t uptime;
	char agent_version[64];
	int is_updated;
	int64_t registered, last_seen;
	char tags[KC_EP_MAX_TAGS * 33]; /* comma list */
};

/*
 * Recomputes every server's latest_level and is_updated in one transaction
 * (the daemon does at start: a database an older eportal filled).
 */
int kc_ep_servers_refresh(struct kc_ep *ep, struct kc_err *err);

/* Checks reported values (lengths, characters). -EINVAL. */
int kc_ep_checkin_validate(const struct kc_ep_checkin *c, struct kc_err *err);

/*
 * Registers a new server with @key, or by address when @key is NULL (a key
 * whose ip_range holds c->ip). -ENOKEY, -EDQUOT, -EACCES (no key for the
 * address). Fills *out.
 */
int kc_ep_register(struct kc_ep *ep, const char *key, const struct kc_ep_checkin *c,
		   struct kc_ep_server *out, struct kc_err *err);
/* Records a check-in of a registered server. -ENOENT if unknown. */
int kc_ep_checkin(struct kc_ep *ep, const char *server_id, const struct kc_ep_checkin *c,
		  struct kc_ep_server *out, struct kc_err *err);
int kc_ep_server_get(struct kc_ep *ep, const char *server_id, struct kc_ep_server *out,
		     struct kc_err *err);
int kc_ep_server_delete(struct kc_ep *ep, const char *server_id, struct kc_err *err);

struct kc_ep_server_filter {
	const char *hostname, *ip, *feed, *key, *tag; /* NULL: any; hostname may hold '*' */
	int64_t seen_before;			      /* 0: any; else last_seen < this */
	int64_t seen_after;			      /* 0: any; else last_seen >= this */
	int is_updated;				      /* -1 any, 0, 1 */
	int64_t limit, offset;			      /* limit 0: no limit */
};
#define KC_EP_SERVER_FILTER_INIT                                                                   \
	{                                                                                          \
		.is_updated = -1                                                                   \
	}

/* *@total (may be NULL): matches ignoring limit/offset. Caller frees *out. */
int kc_ep_server_list(struct kc_ep *ep, const struct kc_ep_server_filter *f,
		      struct kc_ep_server **out, size_t *n, int64_t *total, struct kc_err *err);
/* Deletes servers last seen before @seen_before; returns how many (>= 0). */
int64_t kc_ep_server_clean(struct kc_ep *ep, int64_t seen_before, struct kc_err *err);

struct kc_ep_tag {
	char tag[33];
	int64_t servers;
};
int kc_ep_tag_list(struct kc_ep *ep, struct kc_ep_tag **out, size_t *n, struct kc_err *err);

/* ---- users and API keys ------------------------------------------- */

struct kc_ep_user {
	char name[KC_EP_NAME_MAX + 1];
	int readonly;
	int64_t created;
};
int kc_ep_user_add(struct kc_ep *ep, const char *name, const char *password, int readonly,
		   struct kc_err *err);
int kc_ep_user_passwd(struct kc_ep *ep, const char *name, const char *password, struct kc_err *err);
int kc_ep_user_delete(struct kc_ep *ep, const char *name, struct kc_err *err);
int kc_ep_user_list(struct kc_ep *ep, struct kc_ep_user **out, size_t *n, struct kc_err *err);
/*
 * 0 and *readonly when @password is right; -EACCES otherwise. An unknown
 * user costs the same password hash as a known one (against a dummy hash),
 * so the time of a refusal does not tell which names exist. Slow on
 * purpose (argon2id, 64 MiB): the HTTP front runs it off its request threads.
 */
int kc_ep_user_auth(struct kc_ep *ep, const char *name, const char *password, int *readonly,
		    struct kc_err *err);

#define KC_EP_APIKEY_LEN 48 /* hex characters of a token */
struct kc_ep_apikey {
	int64_t id;
	char prefix[9]; /* first 8 characters, to tell keys apart */
	int readonly;
	char note[KC_EP_NOTE_MAX + 1];
	int64_t created;
};
/* Creates a token; only its sha256 is stored. @token receives it (KC_EP_APIKEY_LEN + 1). */
int kc_ep_apikey_add(struct kc_ep *ep, int readonly, const char *note, char *token,
		     struct kc_err *err);
int kc_ep_apikey_auth(struct kc_ep *ep, const char *token, int *readonly, struct kc_err *err);
int kc_ep_apikey_list(struct kc_ep *ep, struct kc_ep_apikey **out, size_t *n, struct kc_err *err);
int kc_ep_apikey_delete(struct kc_ep *ep, int64_t id, struct kc_err *err);

/* ---- patchsets ------------------------------------------------------ */

enum kc_ep_ps_action {
	KC_EP_ENABLE,
	KC_EP_DISABLE,
	KC_EP_ENABLE_UP_TO,
	KC_EP_UNDEPLOY_DOWN_TO,
	KC_EP_BLOCK,
	KC_EP_UNDEPLOY,
};
/* "enable", "disable", "enable-up-to", "undeploy-down-to", "block", "undeploy". */
int kc_ep_ps_action_parse(const char *s, enum kc_ep_ps_action *a);

struct kc_ep_patchset {
	char name[KC_EP_NAME_MAX + 1];
	char product[16];
	int64_t released, created;
	char state[16]; /* in the feed asked about: enabled, disabled, undeployed, blocked */
	int64_t npatches;
	char origin[KC_EP_NOTE_MAX + 1]; /* "" for an uploaded archive */
};

/* Patchsets known to the server with their state in @feed; @product may be NULL. */
int kc_ep_patchset_list(struct kc_ep *ep, const char *feed, const char *product,
			struct kc_ep_patchset **out, size_t *n, struct kc_err *err);

/*
 * Changes patchset states in @feed and republishes. enable-up-to enables
 * every patchset of the same product released up to @name (blocked ones
 * stay blocked); undeploy-down-to undeploys every one released after it.
 */
int kc_ep_patchset_action(struct kc_ep *ep, const char *feed, const char *name,
			  enum kc_ep_ps_action a, struct kc_err *err);

/*
 * Deploys an archive (path) into @feed (NULL: main): reads it with the
 * patchset reader, checks it is for @product when not NULL, stores every
 * patch as an immutable blob (written and fsync'd before the rows that name
 * it), records the patchset and its state (enabled, or disabled when
 * @disabled) and republishes. Deploying the same patchset again only sets
 * its state; a different archive under a known name is -EEXIST.
 * @name receives the patchset name (KC_EP_NAME_MAX + 1), may be NULL.
 */
int kc_ep_deploy(struct kc_ep *ep, const char *path, const char *product, const char *feed,
		 int disabled, char *name, struct kc_err *err);
int kc_ep_deploy_mem(struct kc_ep *ep, const void *buf, size_t len, const char *product,
		     const char *feed, int disabled, char *name, struct kc_err *err);

/*
 * Feed policy (autoupdate.c). kc_ep_update(): takes new patchsets from the
 * upstream when one is set (mirror.c), then enables in @feed (NULL: main)
 * every patchset of @product that is not blocked or disabled there.
 * kc_ep_auto_update(): the same for every feed with auto-update, limited to
 * patchsets released at least the feed's deploy-after hours ago. *@enabled:
 * how many patchset states changed. Both republish.
 */
int kc_ep_update(struct kc_ep *ep, const char *product, const char *feed, int64_t *enabled,
		 struct kc_err *err);
int kc_ep_auto_update(struct kc_ep *ep, const char *product, int64_t *enabled, struct kc_err *err);

/*
 * Mirroring (mirror.c): the upstream is another eportal, followed through its
 * signed metadata (feed "main" there) with a trust state in DIR/upstream/.
 * kc_ep_mirror_set() stores the URL and starts trust from @root_pub_path
 * (the upstream's root.pub). kc_ep_mirror_fetch() downloads patchsets of
 * @product (NULL: all) not held yet and stores them without enabling them
 * anywhere; *@added counts them. -ENOENT when no upstream is set.
 */
int kc_ep_mirror_set(struct kc_ep *ep, const char *url, const char *root_pub_path,
		     struct kc_err *err);
int kc_ep_mirror_fetch(struct kc_ep *ep, const char *product, int64_t *added, struct kc_err *err);

/* backup.c: SQLite data directories only (-EOPNOTSUPP for PostgreSQL). */
int kc_ep_backup(struct kc_ep *ep, const char *file, struct kc_err *err);
/* Unpacks @file into @dir, which must not hold a database yet. */
int kc_ep_restore(const char *dir, const char *file, struct kc_err *err);

/* Re-signs and writes the repository from the database (publish.c). */
int kc_ep_publish(struct kc_ep *ep, struct kc_err *err);
/* Re-signs the timestamp and whatever is due (call periodically). */
int kc_ep_refresh(struct kc_ep *ep, struct kc_err *err);

/* Settings: small named values (mirror upstream, ...). *@out "" when unset. */
int kc_ep_setting_get(struct kc_ep *ep, const char *name, char *out, size_t outsz,
		      struct kc_err *err);
int kc_ep_setting_set(struct kc_ep *ep, const char *name, const char *value, struct kc_err *err);

#endif
