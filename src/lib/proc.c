// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc text parsing: maps, task list, pid list, comm, auxv. Reads whole
 * files into memory first (procfs files have no useful size, so grow a
 * buffer) and parses from the buffer, which keeps the parser a pure
 * function that the fuzzer can drive. No attach, no ptrace here.
 */
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kcare/conf.h"
#include "kcare/proc.h"

/* procfs files say size 0; maps of a big process run to megabytes */
#define PROC_FILE_MAX ((size_t)256 << 20)

/* A whole procfs file, NUL-terminated (caller frees *buf). Returns 0 or -errno. */
static int proc_slurp(const char *path, char **buf, size_t *len)
{
	return kc_file_read_all(path, PROC_FILE_MAX, buf, len, NULL);
}

/* A vanished process shows up as ENOENT (directory gone) or ESRCH (reading a dying one). */
static int proc_gone_code(int code)
{
	return code == -ENOENT || code == -ESRCH ? -ESRCH : code;
}

/* Exited (zombie or dead) or gone, from the state letter of a stat file. */
static bool proc_stat_is_dead(const char *path)
{
	char *text = NULL, *paren;
	size_t len = 0;
	bool dead = true;

	if (proc_slurp(path, &text, &len) != 0)
		return true;
	/* "pid (comm) S ...": comm may hold anything, so look after its last ')'. */
	paren = len ? memrchr(text, ')', len) : NULL;
	if (paren && (size_t)(paren - text) + 2 < len)
		dead = paren[2] == 'Z' || paren[2] == 'X' || paren[2] == 'x';
	free(text);
	return dead;
}

static bool proc_is_dead(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return proc_stat_is_dead(path);
}

static bool maps_hex(const char **p, const char *end, uint64_t *val)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || !isxdigit((unsigned char)*s))
		return false;
	while (s < end && isxdigit((unsigned char)*s)) {
		int d =
		    isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);

		if (v >> 60)
			return false; /* would overflow 64 bits */
		v = v << 4 | (uint64_t)d;
		s++;
	}
	*p = s;
	*val = v;
	return true;
}

static bool maps_dec(const char **p, const char *end, uint64_t *val)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || !isdigit((unsigned char)*s))
		return false;
	while (s < end && isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*val = v;
	return true;
}

static bool maps_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

/*
 * One line, without its newline:
 *   start-end perms offset major:minor inode [spaces path]
 * The path is everything after the padding, spaces included (file names may
 * contain spaces); only a trailing " (deleted)" is interpreted.
 */
static int maps_parse_line(const char *s, const char *end, struct kc_proc_map *m)
{
	static const char deleted[] = " (deleted)";
	const size_t dlen = sizeof(deleted) - 1;
	uint64_t major, minor;
	size_t plen;

	memset(m, 0, sizeof(*m));
	if (!maps_hex(&s, end, &m->start) || !maps_char(&s, end, '-') ||
	    !maps_hex(&s, end, &m->end) || !maps_char(&s, end, ' '))
		return -EINVAL;
	if (m->end < m->start || end - s < 4)
		return -EINVAL;
	if (s[0] == 'r')
		m->prot |= PROT_READ;
	else if (s[0] != '-')
		return -EINVAL;
	if (s[1] == 'w')
		m->prot |= PROT_WRITE;
	else if (s[1] != '-')
		return -EINVAL;
	if (s[2] == 'x')
		m->prot |= PROT_EXEC;
	else if (s[2] != '-')
		return -EINVAL;
	if (s[3] == 's')
		m->shared = true;
	else if (s[3] != 'p')
		return -EINVAL;
	s += 4;
	if (!maps_char(&s, end, ' ') || !maps_hex(&s, end, &m->offset) ||
	    !maps_char(&s, end, ' ') || !maps_hex(&s, end, &major) || !maps_char(&s, end, ':') ||
	    !maps_hex(&s, end, &minor) || !maps_char(&s, end, ' ') || !maps_dec(&s, end, &m->inode))
		return -EINVAL;
	if (major > UINT32_MAX || minor > UINT32_MAX)
		return -EINVAL;
	m->dev_major = (unsigned)major;
	m->dev_minor = (unsigned)minor;
	if (s < end && *s != ' ')
		return -EINVAL;
	while (s < end && *s == ' ')
		s++;
	plen = (size_t)(end - s);
	if (memchr(s, '\0', plen))
		return -EINVAL;
	if (plen >= dlen && memcmp(s + plen - dlen, deleted, dlen) == 0) {
		m->deleted = true;
		plen -= dlen;
	}
	m->path = strndup(s, plen);
	return m->path ? 0 : -ENOMEM;
}

