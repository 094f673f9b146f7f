// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Decoding of what the network sends the patch server: JSON bodies (one
 * object, bounded depth, no trailing bytes), an agent's report, an admin key
 * object, the repository path check of the static file handler, and basic
 * auth credentials.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eportal/http-json.h"

static int parse(const char *s, struct json_object **o)
{
	struct kc_err err = KC_ERR_INIT;

	return kc_httpd_json_object(s, strlen(s), o, &err);
}

static void test_eportal_json__objects_only(void **state)
{
	struct json_object *o = NULL;
	char deep[200];

	(void)state;
	assert_int_equal(parse("{\"a\": 1}  \n", &o), 0);
	json_object_put(o);
	assert_int_equal(parse("", &o), -EBADMSG);
	assert_int_equal(parse("[1]", &o), -EBADMSG);
	assert_int_equal(parse("\"x\"", &o), -EBADMSG);
	assert_int_equal(parse("{\"a\": 1} x", &o), -EBADMSG);
	assert_int_equal(parse("{\"a\": 1}{}", &o), -EBADMSG);
	assert_int_equal(parse("{\"a\": ", &o), -EBADMSG);
	memset(deep, '[', sizeof(deep));
	deep[0] = '{';
	memcpy(deep + 1, "\"a\":", 4);
	deep[sizeof(deep) - 1] = '\0';
	assert_int_equal(parse(deep, &o), -EBADMSG);
	struct kc_err err = KC_ERR_INIT;
	assert_int_equal(kc_httpd_json_object("{\"a\":\"\0\"}", 9, &o, &err), -EBADMSG);
}

static void test_eportal_json__checkin(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_checkin c;
	struct json_object *o;

	(void)state;
	assert_int_equal(parse("{\"hostname\":\"h\",\"patch_level\":4,\"uptime\":10,"
			       "\"tags\":[\"a\",\"b\"],\"unknown\":[1,2]}",
			       &o),
			 0);
	assert_int_equal(kc_httpd_checkin_decode(o, &c, &err), 0);
	assert_string_equal(c.hostname, "h");
	assert_int_equal(c.patch_level, 4);
	assert_int_equal(c.ntags, 2);
	assert_true(c.tags_set);
	assert_null(c.kernel_id);
	json_object_put(o);
	assert_int_equal(parse("{}", &o), 0);
	assert_int_equal(kc_httpd_checkin_decode(o, &c, &err), 0);
	assert_int_equal(c.patch_level, -2);
	assert_int_equal(c.uptime, -1);
	assert_false(c.tags_set);
	json_object_put(o);
	static const char *const bad[] = {
	    "{\"hostname\":1}",
	    "{\"patch_level\":\"1\"}",
	    "{\"patch_level\":-5}",
	    "{\"uptime\":-1}",
	    "{\"tags\":\"a\"}",
	    "{\"tags\":[1]}",
	    "{\"tags\":[\"a,b\"]}",
	    "{\"distro\":\"a\\u0001\"}",
	    "{\"tags\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\","
	    "\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &o), 0);
		assert_int_equal(kc_httpd_checkin_decode(o, &c, &err), -EINVAL);
		json_object_put(o);
	}
}

static void test_eportal_json__key(void **state)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_key k;
	struct json_object *o;
	unsigned mask;

	(void)state;
	assert_int_equal(parse("{\"feed\":\"test\",\"server_limit\":5,\"products\":[\"qemu\","
			       "\"qemu\",\"db\"],\"sticky\":\"2021-08-18\"}",
			       &o),
			 0);
	assert_int_equal(kc_httpd_key_decode(o, &k, &mask, &err), 0);
	assert_string_equal(k.products, "qemu,db");
	assert_int_equal(k.server_limit, 5);
	assert_true(mask & KC_EP_KEY_LIMIT);
	assert_false(mask & KC_EP_KEY_NOTE);
	json_object_put(o);
	static const char *const bad[] = {"{\"products\":[\"windows\"]}", "{\"server_limit\":-1}",
					  "{\"sticky\":\"tomorrow\"}", "{\"ip_range\":\"x/33\"}",
					  "{\"products\":\"qemu\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &o), 0);
		assert_int_equal(kc_httpd_key_decode(o, &k, &mask, &err), -EINVAL);
		json_object_put(o);
	}
}

static void test_eportal_json__repo_paths(void **state)
{
	(void)state;
	assert_true(kc_httpd_repo_path_ok("timestamp.json"));
	assert_true(kc_httpd_repo_path_ok("feeds/main/3.kernel.json"));
	assert_true(kc_httpd_repo_path_ok("blobs/0123abcd"));
	assert_false(kc_httpd_repo_path_ok(""));
	assert_false(kc_httpd_repo_path_ok("../eportal.db"));
	assert_false(kc_httpd_repo_path_ok("feeds/../../keys/root.key"));
	assert_false(kc_httpd_repo_path_ok(".lock"));
	assert_false(kc_httpd_repo_path_ok("feeds//x"));
	assert_false(kc_httpd_repo_path_ok("feeds/"));
	assert_false(kc_httpd_repo_path_ok("/etc/passwd"));
	assert_false(kc_httpd_repo_path_ok("a/b/c/d/e"));
	assert_false(kc_httpd_repo_path_ok("a%2f"));
}

static int basic(const char *hdr, char *user, char *pass)
{
	struct kc_err err = KC_ERR_INIT;

	return kc_httpd_basic_decode(hdr, user, pass, &err);
}

static void test_eportal_json__basic_auth(void **state)
{
	static char user[KC_HTTPD_BASIC_MAX + 1], pass[KC_HTTPD_BASIC_MAX + 1];
	char big[2 * KC_HTTPD_BASIC_MAX];

	(void)state;
	assert_int_equal(basic("Basic YWRtaW46cHcgb25l", user, pass), 0); /* admin:pw one */
	assert_string_equal(user, "admin");
	assert_string_equal(pass, "pw one");
	assert_int_equal(basic("basic  YTpiOmM= ", user, pass), 0); /* a:b:c */
	assert_string_equal(user, "a");
	assert_string_equal(pass, "b:c");
	assert_int_equal(basic("Basic Og==", user, pass), 0); /* ":" */
	assert_string_equal(user, "");
	assert_string_equal(pass, "");
	assert_int_equal(basic("Bearer abc", user, pass), 1);
	assert_int_equal(basic("Basicx YQ==", user, pass), 1);
	/* a NUL in the password or the name is refused, never cut at */
	assert_int_equal(basic("Basic YWRtaW46cHcAanVuaw==", user, pass), -EBADMSG);
	assert_int_equal(basic("Basic YWQAbWluOnB3", user, pass), -EBADMSG);
	assert_int_equal(basic("Basic bm9jb2xvbg==", user, pass), -EBADMSG); /* nocolon */
	assert_int_equal(basic("Basic !!!", user, pass), -EBADMSG);
	assert_int_equal(basic("Basic YWRtaW46cHc", user, pass), -EBADMSG); /* no padding */
	assert_int_equal(basic("Basic YQ== x", user, pass), -EBADMSG);
	memcpy(big, "Basic ", 6);
	memset(big + 6, 'Q', sizeof(big) - 7);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(basic(big, user, pass), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eportal_json__objects_only),
	    cmocka_unit_test(test_eportal_json__checkin),
	    cmocka_unit_test(test_eportal_json__key),
	    cmocka_unit_test(test_eportal_json__repo_paths),
	    cmocka_unit_test(test_eportal_json__basic_auth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
