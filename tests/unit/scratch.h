/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scratch directory for unit tests that compile C with gcc at test time
 * and work on the objects: write sources, run commands inside it, name
 * files in it. One per test program (a cmocka group setup makes it).
 */
#ifndef KC_TEST_SCRATCH_H
#define KC_TEST_SCRATCH_H

/* Makes /tmp/kc-test-NAME.XXXXXX; -1 when it cannot. */
int scratch_make(const char *name);

/* Removes it, unless KC_TEST_KEEP is set (to look at what a test built). */
int scratch_remove(void);

/* Runs the shell command inside the directory; a failure fails the test. */
void scratch_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes text to the file name in the directory. */
void scratch_put(const char *name, const char *text);

/* The path of name in the directory (four rotating buffers: usable four at a time). */
const char *scratch_path(const char *name);

#endif
