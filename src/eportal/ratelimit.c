// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Login limits (ratelimit.h): token buckets counted in 1/60000 tokens, so
 * that a refill of N tokens a minute is N units a millisecond, exactly, in an
 * open-addressing table keyed by the address's bytes. One mutex: a take or
 * give is a few comparisons, far below the cost of the password check it guards.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "eportal/ratelimit.h"

#define SLOTS 4096  /* addresses tracked at once */
#define PROBE 16    /* slots looked at per address */
#define UNIT  60000 /* a token; a refill of N a minute adds N units a ms */

struct bucket {
	int64_t units; /* tokens * UNIT */
	int64_t at_ms; /* when units was computed */
};

struct slot {
	unsigned char addr[16];
	int used;
	struct bucket b;
};

struct kc_rl {
	pthread_mutex_t lock;
	unsigned per_addr, global; /* per minute, bucket size */
	struct bucket all;
	struct slot *slots;
};

struct kc_rl *kc_rl_new(unsigned per_addr, unsigned global)
{
	struct kc_rl *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return NULL;
	rl->slots = calloc(SLOTS, sizeof(*rl->slots));
	if (!rl->slots) {
		free(rl);
		return NULL;
	}
	pthread_mutex_init(&rl->lock, NULL);
	rl->per_addr = per_addr;
	rl->global = global;
	rl->all.units = (int64_t)global * UNIT;
	return rl;
}

void kc_rl_free(struct kc_rl *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->slots);
	free(rl);
}

/* Brings @b up to @now_ms: @per_min tokens a minute, at most @per_min. */
static void refill(struct bucket *b, unsigned per_min, int64_t now_ms)
{
	int64_t cap = (int64_t)per_min * UNIT;

	if (now_ms > b->at_ms) {
		int64_t add = (now_ms - b->at_ms) * per_min;
		b->units = add >= cap - b->units ? cap : b->units + add;
	}
	b->at_ms = now_ms;
}

/* Seconds until @b holds a whole token again. */
static unsigned wait_s(const struct bucket *b, unsigned per_min)
{
	int64_t ms = (UNIT - b->units + per_min - 1) / per_min;

	return ms <= 1000 ? 1 : (unsigned)((ms + 999) / 1000);
}

/* 16 bytes naming the address; IPv6 keeps its /64 (one host's share). */
static void addr_key(const char *addr, unsigned char key[16])
{
	memset(key, 0, 16);
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (inet_pton(AF_INET6, addr, key) == 1) {
		if (memcmp(key, v4mapped, 12))
			memset(key + 8, 0, 8);
	} else if (inet_pton(AF_INET, addr, key + 12) == 1) {
		key[10] = key[11] = 0xff; /* as a v4-mapped address */
	} else {
		size_t n = strlen(addr);
		memcpy(key, addr, n < 16 ? n : 16); /* not an address: its text */
	}
}

static unsigned hash(const unsigned char key[16])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/*
 * The slot of @key, claimed when new. A full table gives up the slot whose
 * bucket is fullest after refill: a full bucket says nothing a fresh one
 * would not, so only attackers that keep many buckets drained compete.
 */
static struct slot *find(struct kc_rl *rl, const unsigned char key[16], int64_t now_ms, int create)
{
	unsigned h = hash(key);
	struct slot *victim = NULL;

	for (unsigned i = 0; i < PROBE; i++) {
		struct slot *s = &rl->slots[(h + i) % SLOTS];
		if (s->used && !memcmp(s->addr, key, 16))
			return s;
		if (!s->used) {
			if (!victim || victim->used)
				victim = s;
			continue;
		}
		refill(&s->b, rl->per_addr, now_ms);
		if (!victim || (victim->used && s->b.units > victim->b.units))
			victim = s;
	}
	if (!create)
		return NULL;
	memcpy(victim->addr, key, 16);
	victim->used = 1;
	victim->b.units = (int64_t)rl->per_addr * UNIT;
	victim->b.at_ms = now_ms;
	return victim;
}

enum kc_rl_verdict kc_rl_take(struct kc_rl *rl, const char *addr, int64_t now_ms, unsigned *retry_s)
{
	unsigned char key[16];
	struct slot *s = NULL;
	enum kc_rl_verdict v = KC_RL_OK;

	addr_key(addr, key);
	pthread_mutex_lock(&rl->lock);
	if (rl->per_addr) {
		s = find(rl, key, now_ms, 1);
		refill(&s->b, rl->per_addr, now_ms);
		if (s->b.units < UNIT) {
			*retry_s = wait_s(&s->b, rl->per_addr);
			v = KC_RL_ADDR;
		}
	}
	if (v == KC_RL_OK && rl->global) {
		refill(&rl->all, rl->global, now_ms);
		if (rl->all.units < UNIT) {
			*retry_s = wait_s(&rl->all, rl->global);
			v = KC_RL_GLOBAL;
		}
	}
	if (v == KC_RL_OK) {
		if (s)
			s->b.units -= UNIT;
		if (rl->global)
			rl->all.units -= UNIT;
	}
	pthread_mutex_unlock(&rl->lock);
	return v;
}

void kc_rl_give(struct kc_rl *rl, const char *addr, int64_t now_ms)
{
	unsigned char key[16];
	struct slot *s;

	addr_key(addr, key);
	pthread_mutex_lock(&rl->lock);
	if (rl->per_addr && (s = find(rl, key, now_ms, 0))) {
		refill(&s->b, rl->per_addr, now_ms);
		s->b.units += UNIT;
		if (s->b.units > (int64_t)rl->per_addr * UNIT)
			s->b.units = (int64_t)rl->per_addr * UNIT;
	}
	if (rl->global) {
		refill(&rl->all, rl->global, now_ms);
		rl->all.units += UNIT;
		if (rl->all.units > (int64_t)rl->global * UNIT)
			rl->all.units = (int64_t)rl->global * UNIT;
	}
	pthread_mutex_unlock(&rl->lock);
}
