/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build-ids of mapped files, cached by device and inode, so that a scan
 * of every process reads each library's build-id once (a file's content
 * cannot change while it stays the same inode that is mapped). Not
 * thread-safe; one cache per scan.
 */
#ifndef KCARE_BIDCACHE_H
#define KCARE_BIDCACHE_H

#include <sys/types.h>

#include "kcare/buildid.h"
#include "kcare/proc.h"

struct kc_bidcache;

struct kc_bidcache *kc_bidcache_new(void);
void kc_bidcache_free(struct kc_bidcache *c);

/*
 * The build-id of the file behind mapping @m of process @pid (len 0: not
 * ELF or none). Reads it through /proc/PID/map_files the first time.
 * -ENOENT if @m is not file-backed, -ENOMEM.
 */
int kc_bidcache_get(struct kc_bidcache *c, pid_t pid, const struct kc_proc_map *m,
		    struct kc_buildid *out, struct kc_err *err);

#endif
