// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Authentication of admin requests: X-Api-Key (a sha256 and one lookup,
 * cheap) or HTTP basic auth of a user, whose password check is an argon2id
 * run of 64 MiB on purpose. That cost must not let guessers take the server
 * down, so a password check
 *   - is skipped when the same name and password succeeded within a minute
 *     (a short cache of digests),
 *   - needs a token of the client address's and of the server's login
 *     buckets (ratelimit.h; given back when the password was right), else 429,
 *   - runs on a few hash threads of their own, fed by a bounded queue (503
 *     at once when full), while the request's connection is suspended: the
 *     request threads, and with them /repo/ and the agent API, never wait on
 *     a hash.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eportal/http-int.h"
#include "eportal/http-json.h"
#include "eportal/ratelimit.h"

#define AUTH_CACHE     32
#define AUTH_CACHE_TTL 60

struct job {
	struct job *next;
	struct kc_httpd_auth_slot *slot;
	struct MHD_Connection *conn;
	unsigned char digest[32];
	char ip[64];
	char user[KC_HTTPD_BASIC_MAX + 1];
	char pass[KC_HTTPD_BASIC_MAX + 1];
};

struct kc_httpd_auth_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, **tail;
	unsigned queued, max_queue;
	int stopping;
	pthread_t *threads;
	unsigned nthreads;
	struct kc_rl *rl;
	struct kc_httpd *h;
};

static struct {
	pthread_mutex_t lock;
	struct {
		unsigned char digest[32]; /* sha256(user NUL password) */
		int readonly;
		int64_t until;
		unsigned generation; /* of the users when it was checked */
	} e[AUTH_CACHE];
	unsigned next;
} auth_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A login checked since the last change of users (@gen), if any. */
static enum kc_httpd_auth cache_get(const unsigned char d[32], int64_t now, unsigned gen)
{
	enum kc_httpd_auth res = KC_HTTPD_AUTH_NONE;

	pthread_mutex_lock(&auth_cache.lock);
	for (unsigned i = 0; i < AUTH_CACHE; i++)
		if (auth_cache.e[i].until > now && auth_cache.e[i].generation == gen &&
		    !sodium_memcmp(auth_cache.e[i].digest, d, 32)) {
			res =
			    auth_cache.e[i].readonly ? KC_HTTPD_AUTH_READONLY : KC_HTTPD_AUTH_ADMIN;
			break;
		}
	pthread_mutex_unlock(&auth_cache.lock);
	return res;
}

static void cache_put(const unsigned char d[32], int ro, int64_t now, unsigned gen)
{
	pthread_mutex_lock(&auth_cache.lock);
	unsigned i = auth_cache.next++ % AUTH_CACHE;
	memcpy(auth_cache.e[i].digest, d, 32);
	auth_cache.e[i].readonly = ro;
	auth_cache.e[i].until = now + AUTH_CACHE_TTL;
	auth_cache.e[i].generation = gen;
	pthread_mutex_unlock(&auth_cache.lock);
}

static void *hash_thread(void *arg)
{
	struct kc_httpd_auth_pool *p = arg;

	for (;;) {
		struct kc_err err = KC_ERR_INIT;
		struct job *j;
		int ro = 1;

		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		j = p->head;
		if (!j) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		p->head = j->next;
		if (!p->head)
			p->tail = &p->head;
		p->queued--;
		int stopping = p->stopping;
		pthread_mutex_unlock(&p->lock);
		/* read before the check: a change of users during it voids the result */
		unsigned gen = atomic_load(&p->h->ep->users_generation);
		if (stopping) {
			j->slot->result = KC_HTTPD_AUTH_NONE;
			j->slot->unavailable = 1;
			kc_rl_give(p->rl, j->ip, kc_httpd_mono_ms());
		} else if (kc_ep_user_auth(p->h->ep, j->user, j->pass, &ro, &err) == 0) {
			j->slot->result = ro ? KC_HTTPD_AUTH_READONLY : KC_HTTPD_AUTH_ADMIN;
			cache_put(j->digest, ro, p->h->ep->now(), gen);
			kc_rl_give(p->rl, j->ip, kc_httpd_mono_ms());
		} else {
			j->slot->result = KC_HTTPD_AUTH_NONE;
		}
		atomic_store(&j->slot->state, KC_HTTPD_AUTH_SLOT_DONE);
		MHD_resume_connection(j->conn);
		sodium_memzero(j->pass, sizeof(j->pass));
		free(j);
	}
}

int kc_httpd_auth_start(struct kc_httpd *h, struct kc_err *err)
{
	struct kc_httpd_auth_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return kc_err_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->tail = &p->head;
	p->max_queue = h->o.auth_queue;
	p->h = h;
	p->rl = kc_rl_new(h->o.login_limit, h->o.login_limit_global);
	p->threads = calloc(h->o.auth_threads, sizeof(*p->threads));
	h->auth = p;
	if (!p->rl || !p->threads) {
		kc_httpd_auth_free(h);
		return kc_err_set(err, -ENOMEM, "out of memory");
	}
	for (; p->nthreads < h->o.auth_threads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], NULL, hash_thread, p) != 0) {
			kc_httpd_auth_stop(h);
			kc_httpd_auth_free(h);
			return kc_err_set(err, -EAGAIN, "cannot start the password threads");
		}
	return 0;
}

