/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading /proc for one process: its memory map (/proc/PID/maps), its
 * threads (/proc/PID/task), its name (/proc/PID/comm), and the list of all
 * processes. Text parsing only; nothing here stops or attaches to a process,
 * so every answer is a snapshot that may be stale by the time it is used.
 */
#ifndef KCARE_PROC_H
#define KCARE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kcare/err.h"

struct kc_proc_map {
	uint64_t start, end, offset;
	unsigned prot; /* PROT_READ | PROT_WRITE | PROT_EXEC */
	bool shared;   /* 's' flag */
	unsigned dev_major, dev_minor;
	uint64_t inode;
	bool deleted; /* path had " (deleted)", which is stripped from path */
	char *path;   /* owned; "" anonymous, "[vdso]", "[heap]", "[stack]"... */
};

struct kc_proc_maps {
	struct kc_proc_map *v; /* owned, in the order of the file (ascending addresses) */
	size_t n;
	pid_t tid; /* whose view was read: the pid, or a live thread (see kc_proc_mm_tid()) */
};

/*
 * Parses the text of /proc/PID/maps (not NUL-terminated, @len bytes) into
 * @out, which the caller releases with kc_proc_maps_release() on success
 * (on failure @out is left empty). -EINVAL on a malformed line.
 */
int kc_proc_maps_parse(const char *text, size_t len, struct kc_proc_maps *out, struct kc_err *err);

/*
 * Reads and parses /proc/PID/maps (through a live thread when the leader
 * is a zombie). -ESRCH if the process is gone; a kernel thread has no maps.
 */
int kc_proc_maps_read(pid_t pid, struct kc_proc_maps *out, struct kc_err *err);

/*
 * The thread through which the address space of process @pid is reached:
 * @pid itself, or a live thread of it when the thread-group leader is a
 * zombie (it called pthread_exit() while other threads run on). The
 * leader's own maps, mem, auxv, exe and map_files show no memory then, and
 * process_vm_readv() on its pid fails. @pid when no thread is alive.
 */
pid_t kc_proc_mm_tid(pid_t pid);

/* Frees the entries and empties @m; safe on an empty or released @m. */
void kc_proc_maps_release(struct kc_proc_maps *m);

/* The mapping containing @addr, or NULL (binary search; borrowed pointer). */
const struct kc_proc_map *kc_proc_maps_find(const struct kc_proc_maps *m, uint64_t addr);

/*
 * Thread ids from /proc/PID/task, sorted ascending; caller frees *tids.
 * -ESRCH if the process is gone.
 */
int kc_proc_tids(pid_t pid, pid_t **tids, size_t *n, struct kc_err *err);

/*
 * The executable of a process we may consider at all (not the caller, not a
 * kernel thread) into @exe, without a " (deleted)" suffix; read through a
 * live thread when the leader is a zombie. false when there is none.
 */
bool kc_proc_exe(pid_t pid, char *exe, size_t size);

/* All process ids in /proc (numeric entries), sorted, excluding the caller itself; caller frees. */
int kc_proc_pids(pid_t **pids, size_t *n, struct kc_err *err);

/* /proc/PID/comm without the newline (truncated to @size - 1). -ESRCH if the process is gone. */
int kc_proc_comm(pid_t pid, char *buf, size_t size, struct kc_err *err);

/*
 * Reads /proc/PID/auxv and returns the value of entry @type (AT_PHDR, AT_ENTRY,
 * AT_SYSINFO_EHDR...) in *val. -ENOENT if absent (also for kernel threads), -ESRCH if the
 * process is gone.
 */
int kc_proc_auxv(pid_t pid, uint64_t type, uint64_t *val, struct kc_err *err);

#endif
