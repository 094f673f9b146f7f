// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The key files of the data directory (keys.h): where each lives, loading
 * them (or generating a missing one), the root description they make, and
 * the lock that serialises changes to them. Their lifecycle, which
 * publishes, is keys-lifecycle.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "eportal/eportal.h"
#include "eportal/keys.h"

#define ROOT_TTL (365 * 24 * 3600)

static const char *const online_names[3] = {"timestamp", "snapshot", "targets"};

int kc_ep_key_path(struct kc_ep *ep, const char *name, const char *ext, char *buf, size_t sz,
		   struct kc_err *err)
{
	if ((size_t)snprintf(buf, sz, "%s/%s.%s", ep->keys_dir, name, ext) >= sz)
		return kc_err_set(err, -ENAMETOOLONG, "path too long under '%s'", ep->keys_dir);
	return 0;
}

int kc_ep_key_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int kc_ep_key_load_or_make(struct kc_ep *ep, const char *name, struct kc_trust_key *k,
			   struct kc_err *err)
{
	char path[4096];
	int r = kc_ep_key_path(ep, name, "key", path, sizeof(path), err);

	if (r < 0)
		return r;
	if (kc_ep_key_exists(path))
		return kc_trust_key_load(path, k, err);
	r = kc_trust_key_generate(k, err);
	if (r == 0)
		r = kc_trust_key_save(k, path, err);
	return r;
}

void kc_ep_root_desc(struct kc_trust_root_desc *d, const struct kc_trust_pubkey *root,
		     const struct kc_ep_online_keys *k, int64_t now)
{
	memset(d, 0, sizeof(*d));
	d->roles[KC_TRUST_ROOT] = (struct kc_trust_role_keys){root, 1, 1};
	d->roles[KC_TRUST_TIMESTAMP] = (struct kc_trust_role_keys){&k->timestamp.pub, 1, 1};
	d->roles[KC_TRUST_SNAPSHOT] = (struct kc_trust_role_keys){&k->snapshot.pub, 1, 1};
	d->roles[KC_TRUST_TARGETS] = (struct kc_trust_role_keys){&k->targets.pub, 1, 1};
	d->expires = now + ROOT_TTL;
}

void kc_ep_keys_wipe(struct kc_ep_online_keys *k)
{
	kc_trust_key_wipe(&k->timestamp);
	kc_trust_key_wipe(&k->snapshot);
	kc_trust_key_wipe(&k->targets);
}

int kc_ep_keys_load(struct kc_ep *ep, struct kc_ep_online_keys *k, struct kc_err *err)
{
	struct kc_trust_key *dst[3] = {&k->timestamp, &k->snapshot, &k->targets};
	char path[4096];
	int r = 0;

	memset(k, 0, sizeof(*k));
	for (int i = 0; i < 3 && r == 0; i++) {
		r = kc_ep_key_path(ep, online_names[i], "key", path, sizeof(path), err);
		if (r == 0)
			r = kc_trust_key_load(path, dst[i], err);
	}
	if (r < 0)
		kc_ep_keys_wipe(k);
	return r;
}

int kc_ep_root_pub_path(struct kc_ep *ep, char *buf, size_t bufsz, struct kc_err *err)
{
	int r = kc_ep_key_path(ep, "root", "pub", buf, bufsz, err);

	if (r == 0 && !kc_ep_key_exists(buf))
		return kc_err_set(err, -ENOENT, "no public root key '%s'", buf);
	return r;
}

int kc_ep_keys_lock(struct kc_ep *ep, struct kc_err *err)
{
	char path[4096];
	int fd, r = kc_ep_key_path(ep, ".lock", "init", path, sizeof(path), err);

	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return kc_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (flock(fd, LOCK_EX) < 0) {
		r = -errno;
		close(fd);
		return kc_err_set(err, r, "cannot lock '%s': %s", path, strerror(-r));
	}
	return fd;
}
