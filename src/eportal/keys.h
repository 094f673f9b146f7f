/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The server's signing keys in DIR/keys: the root key (root.key, 0600; its
 * public half root.pub is what agents import) and the online timestamp,
 * snapshot and targets keys the server signs its feeds with. Created on the
 * first start together with root version 1; rotated by `kc.eportal keys rotate`.
 */
#ifndef KC_EPORTAL_KEYS_H
#define KC_EPORTAL_KEYS_H

#include "kcare/trust.h"

struct kc_ep;

struct kc_ep_online_keys {
	struct kc_trust_key timestamp, snapshot, targets;
};

/* keys-lifecycle.c */

/* Creates keys and root on a fresh DIR (under a lock); a no-op when they exist. */
int kc_ep_keys_init(struct kc_ep *ep, struct kc_err *err);

/* keys.c: the key files */

/* Loads the online keys; wipe with kc_ep_keys_wipe(). */
int kc_ep_keys_load(struct kc_ep *ep, struct kc_ep_online_keys *k, struct kc_err *err);
void kc_ep_keys_wipe(struct kc_ep_online_keys *k);

/* Path of the public root key file into @buf. */
int kc_ep_root_pub_path(struct kc_ep *ep, char *buf, size_t bufsz, struct kc_err *err);

/*
 * New online keys (and a new root key when @root), a new root version signed
 * by the old root key (and the new one), then a republish with the new keys.
 * -ENOKEY when root.key is not in DIR/keys (kept offline: put it back first).
 * *@version receives the new root version.
 */
int kc_ep_keys_rotate(struct kc_ep *ep, int root, uint64_t *version, struct kc_err *err);

/* DIR/keys/@name.@ext into @buf. */
int kc_ep_key_path(struct kc_ep *ep, const char *name, const char *ext, char *buf, size_t sz,
		   struct kc_err *err);
int kc_ep_key_exists(const char *path);
/* Loads DIR/keys/@name.key, generating and saving it first when missing. */
int kc_ep_key_load_or_make(struct kc_ep *ep, const char *name, struct kc_trust_key *k,
			   struct kc_err *err);
/* Root metadata listing @root and the online keys @k, valid for a year from @now. */
void kc_ep_root_desc(struct kc_trust_root_desc *d, const struct kc_trust_pubkey *root,
		     const struct kc_ep_online_keys *k, int64_t now);
/* Exclusive lock of the key files (flock); returns the fd to close. */
int kc_ep_keys_lock(struct kc_ep *ep, struct kc_err *err);

#endif
