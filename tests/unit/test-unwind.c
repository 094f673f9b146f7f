// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The stack check on a real child (compiled here, -O2) whose second thread
 * blocks in read() inside inner(), called from outer(). Ranges covering
 * either function must be reported busy, by the unwinder and by the
 * conservative scan; a range elsewhere must pass with a complete walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <unistd.h>
#include <cmocka.h>

#include "kcare/objs.h"
#include "kcare/unwind.h"
#include "testchild.h"

static const char child_src[] = "#define _GNU_SOURCE\n"
				"#include <pthread.h>\n"
				"#include <stdio.h>\n"
				"#include <unistd.h>\n"
				"static int pfd[2];\n"
				"__attribute__((noinline)) void inner(void)\n"
				"{\n"
				"	char c;\n"
				"	if (read(pfd[0], &c, 1) < 0)\n"
				"		return;\n"
				"	__asm__ volatile(\"\");\n"
				"}\n"
				"__attribute__((noinline)) void outer(void)\n"
				"{\n"
				"	inner();\n"
				"	__asm__ volatile(\"\");\n"
				"}\n"
				"static void *thr(void *a)\n"
				"{\n"
				"	printf(\"%d\\n\", gettid());\n"
				"	fflush(stdout);\n"
				"	outer();\n"
				"	return a;\n"
				"}\n"
				"int main(void)\n"
				"{\n"
				"	pthread_t t;\n"
				"	if (pipe(pfd) < 0)\n"
				"		return 1;\n"
				"	pthread_create(&t, NULL, thr, NULL);\n"
				"	pthread_join(t, NULL);\n"
				"	return 0;\n"
				"}\n";

struct unwind_fixture {
	struct tc_child c;
	pid_t tid;
	struct kc_range outer, inner, main_fn, elsewhere;
	struct kc_proc_maps maps;
	struct kc_objs objs;
	struct kc_unwinder *u;
};

static void unwind_fn_range(struct kc_obj *prog, const char *name, struct kc_range *r)
{
	struct kc_err err = KC_ERR_INIT;
	GElf_Sym sym;

	if (kc_obj_symtab(prog, name, &sym, &err) != 0)
		fail_msg("symbol %s: %s", name, err.msg);
	assert_true(sym.st_size > 0);
	r->lo = prog->bias + sym.st_value;
	r->hi = r->lo + sym.st_size;
}

/* Seizes and interrupts one thread; waits for its stop. */
static void unwind_stop_thread(pid_t tid)
{
	int st;

	assert_int_equal(ptrace(PTRACE_SEIZE, tid, NULL, NULL), 0);
	assert_int_equal(ptrace(PTRACE_INTERRUPT, tid, NULL, NULL), 0);
	assert_int_equal(waitpid(tid, &st, __WALL), tid);
	assert_true(WIFSTOPPED(st));
}

static void unwind_start(struct unwind_fixture *f)
{
	struct kc_err err = KC_ERR_INIT;
	char line[64];

	memset(f, 0, sizeof(*f));
	assert_int_equal(tc_mkdir(&f->c), 0);
	assert_int_equal(tc_write_file(&f->c, "child.c", child_src), 0);
	assert_int_equal(tc_sh(&f->c, "gcc -O2 -pthread -o child child.c"), 0);
	assert_int_equal(tc_spawn(&f->c, "child"), 0);
	assert_int_equal(tc_read_line(&f->c, line, sizeof(line)), 0);
	f->tid = atoi(line);
	assert_true(f->tid > 0 && f->tid != f->c.pid);
	usleep(100 * 1000); /* let the thread reach read() */
	assert_int_equal(kc_proc_maps_read(f->c.pid, &f->maps, &err), 0);
	assert_int_equal(kc_objs_read(f->c.pid, &f->maps, &f->objs, &err), 0);
	unwind_fn_range(&f->objs.v[0], "outer", &f->outer);
	unwind_fn_range(&f->objs.v[0], "inner", &f->inner);
	unwind_fn_range(&f->objs.v[0], "main", &f->main_fn);
	f->elsewhere.lo = 0x7a5a5a5a0000ULL; /* unmapped, unlikely as a stack word */
	f->elsewhere.hi = 0x7a5a5a5a0040ULL;
	unwind_stop_thread(f->tid);
	unwind_stop_thread(f->c.pid);
	f->u = kc_unwind_new(f->c.pid, &err);
	if (!f->u)
		fail_msg("kc_unwind_new: %s", err.msg);
}

