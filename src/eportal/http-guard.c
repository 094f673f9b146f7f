// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A deadline for reading a request's head. libmicrohttpd's connection
 * timeout counts idle time only, so a client sending one header line every
 * few seconds keeps its connection forever (slowloris). Every connection is
 * noted when it opens and each time it waits for a new head (after a
 * keep-alive request); the access handler marks the head read. A sweep
 * thread shuts down the socket of a connection whose head is late, which
 * libmicrohttpd then sees as a client that went away and cleans up.
 *
 * The socket is only touched under the lock that the close notification
 * also takes, so it is never a descriptor that was closed and reused.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "eportal/http-int.h"

#define SWEEP_MS 250

struct conn {
	struct conn *prev, *next;
	int fd;
	atomic_llong head_since; /* ms (monotonic) the head began, 0 while none is awaited */
};

struct kc_httpd_guard {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct conn *head;
	int64_t limit_ms;
	atomic_llong *timeouts;
	int stop;
	pthread_t thread;
};

int64_t kc_httpd_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *sweep(void *arg)
{
	struct kc_httpd_guard *g = arg;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += SWEEP_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cond, &g->lock, &ts);
		int64_t now = kc_httpd_mono_ms();
		for (struct conn *c = g->head; c; c = c->next) {
			int64_t since = atomic_load(&c->head_since);
			if (since && now - since > g->limit_ms) {
				atomic_store(&c->head_since, 0);
				shutdown(c->fd, SHUT_RDWR);
				atomic_fetch_add(g->timeouts, 1);
			}
		}
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int kc_httpd_guard_start(struct kc_httpd_guard **out, unsigned head_timeout_s,
			 atomic_llong *timeouts, struct kc_err *err)
{
	struct kc_httpd_guard *g = calloc(1, sizeof(*g));

	if (!g)
		return kc_err_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->limit_ms = (int64_t)head_timeout_s * 1000;
	g->timeouts = timeouts;
	if (pthread_create(&g->thread, NULL, sweep, g) != 0) {
		pthread_mutex_destroy(&g->lock);
		pthread_cond_destroy(&g->cond);
		free(g);
		return kc_err_set(err, -EAGAIN, "cannot start the connection guard");
	}
	*out = g;
	return 0;
}

void kc_httpd_guard_stop(struct kc_httpd_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = 1;
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	/* libmicrohttpd has closed every connection by now: the list is empty */
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
	free(g);
}

void kc_httpd_guard_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
			   enum MHD_ConnectionNotificationCode code)
{
	struct kc_httpd_guard *g = cls;
	struct conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = ci ? calloc(1, sizeof(*c)) : NULL;
		*socket_context = c;
		if (!c)
			return; /* untracked: only the idle timeout applies */
		c->fd = ci->connect_fd;
		atomic_store(&c->head_since, kc_httpd_mono_ms());
		pthread_mutex_lock(&g->lock);
		c->next = g->head;
		if (g->head)
			g->head->prev = c;
		g->head = c;
		pthread_mutex_unlock(&g->lock);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && c) {
		pthread_mutex_lock(&g->lock);
		if (c->prev)
			c->prev->next = c->next;
		else
			g->head = c->next;
		if (c->next)
			c->next->prev = c->prev;
		pthread_mutex_unlock(&g->lock);
		free(c);
		*socket_context = NULL;
	}
}

static struct conn *conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void kc_httpd_guard_head_read(struct MHD_Connection *mc)
{
	struct conn *c = conn_of(mc);

	if (c)
		atomic_store(&c->head_since, 0);
}

void kc_httpd_guard_head_wait(struct MHD_Connection *mc)
{
	struct conn *c = conn_of(mc);

	if (c)
		atomic_store(&c->head_since, kc_httpd_mono_ms());
}
