// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel back end's local parts (src/kcare/kernel-*.c) under a
 * temporary root and a fake /proc: sysctl.conf's kernel.kcare_* lines, the
 * cache record of the levels per kernel (LOCAL plan), the --patch-info text
 * and the check-in fields.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kcare/kernel.h"

static char top[256], root[300], sys[300];
static struct kc_agent agent;

static void put(const char *base, const char *rel, const char *text)
{
	char path[1024], cmd[1100];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", base, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *base, const char *rel)
{
	static char buf[256];
	char path[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s%s", base, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int setup(void **state)
{
	struct kc_err err = KC_ERR_INIT;

	(void)state;
	snprintf(top, sizeof(top), "/tmp/kc-test-kernel.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(sys, sizeof(sys), "%s/sys", top);
	mkdir(root, 0755);
	mkdir(sys, 0755);
	assert_int_equal(kc_agent_open(&agent, root, NULL, NULL, &err), 0);
	agent.sysroot = sys;
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	kc_agent_close(&agent);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_kernel__sysctl(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	char warn[512];
	unsigned set;

	(void)state;
	/* no file: nothing to do */
	assert_int_equal(kc_kernel_sysctl_apply(&agent, &set, warn, sizeof(warn), &err), 0);
	assert_int_equal(set, 0);
	put(sys, "/proc/sys/kernel/kcare_modify_ldt", "0\n");
	put(sys, "/proc/sys/kernel/kcare_other", "0\n");
	put(root, "/etc/sysconfig/kcare/sysctl.conf",
	    "# comment\n; another\n\nfs.protected_symlinks = 1\n"
	    "  kernel.kcare_modify_ldt = 1   \n"
	    "kernel/kcare_other=1\n"
	    "kernel.kcare_missing = 1\n");
	assert_int_equal(kc_kernel_sysctl_apply(&agent, &set, warn, sizeof(warn), &err), 0);
	assert_int_equal(set, 2);
	/* one write(2) of the value, as to procfs (a plain file keeps its old tail) */
	assert_int_equal(get(sys, "/proc/sys/kernel/kcare_modify_ldt")[0], '1');
	assert_int_equal(get(sys, "/proc/sys/kernel/kcare_other")[0], '1');
	/* the switch the live level does not have is named, the others still applied */
	assert_non_null(strstr(warn, "sysctl.conf:7"));
	assert_non_null(strstr(warn, "kcare_missing"));
	/* a key that would leave /proc/sys/kernel */
	put(root, "/etc/sysconfig/kcare/sysctl.conf", "kernel.kcare_../../x = 1\n");
	assert_int_equal(kc_kernel_sysctl_apply(&agent, &set, warn, sizeof(warn), &err), 0);
	assert_int_equal(set, 0);
	assert_non_null(strstr(warn, "bad key"));
}

static void records(const char *json)
{
	put(root, "/var/cache/kcare/kernel/selected.json", json);
}

static void test_kernel__local_plan(void **state)
{
	struct kc_kernel_ident id = {.release = "6.1.0-57-amd64",
				     .build_id = "aabb",
				     .kernel_id = "1111111111111111111111111111111111111111"};
	struct kc_kernel_plan_opts o = {.policy = KC_LC_LOCAL};
	struct kc_err err = KC_ERR_INIT;
	struct kc_kernel_plan p;
	bool fb;
	const char *sha = "0000000000000000000000000000000000000000000000000000000000000000";
	char json[2048];

	(void)state;
	/* nothing cached: no level, not an error */
	assert_int_equal(kc_kernel_plan_make(&agent, &id, &o, &p, &fb, &err), 0);
	assert_false(p.found);
	kc_kernel_plan_release(&p);
	/* one record for another kernel, one by build-id, one by kernel id (higher) */
	snprintf(json, sizeof(json),
		 "{\"format\":1,\"kernels\":["
		 "{\"patchset\":\"K1\",\"module\":\"kcare_o_9\",\"id\":\"o\",\"level\":9,"
		 "\"released\":1,\"build_id\":\"ccdd\",\"sha256\":\"%s\",\"length\":1},"
		 "{\"patchset\":\"K2\",\"module\":\"kcare_s_2\",\"id\":\"s\",\"level\":2,"
		 "\"released\":2,\"build_id\":\"aabb\",\"sha256\":\"%s\",\"length\":5},"
		 "{\"patchset\":\"K3\",\"module\":\"kcare_s_3\",\"id\":\"s\",\"level\":3,"
		 "\"released\":3,\"kernel_id\":\"%s\",\"sha256\":\"%s\",\"length\":7}]}",
		 sha, sha, id.kernel_id, sha);
	records(json);
	assert_int_equal(kc_kernel_plan_make(&agent, &id, &o, &p, &fb, &err), 0);
	assert_true(p.found);
	assert_true(p.from_cache);
	assert_string_equal(p.e.module, "kcare_s_3");
	assert_int_equal(p.e.level, 3);
	assert_int_equal(p.e.length, 7);
	assert_non_null(strstr(p.e.file, "/var/cache/kcare/kernel/0000"));
	kc_kernel_plan_release(&p);
	/* LOCAL_FIRST takes the cache when it has a level */
	o.policy = KC_LC_LOCAL_FIRST;
	assert_int_equal(kc_kernel_plan_make(&agent, &id, &o, &p, &fb, &err), 0);
	assert_true(fb);
	assert_int_equal(p.e.level, 3);
	kc_kernel_plan_release(&p);
	/* a damaged record for this kernel is refused */
	o.policy = KC_LC_LOCAL;
	records("{\"kernels\":[{\"module\":\"kcare_s_2\",\"build_id\":\"aabb\",\"level\":2}]}");
	assert_int_equal(kc_kernel_plan_make(&agent, &id, &o, &p, &fb, &err), -EBADMSG);
	/* an unreadable file is as good as none */
	records("not json");
	assert_int_equal(kc_kernel_plan_make(&agent, &id, &o, &p, &fb, &err), 0);
	assert_false(p.found);
	kc_kernel_plan_release(&p);
}

static void test_kernel__patch_info(void **state)
{
	struct kc_kernel_ident id = {.release = "6.1.0-57-amd64", .build_id = "aabb"};
	struct kc_err err = KC_ERR_INIT;
	json_object *o = json_object_new_object(), *v;
	char *text;

	(void)state;
	put(root, "/etc/os-release", "NAME=\"Debian\"\nID=debian\nVERSION_ID=\"12\"\n");
	/* nothing live: the header alone, the real release */
	assert_int_equal(kc_kernel_patch_info(&agent, &id, &text, &err), 0);
	assert_string_equal(text, "OS: debian12\nkernel: linux-image-6.1.0-57-amd64\ntime: N/A\n"
				  "uname: 6.1.0-57-amd64\n");
	free(text);
	put(sys, "/sys/kernel/livepatch/kcare_s_2/enabled", "1\n");
	put(sys, "/sys/kernel/livepatch/kcare_s_2/transition", "0\n");
	/* no /proc/kcare: the block of the cached signed entry, its patchset's time */
	records("{\"format\":1,\"kernels\":[{\"patchset\":\"K2\",\"module\":\"kcare_s_2\","
		"\"id\":\"s\",\"level\":2,\"released\":1796515200,\"build_id\":\"aabb\","
		"\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"length\":1,\"kpatch-name\":\"fix-x\",\"kpatch-cve\":\"CVE-2026-0001\"}]}");
	assert_int_equal(kc_kernel_patch_info(&agent, &id, &text, &err), 0);
	assert_string_equal(text,
			    "OS: debian12\nkernel: linux-image-6.1.0-57-amd64\n"
			    "time: 2026-12-06 00:00:00\nuname: 6.1.0-57-amd64\n\n"
			    "kpatch-name: fix-x\nkpatch-description: N/A\nkpatch-kernel: N/A\n"
			    "kpatch-cve: CVE-2026-0001\nkpatch-cvss: N/A\nkpatch-cve-url: N/A\n"
			    "kpatch-patch-url: N/A\n");
	free(text);
	records("{}");
	put(sys, "/proc/kcare/level", "2\n");
	put(sys, "/proc/kcare/effective_version", "6.1.0-58-amd64\n");
	put(sys, "/proc/kcare/patches", "kpatch-name: a\nkpatch-cve: N/A\n\nkpatch-name: b\n");
	assert_int_equal(kc_kernel_patch_info(&agent, &id, &text, &err), 0);
	assert_string_equal(text, "OS: debian12\nkernel: linux-image-6.1.0-57-amd64\ntime: N/A\n"
				  "uname: 6.1.0-58-amd64\n\nkpatch-name: a\nkpatch-cve: N/A\n\n"
				  "kpatch-name: b\n");
	free(text);
	/* what a check-in tells the server */
	kc_kernel_checkin_fields(&agent, o);
	assert_true(json_object_object_get_ex(o, "patch_level", &v));
	assert_int_equal(json_object_get_int(v), 2);
	assert_true(json_object_object_get_ex(o, "effective_version", &v));
	assert_string_equal(json_object_get_string(v), "6.1.0-58-amd64");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_kernel__sysctl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kernel__local_plan, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kernel__patch_info, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
