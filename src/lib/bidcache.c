// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device+inode keyed build-id cache (see bidcache.h): an open
 * addressing hash table that only grows. Files that are not ELF, or have
 * no build-id, are cached too, so they are opened once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/bidcache.h"

struct entry {
	uint64_t dev;
	uint64_t inode; /* 0: free slot */
	struct kc_buildid id;
};

struct kc_bidcache {
	struct entry *v;
	size_t cap, n; /* cap is a power of two */
};

struct kc_bidcache *kc_bidcache_new(void)
{
	struct kc_bidcache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cap = 256;
	c->v = calloc(c->cap, sizeof(*c->v));
	if (!c->v) {
		free(c);
		return NULL;
	}
	return c;
}

void kc_bidcache_free(struct kc_bidcache *c)
{
	if (!c)
		return;
	free(c->v);
	free(c);
}

static size_t slot_of(const struct kc_bidcache *c, uint64_t dev, uint64_t inode)
{
	uint64_t h = (inode * 0x9e3779b97f4a7c15ull) ^ (dev * 0xc2b2ae3d27d4eb4full);
	size_t i = (size_t)(h ^ (h >> 29)) & (c->cap - 1);

	while (c->v[i].inode && (c->v[i].inode != inode || c->v[i].dev != dev))
		i = (i + 1) & (c->cap - 1);
	return i;
}

static int grow(struct kc_bidcache *c)
{
	struct kc_bidcache bigger = {calloc(c->cap * 2, sizeof(*c->v)), c->cap * 2, c->n};

	if (!bigger.v)
		return -ENOMEM;
	for (size_t i = 0; i < c->cap; i++)
		if (c->v[i].inode)
			bigger.v[slot_of(&bigger, c->v[i].dev, c->v[i].inode)] = c->v[i];
	free(c->v);
	*c = bigger;
	return 0;
}

int kc_bidcache_get(struct kc_bidcache *c, pid_t pid, const struct kc_proc_map *m,
		    struct kc_buildid *out, struct kc_err *err)
{
	uint64_t dev = (uint64_t)m->dev_major << 32 | m->dev_minor;
	char path[128];
	size_t i;

	if (!m->inode || m->path[0] != '/')
		return kc_err_set(err, -ENOENT, "not a file mapping");
	i = slot_of(c, dev, m->inode);
	if (c->v[i].inode) {
		*out = c->v[i].id;
		return 0;
	}
	if (2 * (c->n + 1) > c->cap) {
		if (grow(c) < 0)
			return kc_err_set(err, -ENOMEM, "out of memory");
		i = slot_of(c, dev, m->inode);
	}
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	if (kc_buildid_from_file(path, out, NULL) < 0)
		out->len = 0; /* not ELF, no build-id, or gone: remembered as such */
	c->v[i].dev = dev;
	c->v[i].inode = m->inode;
	c->v[i].id = *out;
	c->n++;
	return 0;
}