static void unwind_stop(struct unwind_fixture *f)
{
	/* A killed process whose thread we still trace would wait for us to reap that thread. */
	ptrace(PTRACE_DETACH, f->tid, NULL, NULL);
	ptrace(PTRACE_DETACH, f->c.pid, NULL, NULL);
	kc_unwind_free(f->u);
	kc_objs_release(&f->objs);
	kc_proc_maps_release(&f->maps);
	tc_finish(&f->c);
}

static void test_unwind__finds_functions_on_stack(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct unwind_fixture f;
	uint64_t hit = 0;

	(void)state;
	unwind_start(&f);
	/* Twice, so that the second walk runs from cached tables. */
	for (int round = 0; round < 2; round++) {
		assert_int_equal(kc_unwind_check(f.u, f.tid, &f.outer, 1, &hit, &err), -EBUSY);
		assert_true(hit >= f.outer.lo && hit <= f.outer.hi);
		assert_int_equal(kc_unwind_check(f.u, f.tid, &f.inner, 1, &hit, &err), -EBUSY);
		assert_true(hit >= f.inner.lo && hit <= f.inner.hi);
		if (kc_unwind_check(f.u, f.tid, &f.elsewhere, 1, &hit, &err) != 0)
			fail_msg("walk of thread: %s", err.msg);
		/* The main thread sits in pthread_join called from main. */
		assert_int_equal(kc_unwind_check(f.u, f.c.pid, &f.main_fn, 1, &hit, &err), -EBUSY);
		assert_int_equal(kc_unwind_check(f.u, f.c.pid, &f.outer, 1, &hit, &err), 0);
		kc_unwind_flush(f.u);
	}
	{
		struct kc_range both[2] = {f.elsewhere, f.inner};

		assert_int_equal(kc_unwind_check(f.u, f.tid, both, 2, &hit, &err), -EBUSY);
	}
	unwind_stop(&f);
}

static void test_unwind__scan_is_conservative(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct unwind_fixture f;
	struct user_regs_struct regs;
	const struct kc_proc_map *stack;
	struct kc_proc_maps maps;
	uint64_t hit = 0;

	(void)state;
	unwind_start(&f);
	assert_int_equal(ptrace(PTRACE_GETREGS, f.tid, NULL, &regs), 0);
	assert_int_equal(kc_proc_maps_read(f.c.pid, &maps, &err), 0);
	stack = kc_proc_maps_find(&maps, regs.rsp);
	assert_non_null(stack);
	assert_int_equal(kc_unwind_scan(f.tid, regs.rip, regs.rsp, stack->end, tc_read_mem,
					&f.c.pid, &f.outer, 1, &hit, &err),
			 -EBUSY);
	assert_true(hit > f.outer.lo && hit <= f.outer.hi);
	assert_int_equal(kc_unwind_scan(f.tid, regs.rip, regs.rsp, stack->end, tc_read_mem,
					&f.c.pid, &f.elsewhere, 1, &hit, &err),
			 0);
	/* The top pc alone counts. */
	{
		struct kc_range at_pc = {regs.rip, regs.rip + 1};

		assert_int_equal(kc_unwind_scan(f.tid, regs.rip, regs.rsp, regs.rsp, tc_read_mem,
						&f.c.pid, &at_pc, 1, &hit, &err),
				 -EBUSY);
		assert_int_equal(hit, regs.rip);
	}
	kc_proc_maps_release(&maps);
	unwind_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unwind__finds_functions_on_stack),
	    cmocka_unit_test(test_unwind__scan_is_conservative),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
