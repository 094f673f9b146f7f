// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The patch server's model over SQLite in a temporary data directory: first
 * start (schema, keys, repository), migrations applied once, feeds, keys and
 * their limits, registration by key and by address, check-ins, filters,
 * cleaning, users and API keys, kernel patch levels of servers. HTTP and
 * archives are covered by the 51xx integration tests.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "eportal/db.h"
#include "eportal/eportal.h"
#include "eportal/keys.h"
#include "kcare/patchset.h"
#include "kcare/trust.h"
#include "kmod-fixture.h"

static int64_t fake_now = 1700000000;

static int64_t clock_fake(void)
{
	return fake_now;
}

struct fixture {
	char dir[64];
	struct kc_ep *ep;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kc_err err = KC_ERR_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/kc-ep-unit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strcat(f->dir, "/d");
	assert_int_equal(kc_ep_open(f->dir, NULL, 0, &f->ep, &err), 0);
	f->ep->now = clock_fake;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	kc_ep_close(f->ep);
	f->dir[strlen(f->dir) - 2] = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_eportal_model__first_start(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	char path[256];
	int64_t applied = -1, v = 0;

	snprintf(path, sizeof(path), "%s/repo/timestamp.json", f->dir);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/keys/root.key", f->dir);
	assert_int_equal(access(path, F_OK), 0);
	/* a second migration run applies nothing */
	assert_int_equal(kc_ep_migrate(f->ep->db, &applied, &err), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(kc_db_begin(f->ep->db, 0, &err), 0);
	assert_int_equal(
	    kc_db_query_int(f->ep->db, &v, &err, "SELECT MAX(version) FROM schema_migrations", ""),
	    1);
	kc_db_rollback(f->ep->db);
	assert_int_equal(v, kc_ep_schema_version());
}

static void test_eportal_model__feeds(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_feed feed = {.name = "test", .deploy_after_hours = 12, .channel = "test"};
	struct kc_ep_feed *list = NULL;
	size_t n = 0;

	assert_int_equal(kc_ep_feed_add(f->ep, &feed, &err), 0);
	assert_int_equal(kc_ep_feed_add(f->ep, &feed, &err), -EEXIST);
	strcpy(feed.name, "../x");
	assert_int_equal(kc_ep_feed_add(f->ep, &feed, &err), -EINVAL);
	strcpy(feed.name, "bad");
	strcpy(feed.channel, "nightly");
	assert_int_equal(kc_ep_feed_add(f->ep, &feed, &err), -EINVAL);
	assert_int_equal(kc_ep_feed_delete(f->ep, "main", &err), -EPERM);
	struct kc_ep_feed ch = {.name = "test", .auto_update = 1, .deploy_after_hours = -1};
	assert_int_equal(kc_ep_feed_change(f->ep, &ch, &err), 0);
	assert_int_equal(kc_ep_feed_get(f->ep, "test", &feed, &err), 0);
	assert_int_equal(feed.auto_update, 1);
	assert_int_equal(feed.deploy_after_hours, 12);
	assert_string_equal(feed.channel, "test");
	assert_int_equal(kc_ep_feed_list(f->ep, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "main");
	free(list);
	assert_int_equal(kc_ep_feed_delete(f->ep, "test", &err), 0);
	assert_int_equal(kc_ep_feed_delete(f->ep, "test", &err), -ENOENT);
}

static void test_eportal_model__register_limits(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_key k = {.server_limit = 2};
	struct kc_ep_checkin c = {.hostname = "h1", .ip = "10.1.2.3", .patch_level = -1};
	struct kc_ep_server s, s2;

	assert_int_equal(kc_ep_key_add(f->ep, &k, &err), 0);
	assert_int_equal(strlen(k.key), KC_EP_KEY_LEN);
	assert_string_equal(k.feed, "main");
	assert_int_equal(kc_ep_register(f->ep, k.key, &c, &s, &err), 0);
	assert_string_equal(s.hostname, "h1");
	assert_string_equal(s.feed, "main");
	assert_int_equal(kc_ep_register(f->ep, k.key, &c, &s2, &err), 0);
	assert_string_not_equal(s.server_id, s2.server_id);
	assert_int_equal(kc_ep_register(f->ep, k.key, &c, &s2, &err), -EDQUOT);
	assert_int_equal(kc_ep_register(f->ep, "nosuchkey", &c, &s2, &err), -ENOKEY);
	assert_int_equal(kc_ep_register(f->ep, NULL, &c, &s2, &err), -EACCES);
	/* unregistering frees a place */
	assert_int_equal(kc_ep_server_delete(f->ep, s2.server_id, &err), 0);
	assert_int_equal(kc_ep_register(f->ep, k.key, &c, &s2, &err), 0);
}

static void test_eportal_model__ip_registration(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_key k = {.ip_range = "192.168.10.0/24"};
	struct kc_ep_checkin c = {.ip = "192.168.10.77", .patch_level = -1};
	struct kc_ep_server s;

	assert_int_equal(kc_ep_key_add(f->ep, &k, &err), 0);
	assert_int_equal(kc_ep_register(f->ep, NULL, &c, &s, &err), 0);
	assert_string_equal(s.key, k.key);
	c.ip = "192.168.11.1";
	assert_int_equal(kc_ep_register(f->ep, NULL, &c, &s, &err), -EACCES);
	struct kc_ep_key bad = {.ip_range = "300.1.1.1/8"};
	assert_int_equal(kc_ep_key_add(f->ep, &bad, &err), -EINVAL);
}

static void test_eportal_model__checkin_and_filters(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_key k = {0};
	struct kc_ep_checkin c = {.hostname = "web1",
				  .patch_level = -1,
				  .tags = {"web", "prod"},
				  .ntags = 2,
				  .tags_set = 1};
	struct kc_ep_server a, b, *list = NULL;
	struct kc_ep_server_filter flt = KC_EP_SERVER_FILTER_INIT;
	size_t n = 0;
	int64_t total = 0;

	assert_int_equal(kc_ep_key_add(f->ep, &k, &err), 0);
	assert_int_equal(kc_ep_register(f->ep, k.key, &c, &a, &err), 0);
	c.hostname = "db1";
	c.tags[0] = "db";
	c.ntags = 1;
	assert_int_equal(kc_ep_register(f->ep, k.key, &c, &b, &err), 0);
	fake_now += 3600;
	struct kc_ep_checkin up = {.kernel_id = "abcd", .patch_level = 3, .uptime = 5};
	assert_int_equal(kc_ep_checkin(f->ep, a.server_id, &up, &a, &err), 0);
	assert_string_equal(a.hostname, "web1"); /* not sent: kept */
	assert_int_equal(a.patch_level, 3);
	assert_int_equal(a.last_seen, fake_now);
	assert_string_equal(a.tags, "prod,web");
	assert_int_equal(kc_ep_checkin(f->ep, "0000", &up, NULL, &err), -ENOENT);
	flt.tag = "web";
	assert_int_equal(kc_ep_server_list(f->ep, &flt, &list, &n, &total, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].server_id, a.server_id);
	free(list);
	flt.tag = NULL;
	flt.hostname = "*1";
	flt.limit = 1;
	assert_int_equal(kc_ep_server_list(f->ep, &flt, &list, &n, &total, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(total, 2);
	free(list);
	struct kc_ep_server_filter old = KC_EP_SERVER_FILTER_INIT;
	old.seen_before = fake_now - 60;
	assert_int_equal(kc_ep_server_list(f->ep, &old, &list, &n, &total, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].server_id, b.server_id);
	free(list);
	assert_int_equal(kc_ep_server_clean(f->ep, fake_now - 60, &err), 1);
	assert_int_equal(kc_ep_server_get(f->ep, b.server_id, &b, &err), -ENOENT);
	struct kc_ep_tag *tags = NULL;
	assert_int_equal(kc_ep_tag_list(f->ep, &tags, &n, &err), 0);
	assert_int_equal(n, 2);
	free(tags);
	struct kc_ep_checkin bad = {.hostname = "a\nb", .patch_level = -1};
	assert_int_equal(kc_ep_checkin(f->ep, a.server_id, &bad, NULL, &err), -EINVAL);
}

#define KBID "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KKID "0123456789abcdef0123456789abcdef01234567"

/* Deploys a kernel patchset @name released at @when: level @level of series "s" for KBID/KKID. */
static void deploy_kernel(struct kc_ep *ep, const char *name, int64_t when, uint32_t level)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_writer *w;
	uint8_t *mod;
	void *buf;
	size_t len, blen;

	make_module("s", level, KBID, KKID, &mod, &len);
	assert_int_equal(kc_patchset_writer_new(name, KC_PATCHSET_KERNEL, when, NULL, &w, &err), 0);
	assert_int_equal(kc_patchset_writer_add(w, "m.ko", mod, len, NULL, &err), 0);
	assert_int_equal(kc_patchset_writer_write_mem(w, KC_PATCHSET_PLAIN, &buf, &blen, &err), 0);
	if (kc_ep_deploy_mem(ep, buf, blen, "kernel", NULL, 0, NULL, &err) < 0)
		fail_msg("deploy %s: %s", name, err.msg);
	kc_patchset_writer_free(w);
	free(buf);
	free(mod);
}

static void expect_level(struct kc_ep *ep, const char *sid, int64_t latest, int updated)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_server s;

	assert_int_equal(kc_ep_server_get(ep, sid, &s, &err), 0);
	assert_int_equal(s.latest_level, latest);
	assert_int_equal(s.is_updated, updated);
}

/*
 * latest_level and is_updated of kernel patches: by the kernel id or the
 * build-id in either case, recomputed by deploys, state changes and key
 * changes without a check-in, within the key's sticky date and products.
 */
static void test_eportal_model__kernel_updated(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_key k = {0}, ks = {0}, kl = {0};
	struct kc_ep_checkin c = {.kernel_id = KKID, .patch_level = 1};
	struct kc_ep_server a, b, st, lib;

	assert_int_equal(kc_ep_key_add(f->ep, &k, &err), 0);
	strcpy(ks.sticky, "2023-11-05");
	assert_int_equal(kc_ep_key_add(f->ep, &ks, &err), 0);
	strcpy(kl.products, "libs");
	assert_int_equal(kc_ep_key_add(f->ep, &kl, &err), 0);
	deploy_kernel(f->ep, "K20231103_01", 1699000000, 1); /* 2023-11-03 */
	assert_int_equal(kc_ep_register(f->ep, k.key, &c, &a, &err), 0);
	assert_int_equal(a.latest_level, 1);
	assert_true(a.is_updated);
	c.kernel_id = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"; /* the build-id, upper case */
	c.patch_level = -1;
	assert_int_equal(kc_ep_register(f->ep, k.key, &c, &b, &err), 0);
	assert_int_equal(b.latest_level, 1);
	assert_false(b.is_updated);
	c.kernel_id = KKID;
	c.patch_level = 1;
	assert_int_equal(kc_ep_register(f->ep, ks.key, &c, &st, &err), 0);
	assert_int_equal(kc_ep_register(f->ep, kl.key, &c, &lib, &err), 0);
	expect_level(f->ep, lib.server_id, -1, 1);

	/* level 2 after the sticky date: outdated at once, except on the sticky key */
	deploy_kernel(f->ep, "K20231113_01", 1699900000, 2); /* 2023-11-13 */
	expect_level(f->ep, a.server_id, 2, 0);
	expect_level(f->ep, st.server_id, 1, 1);
	expect_level(f->ep, lib.server_id, -1, 1);
	struct kc_ep_checkin up = {.patch_level = 2, .uptime = -1};
	assert_int_equal(kc_ep_checkin(f->ep, a.server_id, &up, &a, &err), 0);
	assert_true(a.is_updated);
	assert_int_equal(kc_ep_patchset_action(f->ep, NULL, "K20231113_01", KC_EP_DISABLE, &err),
			 0);
	expect_level(f->ep, b.server_id, 1, 0);
	expect_level(f->ep, a.server_id, 1, 1);
	assert_int_equal(kc_ep_patchset_action(f->ep, NULL, "K20231113_01", KC_EP_ENABLE, &err), 0);
	/* the sticky date moves past level 2 */
	strcpy(ks.sticky, "2023-11-20");
	assert_int_equal(kc_ep_key_change(f->ep, &ks, KC_EP_KEY_STICKY, &err), 0);
	expect_level(f->ep, st.server_id, 2, 0);
	/* a database an older eportal filled is brought up to date at start */
	assert_int_equal(kc_ep_servers_refresh(f->ep, &err), 0);
	expect_level(f->ep, b.server_id, 2, 0);
}

static void test_eportal_model__keys_change_delete(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_key k = {.products = "qemu,libs", .note = "n"}, got;
	struct kc_ep_checkin c = {.patch_level = -1};
	struct kc_ep_server s;
	struct kc_ep_key_status st;

	assert_int_equal(kc_ep_key_add(f->ep, &k, &err), 0);
	struct kc_ep_key ch = {.sticky = "2021-08-18"};
	strcpy(ch.key, k.key);
	assert_int_equal(kc_ep_key_change(f->ep, &ch, KC_EP_KEY_STICKY, &err), 0);
	assert_int_equal(kc_ep_key_get(f->ep, k.key, &got, &err), 0);
	assert_string_equal(got.sticky, "2021-08-18");
	assert_string_equal(got.products, "qemu,libs");
	strcpy(ch.sticky, "18-08-2021");
	assert_int_equal(kc_ep_key_change(f->ep, &ch, KC_EP_KEY_STICKY, &err), -EINVAL);
	strcpy(ch.products, "kernel,windows");
	assert_int_equal(kc_ep_key_change(f->ep, &ch, KC_EP_KEY_PRODUCTS, &err), -EINVAL);
	assert_int_equal(kc_ep_register(f->ep, k.key, &c, &s, &err), 0);
	assert_int_equal(kc_ep_key_status(f->ep, k.key, 86400, &st, &err), 0);
	assert_int_equal(st.servers, 1);
	assert_int_equal(st.code, 0);
	assert_int_equal(kc_ep_key_delete(f->ep, k.key, &err), 0);
	/* its servers went with it */
	assert_int_equal(kc_ep_server_get(f->ep, s.server_id, &s, &err), -ENOENT);
	assert_int_equal(kc_ep_key_status(f->ep, k.key, 86400, &st, &err), -ENOENT);
}

static void test_eportal_model__users_and_api_keys(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	char token[KC_EP_APIKEY_LEN + 1];
	int ro = -1;

	assert_int_equal(kc_ep_user_add(f->ep, "admin", "secret", 0, &err), 0);
	assert_int_equal(kc_ep_user_add(f->ep, "admin", "x", 0, &err), -EEXIST);
	assert_int_equal(kc_ep_user_add(f->ep, "bad name", "x", 0, &err), -EINVAL);
	assert_int_equal(kc_ep_user_auth(f->ep, "admin", "secret", &ro, &err), 0);
	assert_int_equal(ro, 0);
	assert_int_equal(kc_ep_user_auth(f->ep, "admin", "Secret", &ro, &err), -EACCES);
	assert_int_equal(kc_ep_user_auth(f->ep, "nobody", "secret", &ro, &err), -EACCES);
	assert_int_equal(kc_ep_apikey_add(f->ep, 1, "ci", token, &err), 0);
	assert_int_equal(strlen(token), KC_EP_APIKEY_LEN);
	assert_int_equal(kc_ep_apikey_auth(f->ep, token, &ro, &err), 0);
	assert_int_equal(ro, 1);
	token[0] = token[0] == 'a' ? 'b' : 'a';
	assert_int_equal(kc_ep_apikey_auth(f->ep, token, &ro, &err), -EACCES);
	assert_int_equal(kc_ep_apikey_auth(f->ep, "", &ro, &err), -EACCES);
}

static void test_eportal_model__db_translation(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	int64_t v = 0;

	/* a '?' inside a string literal is not a placeholder */
	assert_int_equal(kc_db_begin(f->ep->db, 1, &err), 0);
	assert_int_equal(
	    kc_db_query_int(f->ep->db, &v, &err, "SELECT length('a?b') + ?", "i", (int64_t)10), 1);
	assert_int_equal(v, 13);
	assert_int_equal(kc_db_run(f->ep->db, &err,
				   "INSERT INTO settings (name, value) VALUES (?, ?)", "tt", "x",
				   "1"),
			 1);
	assert_int_equal(kc_db_run(f->ep->db, &err,
				   "INSERT INTO settings (name, value) VALUES (?, ?)", "tt", "x",
				   "2"),
			 -EEXIST);
	kc_db_rollback(f->ep->db);
	assert_int_equal(kc_db_begin(f->ep->db, 0, &err), 0);
	assert_int_equal(kc_db_query_int(f->ep->db, &v, &err,
					 "SELECT COUNT(*) FROM settings WHERE name = 'x'", ""),
			 1);
	kc_db_rollback(f->ep->db);
	assert_int_equal(v, 0); /* rolled back */
}

/* kc_trust_fetch_fn reading the repository straight from the data directory. */
static int fetch_dir(void *ctx, const char *name, size_t max_len, unsigned char **buf, size_t *len,
		     struct kc_err *err)
{
	char path[512];
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/%s", (const char *)ctx, name);
	fp = fopen(path, "rb");
	if (!fp)
		return kc_err_set(err, -ENOENT, "no '%s'", name);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	if (n < 0 || (size_t)n > max_len) {
		fclose(fp);
		return kc_err_set(err, -EFBIG, "'%s' too big", name);
	}
	*buf = malloc((size_t)n + 1);
	*len = fread(*buf, 1, (size_t)n, fp);
	fclose(fp);
	return 0;
}

/* An agent-side client trusts what the server publishes, across key rotations. */
static void test_eportal_model__client_follows_rotation(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_trust_pubkey root;
	struct kc_trust_client *c = NULL;
	const struct kc_trust_target *t;
	struct kc_trust_feed_ref want[2] = {{"main", "kernel"}, {"test", "qemu"}};
	struct kc_ep_feed feed = {.name = "test", .channel = "test"};
	char state_dir[128], path[256];
	size_t n = 9;
	uint64_t v = 0;

	snprintf(state_dir, sizeof(state_dir), "%s/client", f->dir);
	assert_int_equal(kc_ep_root_pub_path(f->ep, path, sizeof(path), &err), 0);
	assert_int_equal(kc_trust_pubkey_load(path, &root, &err), 0);
	assert_int_equal(kc_trust_client_import_key(state_dir, &root, &err), 0);
	assert_int_equal(kc_ep_feed_add(f->ep, &feed, &err), 0);
	assert_int_equal(kc_trust_client_open(state_dir, &c, &err), 0);
	assert_int_equal(
	    kc_trust_client_update(c, fetch_dir, f->ep->repo_dir, want, 2, f->ep->now(), &err), 0);
	assert_int_equal(kc_trust_client_feed(c, "test", "qemu", f->ep->now(), &t, &n, &err), 0);
	assert_int_equal(n, 0);
	kc_trust_client_free(c);
	/* online keys, then the root key: the client walks both root versions */
	assert_int_equal(kc_ep_keys_rotate(f->ep, 0, &v, &err), 0);
	assert_int_equal(v, 2);
	assert_int_equal(kc_ep_keys_rotate(f->ep, 1, &v, &err), 0);
	assert_int_equal(v, 3);
	assert_int_equal(kc_trust_client_open(state_dir, &c, &err), 0);
	assert_int_equal(
	    kc_trust_client_update(c, fetch_dir, f->ep->repo_dir, want, 2, f->ep->now(), &err), 0);
	struct kc_trust_status st;
	kc_trust_client_status(c, &st);
	assert_int_equal(st.root_version, 3);
	kc_trust_client_free(c);
}

struct worker {
	struct kc_ep *ep;
	char server_id[KC_EP_KEY_LEN + 1];
	int failures;
};

static void *checkin_worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 50; i++) {
		struct kc_err err = KC_ERR_INIT;
		struct kc_ep_checkin c = {.patch_level = -2, .uptime = i};
		struct kc_ep_server s;
		/* every fifth call names an unknown server: it fails alone */
		if (i % 5 == 4) {
			if (kc_ep_checkin(w->ep, "ffff", &c, &s, &err) != -ENOENT)
				w->failures++;
			continue;
		}
		if (kc_ep_checkin(w->ep, w->server_id, &c, &s, &err) != 0 || s.uptime != i)
			w->failures++;
	}
	return NULL;
}

/* Concurrent check-ins share transactions (group commit); each gets its own result. */
static void test_eportal_model__group_commit(void **state)
{
	struct fixture *f = *state;
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_key k = {0};
	struct kc_ep_checkin c = {.patch_level = -1};
	struct worker w[8];
	pthread_t th[8];
	struct kc_ep_server s;

	assert_int_equal(kc_ep_key_add(f->ep, &k, &err), 0);
	for (int i = 0; i < 8; i++) {
		w[i].ep = f->ep;
		w[i].failures = 0;
		assert_int_equal(kc_ep_register(f->ep, k.key, &c, &s, &err), 0);
		strcpy(w[i].server_id, s.server_id);
	}
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, checkin_worker, &w[i]), 0);
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
		assert_int_equal(kc_ep_server_get(f->ep, w[i].server_id, &s, &err), 0);
		assert_int_equal(s.uptime, 48);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_eportal_model__first_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eportal_model__feeds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eportal_model__register_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eportal_model__ip_registration, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eportal_model__checkin_and_filters, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_eportal_model__kernel_updated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eportal_model__keys_change_delete, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_eportal_model__users_and_api_keys, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_eportal_model__db_translation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eportal_model__group_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eportal_model__client_follows_rotation, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
