// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A hand-written fix of glibc's lseek() for 1209: the same system call, plus a count of
 * the calls, so that a server running it behaves exactly as before. PostgreSQL's backends
 * call lseek() for every relation a query plans (the size in blocks), so under pgbench a
 * backend is in or near it at almost any stop. errno goes through __errno_location(), a
 * reference to libc that each process's patch binds to its own libc.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <sys/types.h>

unsigned long kc_pg_lseek_calls;

off_t lseek(int fd, off_t offset, int whence)
{
	long r;

	__atomic_fetch_add(&kc_pg_lseek_calls, 1, __ATOMIC_RELAXED);
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_lseek), "D"((long)fd), "S"(offset), "d"((long)whence)
			 : "rcx", "r11", "memory");
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}