void kc_httpd_auth_stop(struct kc_httpd *h)
{
	struct kc_httpd_auth_pool *p = h->auth;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	/* the threads answer what is queued as unavailable and resume those connections */
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	p->nthreads = 0;
}

void kc_httpd_auth_free(struct kc_httpd *h)
{
	struct kc_httpd_auth_pool *p = h->auth;

	if (!p)
		return;
	kc_rl_free(p->rl);
	free(p->threads);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
	h->auth = NULL;
}

/* A refusal that says when to come back. */
static int refuse(struct kc_httpd_reply *rep, int status, const char *code, const char *msg,
		  unsigned retry_s, atomic_llong *counter)
{
	kc_httpd_error(rep, status, code, msg);
	rep->retry_after = retry_s;
	atomic_fetch_add(counter, 1);
	return -1;
}

int kc_httpd_authenticate(struct kc_httpd_req *r, struct kc_httpd_auth_slot *slot,
			  struct kc_httpd_reply *rep)
{
	struct kc_httpd_auth_pool *p = r->h->auth;
	struct kc_err err = KC_ERR_INIT;
	const char *token = kc_httpd_header(r, "X-Api-Key");
	const char *hdr = kc_httpd_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	crypto_hash_sha256_state s;
	unsigned retry = 1;
	struct job *j;
	int ro = 1, rc;

	if (atomic_load(&slot->state) == KC_HTTPD_AUTH_SLOT_DONE) {
		if (slot->unavailable)
			return refuse(rep, 503, "unavailable", "the server is stopping", 1,
				      &r->h->st.login_busy);
		r->auth = slot->result;
		return 0;
	}
	r->auth = KC_HTTPD_AUTH_NONE;
	if (token) {
		if (kc_ep_apikey_auth(r->h->ep, token, &ro, &err) == 0)
			r->auth = ro ? KC_HTTPD_AUTH_READONLY : KC_HTTPD_AUTH_ADMIN;
		return 0;
	}
	if (!hdr)
		return 0;
	j = calloc(1, sizeof(*j));
	if (!j) {
		kc_httpd_error(rep, 500, "internal-error", "out of memory");
		return -1;
	}
	rc = kc_httpd_basic_decode(hdr, j->user, j->pass, &err);
	if (rc != 0) {
		free(j);
		if (rc > 0)
			return 0; /* another scheme: no credentials of ours */
		kc_httpd_fail(rep, -EBADMSG, &err);
		return -1;
	}
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, (const unsigned char *)j->user, strlen(j->user) + 1);
	crypto_hash_sha256_update(&s, (const unsigned char *)j->pass, strlen(j->pass));
	crypto_hash_sha256_final(&s, j->digest);
	r->auth = cache_get(j->digest, r->h->ep->now(), atomic_load(&r->h->ep->users_generation));
	if (r->auth != KC_HTTPD_AUTH_NONE) {
		sodium_memzero(j->pass, sizeof(j->pass));
		free(j);
		return 0;
	}
	snprintf(j->ip, sizeof(j->ip), "%s", r->ip);
	j->slot = slot;
	j->conn = r->conn;
	switch (kc_rl_take(p->rl, j->ip, kc_httpd_mono_ms(), &retry)) {
	case KC_RL_ADDR:
		rc = refuse(rep, 429, "too-many-logins",
			    "too many failed logins from this address; try again later", retry,
			    &r->h->st.login_limited);
		break;
	case KC_RL_GLOBAL:
		rc = refuse(rep, 429, "too-many-logins",
			    "too many failed logins on this server; try again later", retry,
			    &r->h->st.login_limited);
		break;
	default:
		rc = 1;
		break;
	}
	if (rc < 0) {
		sodium_memzero(j->pass, sizeof(j->pass));
		free(j);
		return rc;
	}
	pthread_mutex_lock(&p->lock);
	if (p->stopping || p->queued >= p->max_queue) {
		pthread_mutex_unlock(&p->lock);
		kc_rl_give(p->rl, j->ip, kc_httpd_mono_ms());
		sodium_memzero(j->pass, sizeof(j->pass));
		free(j);
		return refuse(rep, 503, "busy", "too many logins waiting; try again shortly", 1,
			      &r->h->st.login_busy);
	}
	/* suspended before a hash thread can see the job, so its resume never comes first */
	atomic_store(&slot->state, KC_HTTPD_AUTH_SLOT_PENDING);
	MHD_suspend_connection(r->conn);
	*p->tail = j;
	p->tail = &j->next;
	p->queued++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 1;
}