int kc_proc_maps_parse(const char *text, size_t len, struct kc_proc_maps *out, struct kc_err *err)
{
	const char *p = text, *end = text + len;
	size_t cap = 0, lineno = 0;
	int ret;

	out->v = NULL;
	out->n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		lineno++;
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct kc_proc_map *nv = reallocarray(out->v, ncap, sizeof(*nv));

			if (!nv) {
				ret = kc_err_set(err, -ENOMEM, "out of memory parsing maps");
				goto fail;
			}
			out->v = nv;
			cap = ncap;
		}
		ret = maps_parse_line(p, eol, &out->v[out->n]);
		if (ret == -ENOMEM) {
			kc_err_set(err, ret, "out of memory parsing maps");
			goto fail;
		}
		if (ret) {
			kc_err_set(err, ret, "malformed maps line %zu '%.*s'", lineno,
				   (int)((eol - p) > 80 ? 80 : (eol - p)), p);
			goto fail;
		}
		out->n++;
		p = nl ? nl + 1 : end;
	}
	return 0;
fail:
	kc_proc_maps_release(out);
	return ret;
}

static int proc_maps_slurp(pid_t pid, pid_t tid, char **buf, size_t *len, struct kc_err *err)
{
	char path[64];
	int ret;

	if (tid == pid)
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/%d/task/%d/maps", (int)pid, (int)tid);
	ret = proc_slurp(path, buf, len);
	if (ret)
		return kc_err_set(err, proc_gone_code(ret), "cannot read '%s': %s", path,
				  strerror(-ret));
	return 0;
}

int kc_proc_maps_read(pid_t pid, struct kc_proc_maps *out, struct kc_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	out->v = NULL;
	out->n = 0;
	out->tid = pid;
	ret = proc_maps_slurp(pid, pid, &buf, &len, err);
	if (ret)
		return ret;
	/* A zombie has an empty maps file, and so has a kernel thread, which is alive. */
	if (len == 0 && proc_is_dead(pid)) {
		pid_t tid = kc_proc_mm_tid(pid);

		free(buf);
		buf = NULL;
		if (tid == pid)
			return kc_err_set(err, -ESRCH, "process %d exited", (int)pid);
		ret = proc_maps_slurp(pid, tid, &buf, &len, err);
		if (ret)
			return ret;
		out->tid = tid;
	}
	if (len == 0) {
		free(buf);
		if (out->tid != pid && proc_is_dead(out->tid))
			return kc_err_set(err, -ESRCH, "process %d exited", (int)pid);
		return 0;
	}
	ret = kc_proc_maps_parse(buf, len, out, err);
	free(buf);
	if (ret)
		kc_err_prefix(err, "process %d", (int)pid);
	return ret;
}

void kc_proc_maps_release(struct kc_proc_maps *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

const struct kc_proc_map *kc_proc_maps_find(const struct kc_proc_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

static int proc_cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Numeric entries of a directory, sorted; @skip is left out (0: none). */
static int proc_numeric_dir(const char *path, pid_t skip, pid_t **ids, size_t *n)
{
	size_t cap = 0, cnt = 0;
	pid_t *v = NULL;
	struct dirent *de;
	DIR *d;

	d = opendir(path);
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d)) != NULL) {
		char *endp;
		long id;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		id = strtol(de->d_name, &endp, 10);
		if (*endp || id <= 0 || id > INT32_MAX || (pid_t)id == skip)
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			pid_t *nv = reallocarray(v, ncap, sizeof(*nv));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = (pid_t)id;
	}
	if (errno) {
		int e = -errno;

		free(v);
		closedir(d);
		return e;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), proc_cmp_pid);
	*ids = v;
	*n = cnt;
	return 0;
}

