/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Token buckets of the patch server's login limits: one bucket per client
 * address (IPv6 by /64, so one host cannot rotate addresses) and one for the
 * whole server. A password check takes a token from both before it runs and
 * gives it back when the password was right, so what the buckets count is
 * failed (and running) logins. Buckets refill continuously; the per-address
 * table has a fixed size and forgets full buckets first.
 */
#ifndef KC_EPORTAL_RATELIMIT_H
#define KC_EPORTAL_RATELIMIT_H

#include <stdint.h>

struct kc_rl;

/*
 * @per_addr and @global: tokens per minute, which is also each bucket's
 * size (a burst of a minute's worth). 0 turns that limit off. NULL when out
 * of memory.
 */
struct kc_rl *kc_rl_new(unsigned per_addr, unsigned global);
void kc_rl_free(struct kc_rl *rl);

enum kc_rl_verdict {
	KC_RL_OK,
	KC_RL_ADDR,   /* the address's bucket is empty */
	KC_RL_GLOBAL, /* the server's bucket is empty */
};

/*
 * Takes a token for @addr (a numeric address) at @now_ms (any monotonic
 * clock). When refused, *@retry_s is when to try again (whole seconds, >= 1)
 * and nothing was taken.
 */
enum kc_rl_verdict kc_rl_take(struct kc_rl *rl, const char *addr, int64_t now_ms,
			      unsigned *retry_s);
/* Gives back the token of a login that succeeded (or never ran). */
void kc_rl_give(struct kc_rl *rl, const char *addr, int64_t now_ms);

#endif
