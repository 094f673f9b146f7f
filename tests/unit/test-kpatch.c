// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * src/kpatch against fake /proc and /sys trees (the system root): kernel
 * identity (sha1 of /proc/version, the build-id note), whether the kernel
 * can take live patches, the livepatch sysfs listing, the live level and
 * effective version, the report of tasks that block a transition, the
 * wait with its deadline (reversal, force), and .modinfo parsing and
 * checks on small ELF objects made here.
 */
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kcare/kpatch.h"

static char root[256];

static void mkdirs(const char *path)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

/* Writes @len bytes (or the string) at ROOT/@rel, creating directories. */
static void put(const char *rel, const void *buf, size_t len)
{
	char path[1024], dir[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void puts_(const char *rel, const char *s)
{
	put(rel, s, strlen(s));
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/kc-test-kpatch.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* One ELF note: namesz, descsz, type, name and desc padded to 4. */
static size_t note(unsigned char *out, const char *name, uint32_t type, const void *desc,
		   uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t off = 0;

	memcpy(out, &namesz, 4);
	memcpy(out + 4, &descsz, 4);
	memcpy(out + 8, &type, 4);
	off = 12;
	memset(out + off, 0, (namesz + 3) & ~3u);
	memcpy(out + off, name, namesz);
	off += (namesz + 3) & ~3u;
	memset(out + off, 0, (descsz + 3) & ~3u);
	memcpy(out + off, desc, descsz);
	return off + ((descsz + 3) & ~3u);
}

static void test_kpatch__notes_buildid(void **state)
{
	unsigned char buf[256], bid[20];
	char hex[129];
	struct kc_err err = KC_ERR_INIT;
	size_t len;

	(void)state;
	for (int i = 0; i < 20; i++)
		bid[i] = (unsigned char)(0xa0 + i);
	/* another vendor's note first, then the build-id */
	len = note(buf, "Xen", 1, "abcdef", 6);
	len += note(buf + len, "GNU", 3, bid, 20);
	assert_int_equal(kc_kpatch_notes_buildid(buf, len, hex, sizeof(hex), &err), 0);
	assert_string_equal(hex, "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3");
	/* no build-id note */
	len = note(buf, "Linux", 3, "xx", 2);
	assert_int_equal(kc_kpatch_notes_buildid(buf, len, hex, sizeof(hex), &err), -ENOENT);
	/* a note that claims more than there is */
	len = note(buf, "GNU", 3, bid, 20);
	assert_int_equal(kc_kpatch_notes_buildid(buf, len - 8, hex, sizeof(hex), &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "past the end"));
	/* empty */
	assert_int_equal(kc_kpatch_notes_buildid(buf, 0, hex, sizeof(hex), &err), -ENOENT);
}

static void test_kpatch__ident(void **state)
{
	unsigned char buf[64], bid[20] = {1, 2, 3};
	struct kc_kernel_ident id;
	struct kc_err err = KC_ERR_INIT;
	size_t len = note(buf, "GNU", 3, bid, 20);

	(void)state;
	puts_("/proc/version", "Linux version 6.1.0-57-amd64 (test)\n");
	puts_("/proc/sys/kernel/osrelease", "6.1.0-57-amd64\n");
	puts_("/proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3\n");
	put("/sys/kernel/notes", buf, len);
	assert_int_equal(kc_kpatch_ident(root, &id, &err), 0);
	assert_string_equal(id.release, "6.1.0-57-amd64");
	assert_string_equal(id.version, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3");
	/* printf 'Linux version 6.1.0-57-amd64 (test)\n' | sha1sum */
	assert_string_equal(id.kernel_id, "1975876bafcce86e3761562fb1b57a03f9eb9af3");
	assert_string_equal(id.build_id, "0102030000000000000000000000000000000000");
	assert_string_equal(id.sysname, "Linux");
}

static void test_kpatch__supported(void **state)
{
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	assert_int_equal(kc_kpatch_supported(root, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "module loading is not available"));
	puts_("/proc/modules", "");
	puts_("/proc/sys/kernel/modules_disabled", "1\n");
	assert_int_equal(kc_kpatch_supported(root, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "modules_disabled=1"));
	puts_("/proc/sys/kernel/modules_disabled", "0\n");
	assert_int_equal(kc_kpatch_supported(root, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "livepatch"));
	mkdirs(strcat(strcpy((char[300]){0}, root), "/sys/kernel/livepatch"));
	assert_int_equal(kc_kpatch_supported(root, &err), 0);
}

static void klp(const char *name, int enabled, int transition)
{
	char rel[200];

	snprintf(rel, sizeof(rel), "/sys/kernel/livepatch/%s/enabled", name);
	puts_(rel, enabled ? "1\n" : "0\n");
	snprintf(rel, sizeof(rel), "/sys/kernel/livepatch/%s/transition", name);
	puts_(rel, transition ? "1\n" : "0\n");
}

static void test_kpatch__klp_list_and_live(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_kpatch_live live;
	struct kc_kernel_ident id = {.release = "6.1.0-57-amd64"};
	struct kc_klp *v, k;
	char eff[128];
	size_t n;

	(void)state;
	assert_int_equal(kc_kpatch_klp_list(root, &v, &n, &err), 0);
	assert_int_equal(n, 0);
	free(v);
	klp("kcare_x_2", 1, 0);
	klp("lkp_Ubuntu_1", 1, 0);
	klp("kcare_x_1", 0, 0);
	assert_int_equal(kc_kpatch_klp_list(root, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "kcare_x_1");
	assert_true(v[0].ours);
	assert_false(v[0].enabled);
	assert_string_equal(v[1].name, "kcare_x_2");
	assert_true(v[1].enabled);
	assert_false(v[2].ours);
	free(v);
	/* without /proc/kcare the level comes from the module name */
	assert_int_equal(kc_kpatch_live_read(root, &live, &err), 0);
	assert_string_equal(live.module, "kcare_x_2");
	assert_int_equal(live.level, 2);
	assert_string_equal(live.others, "lkp_Ubuntu_1");
	assert_int_equal(live.nothers, 1);
	kc_kpatch_effective(root, &id, eff, sizeof(eff));
	assert_string_equal(eff, "6.1.0-57-amd64");
	puts_("/proc/kcare/level", "7\n");
	puts_("/proc/kcare/id", "debian-6.1.0-57\n");
	puts_("/proc/kcare/effective_version", "6.1.0-58-amd64\n");
	assert_int_equal(kc_kpatch_live_read(root, &live, &err), 0);
	assert_int_equal(live.level, 7);
	assert_string_equal(live.id, "debian-6.1.0-57");
	kc_kpatch_effective(root, &id, eff, sizeof(eff));
	assert_string_equal(eff, "6.1.0-58-amd64");
	assert_int_equal(kc_kpatch_klp_get(root, "gone", &k, &err), -ENOENT);
	assert_int_equal(kc_kpatch_klp_get(root, "../x", &k, &err), -EINVAL);
}

static void task(int pid, int tid, const char *comm, const char *state, const char *stack)
{
	char rel[200];

	snprintf(rel, sizeof(rel), "/proc/%d/task/%d/patch_state", pid, tid);
	puts_(rel, state);
	snprintf(rel, sizeof(rel), "/proc/%d/task/%d/comm", pid, tid);
	puts_(rel, comm);
	snprintf(rel, sizeof(rel), "/proc/%d/task/%d/stack", pid, tid);
	puts_(rel, stack);
}

static void test_kpatch__blockers(void **state)
{
	struct kc_kpatch_blocker *v;
	struct kc_err err = KC_ERR_INIT;
	size_t n;

	(void)state;
	task(10, 10, "sleeper\n", "0\n",
	     "[<0>] wait_for_partner+0x5d/0x90\n[<0>] fifo_open+0x1a4/0x380\n"
	     "[<0>] do_dentry_open+0x13e/0x3f0\n");
	task(10, 11, "sleeper\n", "1\n", "[<0>] do_nanosleep+0x7a/0x150\n");
	task(20, 20, "idle\n", "-1\n", "");
	assert_int_equal(kc_kpatch_blockers(root, 1, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].pid, 10);
	assert_int_equal(v[0].tid, 10);
	assert_string_equal(v[0].comm, "sleeper");
	assert_string_equal(v[0].func, "wait_for_partner");
	assert_string_equal(v[0].stack, "wait_for_partner < fifo_open < do_dentry_open");
	free(v);
	/* unpatching: the task still patched is the one that blocks */
	assert_int_equal(kc_kpatch_blockers(root, 0, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].tid, 11);
	free(v);
}

/* The kernel's part of a reversal: when enabled turns 0, the transition ends. */
static void *kernel_side(void *arg)
{
	char path[400], v[8] = "";

	(void)arg;
	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/kcare_b_1/enabled", root);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			if (!fgets(v, sizeof(v), f))
				v[0] = '\0';
			fclose(f);
		}
		if (v[0] == '0') {
			klp("kcare_b_1", 0, 0);
			return NULL;
		}
		usleep(10000);
	}
	return NULL;
}

static void test_kpatch__transition_wait(void **state)
{
	struct kc_kpatch_wait_opts o = {.method = KC_KPATCH_NONE, .timeout = 0.2};
	struct kc_kpatch_wait_result r;
	struct kc_err err = KC_ERR_INIT;
	pthread_t th;

	(void)state;
	/* done at once */
	klp("kcare_a_1", 1, 0);
	assert_int_equal(kc_kpatch_transition_wait(root, "kcare_a_1", true, &o, &r, &err), 0);
	assert_false(r.reversed);
	kc_kpatch_wait_result_release(&r);
	/* an unpatched patch that left sysfs is done too */
	assert_int_equal(kc_kpatch_transition_wait(root, "kcare_gone_1", false, &o, &r, &err), 0);
	kc_kpatch_wait_result_release(&r);
	/* stuck: reversed at the deadline, with the blocker named */
	task(30, 31, "holder\n", "0\n", "[<0>] msleep_patched+0x10/0x20\n");
	klp("kcare_b_1", 1, 1);
	assert_int_equal(pthread_create(&th, NULL, kernel_side, NULL), 0);
	assert_int_equal(kc_kpatch_transition_wait(root, "kcare_b_1", true, &o, &r, &err),
			 -ETIMEDOUT);
	pthread_join(th, NULL);
	assert_true(r.reversed);
	assert_int_equal(r.nblockers, 1);
	assert_non_null(strstr(err.msg, "was reversed; blocked by: 31 holder (in msleep_patched)"));
	kc_kpatch_wait_result_release(&r);
	/* force: the knob is written; a kernel that does not end it is reported */
	klp("kcare_c_1", 1, 1);
	puts_("/sys/kernel/livepatch/kcare_c_1/force", "0\n");
	o.force = true;
	assert_int_equal(kc_kpatch_transition_wait(root, "kcare_c_1", true, &o, &r, &err), -EBUSY);
	assert_true(r.forced);
	kc_kpatch_wait_result_release(&r);
}

/* A relocatable ELF with a .modinfo section holding @info (NUL-separated, @len bytes). */
static size_t make_ko(const char *info, size_t len, char *out, size_t size, int type)
{
	char path[300];
	static char shstr[] = "\0.modinfo\0.shstrtab";
	Elf *e;
	Elf_Scn *s;
	Elf_Data *d;
	GElf_Shdr sh;
	GElf_Ehdr eh;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/m.ko", root);
	elf_version(EV_CURRENT);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	e = elf_begin(fd, ELF_C_WRITE, NULL);
	assert_non_null(gelf_newehdr(e, ELFCLASS64));
	gelf_getehdr(e, &eh);
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = (GElf_Half)type;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	s = elf_newscn(e);
	d = elf_newdata(s);
	d->d_buf = (void *)info;
	d->d_size = len;
	d->d_align = 1;
	gelf_getshdr(s, &sh);
	sh.sh_name = 1;
	sh.sh_type = SHT_PROGBITS;
	sh.sh_flags = SHF_ALLOC;
	gelf_update_shdr(s, &sh);
	s = elf_newscn(e);
	d = elf_newdata(s);
	d->d_buf = shstr;
	d->d_size = sizeof(shstr);
	d->d_align = 1;
	gelf_getshdr(s, &sh);
	sh.sh_name = 10;
	sh.sh_type = SHT_STRTAB;
	gelf_update_shdr(s, &sh);
	eh.e_shstrndx = (GElf_Half)elf_ndxscn(s);
	gelf_update_ehdr(e, &eh);
	assert_true(elf_update(e, ELF_C_WRITE) > 0);
	elf_end(e);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, size);
	close(fd);
	assert_true(n > 0);
	return (size_t)n;
}

#define INFO(s) s, sizeof(s) - 1

static void test_kpatch__modinfo(void **state)
{
	static const char good[] =
	    "name=kcare_debian_6_1_0_57_2\0vermagic=6.1.0-57-amd64 SMP preempt mod_unload "
	    "modversions \0livepatch=Y\0license=GPL\0kcare_id=debian-6.1.0-57\0kcare_level=2\0"
	    "kcare_build_id=6a2b4ac77585b8cf102cba771300e573c8489b69\0"
	    "kcare_kernel_id=907a9d42d33bc525d6b8bb67738993b1ba1791b0\0"
	    "kcare_release=6.1.0-57-amd64\0kcare_effective=6.1.0-58-amd64";
	struct kc_kernel_ident id = {
	    .release = "6.1.0-57-amd64",
	    .build_id = "6a2b4ac77585b8cf102cba771300e573c8489b69",
	    .kernel_id = "907a9d42d33bc525d6b8bb67738993b1ba1791b0",
	};
	struct kc_err err = KC_ERR_INIT;
	struct kc_modinfo mi;
	static char buf[8192];
	size_t len;

	(void)state;
	len = make_ko(INFO(good), buf, sizeof(buf), ET_REL);
	assert_int_equal(kc_kpatch_modinfo_parse(buf, len, &mi, &err), 0);
	assert_string_equal(mi.name, "kcare_debian_6_1_0_57_2");
	assert_int_equal(mi.kcare_level, 2);
	assert_true(mi.livepatch);
	assert_string_equal(mi.kcare_effective, "6.1.0-58-amd64");
	assert_int_equal(kc_kpatch_modinfo_check(&mi, &id, &err), 0);
	/* another kernel: by release, by build-id, by kernel id */
	strcpy(id.release, "6.1.0-56-amd64");
	assert_int_equal(kc_kpatch_modinfo_check(&mi, &id, &err), -EXDEV);
	assert_non_null(strstr(err.msg, "built for kernel '6.1.0-57-amd64'"));
	strcpy(id.release, "6.1.0-57-amd64");
	id.build_id[0] = '7';
	assert_int_equal(kc_kpatch_modinfo_check(&mi, &id, &err), -EXDEV);
	assert_non_null(strstr(err.msg, "build-id"));
	id.build_id[0] = '\0'; /* unknown: not a reason to refuse */
	assert_int_equal(kc_kpatch_modinfo_check(&mi, &id, &err), 0);
	id.kernel_id[0] = '0';
	assert_int_equal(kc_kpatch_modinfo_check(&mi, &id, &err), -EXDEV);
	/* a release that is only a prefix of vermagic's is another kernel */
	strcpy(id.release, "6.1.0-5");
	id.kernel_id[0] = '\0';
	assert_int_equal(kc_kpatch_modinfo_check(&mi, &id, &err), -EXDEV);
	/* not ours, not a live patch */
	strcpy(id.release, "6.1.0-57-amd64");
	len = make_ko(INFO("name=other\0vermagic=6.1.0-57-amd64 \0livepatch=Y"), buf, sizeof(buf),
		      ET_REL);
	assert_int_equal(kc_kpatch_modinfo_parse(buf, len, &mi, &err), 0);
	assert_int_equal(kc_kpatch_modinfo_check(&mi, &id, &err), -EINVAL);
	len = make_ko(INFO("name=kcare_x_1\0vermagic=6.1.0-57-amd64 "), buf, sizeof(buf), ET_REL);
	assert_int_equal(kc_kpatch_modinfo_parse(buf, len, &mi, &err), 0);
	assert_int_equal(kc_kpatch_modinfo_check(&mi, &id, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "livepatch=Y"));
	/* an empty tag is an absent one */
	len = make_ko(INFO("name=kcare_x_1\0kcare_level=\0kcare_build_id="), buf, sizeof(buf),
		      ET_REL);
	assert_int_equal(kc_kpatch_modinfo_parse(buf, len, &mi, &err), 0);
	assert_int_equal(mi.kcare_level, 0);
	assert_string_equal(mi.kcare_build_id, "");
	/* malformed */
	len = make_ko(INFO("name=kcare_x_1\0kcare_level=0"), buf, sizeof(buf), ET_REL);
	assert_int_equal(kc_kpatch_modinfo_parse(buf, len, &mi, &err), -EBADMSG);
	len = make_ko(INFO("name=kcare_x_1\0kcare_level=2x"), buf, sizeof(buf), ET_REL);
	assert_int_equal(kc_kpatch_modinfo_parse(buf, len, &mi, &err), -EBADMSG);
	len = make_ko(INFO("name=kcare_x_1"), buf, sizeof(buf), ET_EXEC);
	assert_int_equal(kc_kpatch_modinfo_parse(buf, len, &mi, &err), -ENOEXEC);
	assert_int_equal(kc_kpatch_modinfo_parse("not elf", 7, &mi, &err), -ENOEXEC);
}

static void test_kpatch__method(void **state)
{
	enum kc_kpatch_method m;
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	assert_int_equal(kc_kpatch_method_parse("normal", &m, &err), 0);
	assert_int_equal(m, KC_KPATCH_FULL);
	assert_int_equal(kc_kpatch_method_parse("nofreeze", &m, &err), 0);
	assert_int_equal(m, KC_KPATCH_NONE);
	assert_int_equal(kc_kpatch_method_parse("SMART", &m, &err), 0);
	assert_int_equal(m, KC_KPATCH_SMART);
	assert_int_equal(kc_kpatch_method_parse("freeze", &m, &err), -EINVAL);
	assert_string_equal(kc_kpatch_method_name(KC_KPATCH_NONE), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kpatch__notes_buildid),
	    cmocka_unit_test_setup_teardown(test_kpatch__ident, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kpatch__supported, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kpatch__klp_list_and_live, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kpatch__blockers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kpatch__transition_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kpatch__modinfo, setup, teardown),
	    cmocka_unit_test(test_kpatch__method),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
