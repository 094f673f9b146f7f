// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The patch server's login limits (ratelimit.h) on a clock the test moves:
 * per-address and global buckets, refill of N a minute, tokens given back
 * after a right password, IPv6 by /64, and a full table of addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "eportal/ratelimit.h"

static void test_eportal_ratelimit__per_address(void **state)
{
	struct kc_rl *rl = kc_rl_new(3, 0);
	unsigned retry = 0;
	int64_t t = 1000000;

	(void)state;
	assert_non_null(rl);
	for (int i = 0; i < 3; i++)
		assert_int_equal(kc_rl_take(rl, "10.0.0.1", t, &retry), KC_RL_OK);
	assert_int_equal(kc_rl_take(rl, "10.0.0.1", t, &retry), KC_RL_ADDR);
	assert_int_equal(retry, 20); /* 3 a minute: one every 20 s */
	assert_int_equal(kc_rl_take(rl, "10.0.0.2", t, &retry), KC_RL_OK);
	/* refill: nothing after 19.999 s, one token after 20 s, never more than 3 */
	assert_int_equal(kc_rl_take(rl, "10.0.0.1", t + 19999, &retry), KC_RL_ADDR);
	assert_int_equal(retry, 1);
	assert_int_equal(kc_rl_take(rl, "10.0.0.1", t + 20000, &retry), KC_RL_OK);
	assert_int_equal(kc_rl_take(rl, "10.0.0.1", t + 20000, &retry), KC_RL_ADDR);
	/* many small steps refill as much as one big one */
	for (int64_t ms = 1; ms <= 20000; ms++)
		(void)kc_rl_take(rl, "10.0.0.9", t + 20000 + ms, &retry);
	t += 3600 * 1000;
	for (int i = 0; i < 3; i++)
		assert_int_equal(kc_rl_take(rl, "10.0.0.1", t, &retry), KC_RL_OK);
	assert_int_equal(kc_rl_take(rl, "10.0.0.1", t, &retry), KC_RL_ADDR);
	/* a right password gives its token back */
	kc_rl_give(rl, "10.0.0.1", t);
	assert_int_equal(kc_rl_take(rl, "10.0.0.1", t, &retry), KC_RL_OK);
	kc_rl_free(rl);
}

static void test_eportal_ratelimit__global(void **state)
{
	struct kc_rl *rl = kc_rl_new(100, 2);
	unsigned retry = 0;
	int64_t t = 5000;

	(void)state;
	assert_int_equal(kc_rl_take(rl, "10.0.0.1", t, &retry), KC_RL_OK);
	assert_int_equal(kc_rl_take(rl, "10.0.0.2", t, &retry), KC_RL_OK);
	assert_int_equal(kc_rl_take(rl, "10.0.0.3", t, &retry), KC_RL_GLOBAL);
	assert_int_equal(retry, 30);
	kc_rl_give(rl, "10.0.0.1", t);
	assert_int_equal(kc_rl_take(rl, "10.0.0.3", t, &retry), KC_RL_OK);
	kc_rl_free(rl);
	/* 0 turns a limit off */
	rl = kc_rl_new(0, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(kc_rl_take(rl, "10.0.0.1", t, &retry), KC_RL_OK);
	kc_rl_free(rl);
}

static void test_eportal_ratelimit__ipv6_and_table(void **state)
{
	struct kc_rl *rl = kc_rl_new(1, 0);
	unsigned retry = 0;
	char addr[64];

	(void)state;
	assert_int_equal(kc_rl_take(rl, "2001:db8:1:2::1", 0, &retry), KC_RL_OK);
	/* the same /64 is the same client */
	assert_int_equal(kc_rl_take(rl, "2001:db8:1:2:ffff::7", 0, &retry), KC_RL_ADDR);
	assert_int_equal(kc_rl_take(rl, "2001:db8:1:3::1", 0, &retry), KC_RL_OK);
	/* v4-mapped addresses are whole addresses, not one /64 */
	assert_int_equal(kc_rl_take(rl, "::ffff:192.168.0.1", 0, &retry), KC_RL_OK);
	assert_int_equal(kc_rl_take(rl, "::ffff:192.168.0.2", 0, &retry), KC_RL_OK);
	/* and the same client as their IPv4 form */
	assert_int_equal(kc_rl_take(rl, "192.168.0.2", 0, &retry), KC_RL_ADDR);
	/* more drained addresses than the table holds: a drained one may be forgotten, but
	 * an address never gets more than its bucket while it is remembered */
	for (int i = 0; i < 20000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		assert_int_equal(kc_rl_take(rl, addr, 0, &retry), KC_RL_OK);
	}
	assert_int_equal(kc_rl_take(rl, "10.0.78.31", 0, &retry), KC_RL_ADDR);
	kc_rl_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eportal_ratelimit__per_address),
	    cmocka_unit_test(test_eportal_ratelimit__global),
	    cmocka_unit_test(test_eportal_ratelimit__ipv6_and_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