int kc_proc_tids(pid_t pid, pid_t **tids, size_t *n, struct kc_err *err)
{
	char path[64];
	int ret;

	*tids = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	ret = proc_numeric_dir(path, 0, tids, n);
	if (ret)
		return kc_err_set(err, proc_gone_code(ret), "cannot list threads of process %d: %s",
				  (int)pid, strerror(-ret));
	if (*n == 0) {
		free(*tids);
		*tids = NULL;
		return kc_err_set(err, -ESRCH, "process %d has no threads (exited)", (int)pid);
	}
	return 0;
}

pid_t kc_proc_mm_tid(pid_t pid)
{
	char path[64];
	pid_t *tids = NULL, found = pid;
	size_t n = 0;

	if (!proc_is_dead(pid))
		return pid;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (proc_numeric_dir(path, pid, &tids, &n) != 0)
		return pid;
	for (size_t i = 0; i < n && found == pid; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tids[i]);
		if (!proc_stat_is_dead(path))
			found = tids[i];
	}
	free(tids);
	return found;
}

int kc_proc_pids(pid_t **pids, size_t *n, struct kc_err *err)
{
	int ret;

	*pids = NULL;
	*n = 0;
	ret = proc_numeric_dir("/proc", getpid(), pids, n);
	if (ret)
		return kc_err_set(err, ret, "cannot list '/proc': %s", strerror(-ret));
	return 0;
}

int kc_proc_comm(pid_t pid, char *buf, size_t size, struct kc_err *err)
{
	char path[64], *text = NULL;
	size_t len = 0;
	int ret;

	KC_BUG_ON(size == 0);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	ret = proc_slurp(path, &text, &len);
	if (ret)
		return kc_err_set(err, proc_gone_code(ret), "cannot read '%s': %s", path,
				  strerror(-ret));
	while (len && text[len - 1] == '\n')
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	free(text);
	return 0;
}

int kc_proc_auxv(pid_t pid, uint64_t type, uint64_t *val, struct kc_err *err)
{
	char path[64], *text = NULL;
	size_t len = 0;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	ret = proc_slurp(path, &text, &len);
	/* a zombie leader: ESRCH on open, or an empty file */
	if ((ret == -ESRCH || (ret == 0 && len == 0)) && proc_is_dead(pid)) {
		pid_t tid = kc_proc_mm_tid(pid);

		if (tid != pid) {
			free(text);
			text = NULL;
			snprintf(path, sizeof(path), "/proc/%d/task/%d/auxv", (int)pid, (int)tid);
			ret = proc_slurp(path, &text, &len);
		}
	}
	/* Kernel threads answer ESRCH too, though alive: they just have no auxv. */
	if (ret == -ESRCH && !proc_is_dead(pid))
		return kc_err_set(err, -ENOENT, "process %d has no auxv (kernel thread)", (int)pid);
	if (ret)
		return kc_err_set(err, proc_gone_code(ret), "cannot read '%s': %s", path,
				  strerror(-ret));
	ret = -ENOENT;
	for (size_t off = 0; off + sizeof(Elf64_auxv_t) <= len; off += sizeof(Elf64_auxv_t)) {
		Elf64_auxv_t a;

		memcpy(&a, text + off, sizeof(a));
		if (a.a_type == AT_NULL)
			break;
		if (a.a_type == type) {
			*val = a.a_un.a_val;
			ret = 0;
			break;
		}
	}
	free(text);
	if (ret)
		return kc_err_set(err, ret, "no auxv entry %llu in process %d",
				  (unsigned long long)type, (int)pid);
	return 0;
}

bool kc_proc_exe(pid_t pid, char *exe, size_t size)
{
	char path[64];
	ssize_t n;

	if (pid == getpid())
		return false;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, size - 1);
	if (n <= 0) {
		/* a zombie leader's executable is read through a live thread */
		snprintf(path, sizeof(path), "/proc/%d/exe", kc_proc_mm_tid(pid));
		n = readlink(path, exe, size - 1);
	}
	if (n <= 0)
		return false; /* kernel threads have none */
	exe[n] = '\0';
	if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
		exe[n - 10] = '\0';
	return true;
}
