// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lifecycle of the signing keys, which ends in a publish each time.
 * Creation is idempotent and ordered so that a crash at any point is
 * finished by the next start: each missing key file is generated and saved
 * (atomic, 0600), then root version 1 is written if the repository has
 * none, then a first publish if there is no timestamp. A rotation saves the
 * new keys as *.next, writes the new root (signed by the old root key and,
 * for a root rotation, the new one), then renames the *.next files over the
 * old ones.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eportal/eportal.h"
#include "eportal/keys.h"

/*
 * A rotation killed after it wrote the new root but before it renamed the
 * *.next key files leaves a root that lists keys the server does not sign
 * with: then the *.next files are the real keys. Killed before the root was
 * written, the *.next files are unused and go away. Publishing with the
 * current keys tells the two cases apart (the writer checks the keys
 * against the newest root).
 */
static int finish_rotation(struct kc_ep *ep, struct kc_err *err)
{
	static const char *const names[4] = {"timestamp", "snapshot", "targets", "root"};
	char path[4096], next[4096];
	int found = 0, r;

	for (int i = 0; i < 4; i++) {
		kc_ep_key_path(ep, names[i], "key.next", next, sizeof(next), NULL);
		found |= kc_ep_key_exists(next);
	}
	if (!found)
		return 0;
	r = kc_ep_publish(ep, err);
	for (int i = 0; i < 4; i++) {
		kc_ep_key_path(ep, names[i], "key.next", next, sizeof(next), NULL);
		kc_ep_key_path(ep, names[i], "key", path, sizeof(path), NULL);
		if (!kc_ep_key_exists(next))
			continue;
		if (r == -EKEYREJECTED) {
			if (rename(next, path) < 0)
				return kc_err_set(err, -errno, "cannot rename '%s': %s", next,
						  strerror(errno));
		} else {
			unlink(next);
		}
	}
	if (r == -EKEYREJECTED) {
		struct kc_trust_key root;
		kc_err_clear(err);
		/* the root key may have been rotated too: its public half follows */
		kc_ep_key_path(ep, "root", "key", path, sizeof(path), NULL);
		if (kc_trust_key_load(path, &root, err) == 0) {
			kc_ep_key_path(ep, "root", "pub", path, sizeof(path), NULL);
			r = kc_trust_pubkey_save(&root.pub, path, err);
			kc_trust_key_wipe(&root);
			if (r < 0)
				return r;
		}
		r = kc_ep_publish(ep, err);
	}
	return r;
}

int kc_ep_keys_init(struct kc_ep *ep, struct kc_err *err)
{
	struct kc_ep_online_keys k;
	struct kc_trust_key root;
	struct kc_trust_root_desc d;
	char path[4096];
	int fd, r;

	snprintf(path, sizeof(path), "%s/timestamp.json", ep->repo_dir);
	if (kc_ep_key_exists(path)) {
		/* the usual start: everything was made before */
		fd = kc_ep_keys_lock(ep, err);
		if (fd < 0)
			return fd;
		r = finish_rotation(ep, err);
		close(fd);
		return r;
	}
	fd = kc_ep_keys_lock(ep, err);
	if (fd < 0)
		return fd;
	memset(&k, 0, sizeof(k));
	memset(&root, 0, sizeof(root));
	r = kc_ep_key_load_or_make(ep, "root", &root, err);
	if (r == 0)
		r = kc_ep_key_load_or_make(ep, "timestamp", &k.timestamp, err);
	if (r == 0)
		r = kc_ep_key_load_or_make(ep, "snapshot", &k.snapshot, err);
	if (r == 0)
		r = kc_ep_key_load_or_make(ep, "targets", &k.targets, err);
	if (r == 0)
		r = kc_ep_key_path(ep, "root", "pub", path, sizeof(path), err);
	if (r == 0 && !kc_ep_key_exists(path))
		r = kc_trust_pubkey_save(&root.pub, path, err);
	snprintf(path, sizeof(path), "%s/root.json", ep->repo_dir);
	if (r == 0 && !kc_ep_key_exists(path)) {
		const struct kc_trust_key *signers[1] = {&root};
		kc_ep_root_desc(&d, &root.pub, &k, ep->now());
		r = kc_trust_repo_write_root(ep->repo_dir, &d, signers, 1, NULL, err);
	}
	kc_trust_key_wipe(&root);
	kc_ep_keys_wipe(&k);
	if (r == 0)
		r = kc_ep_publish(ep, err);
	close(fd);
	if (r < 0)
		kc_err_prefix(err, "cannot create signing keys in '%s'", ep->keys_dir);
	return r;
}

int kc_ep_keys_rotate(struct kc_ep *ep, int rotate_root, uint64_t *version, struct kc_err *err)
{
	struct kc_ep_online_keys k;
	struct kc_trust_key old_root, new_root;
	struct kc_trust_root_desc d;
	struct kc_trust_key *keys[4] = {&k.timestamp, &k.snapshot, &k.targets, &new_root};
	const char *names[4] = {"timestamp", "snapshot", "targets", "root"};
	int n = rotate_root ? 4 : 3;
	char path[4096], next[4096];
	int fd, r;

	memset(&k, 0, sizeof(k));
	memset(&new_root, 0, sizeof(new_root));
	memset(&old_root, 0, sizeof(old_root));
	r = kc_ep_key_path(ep, "root", "key", path, sizeof(path), err);
	if (r < 0)
		return r;
	if (!kc_ep_key_exists(path))
		return kc_err_set(
		    err, -ENOKEY,
		    "root key '%s' is not present (copy it back from offline storage)", path);
	fd = kc_ep_keys_lock(ep, err);
	if (fd < 0)
		return fd;
	r = kc_trust_key_load(path, &old_root, err);
	for (int i = 0; i < n && r == 0; i++) {
		r = kc_trust_key_generate(keys[i], err);
		if (r == 0)
			r = kc_ep_key_path(ep, names[i], "key.next", next, sizeof(next), err);
		if (r == 0)
			r = kc_trust_key_save(keys[i], next, err);
	}
	if (r == 0) {
		const struct kc_trust_key *signers[2] = {&old_root, &new_root};
		kc_ep_root_desc(&d, rotate_root ? &new_root.pub : &old_root.pub, &k, ep->now());
		r = kc_trust_repo_write_root(ep->repo_dir, &d, signers, rotate_root ? 2 : 1,
					     version, err);
	}
	for (int i = 0; i < n && r == 0; i++) {
		r = kc_ep_key_path(ep, names[i], "key.next", next, sizeof(next), err);
		if (r == 0)
			r = kc_ep_key_path(ep, names[i], "key", path, sizeof(path), err);
		if (r == 0 && rename(next, path) < 0)
			r = kc_err_set(err, -errno, "cannot rename '%s': %s", next,
				       strerror(errno));
	}
	if (r == 0 && rotate_root) {
		r = kc_ep_key_path(ep, "root", "pub", path, sizeof(path), err);
		if (r == 0)
			r = kc_trust_pubkey_save(&new_root.pub, path, err);
	}
	kc_trust_key_wipe(&old_root);
	kc_trust_key_wipe(&new_root);
	kc_ep_keys_wipe(&k);
	if (r == 0)
		r = kc_ep_publish(ep, err);
	close(fd);
	return r;
}
