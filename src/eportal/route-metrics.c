// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * GET /metrics in Prometheus text format: the process's request counters
 * (http.c counts them, lock-free) and gauges read from the database in one
 * read transaction per scrape. No credentials: expose it where counts may be seen.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "eportal/http-int.h"
#include "eportal/model.h"

int kc_httpd_route_metrics(struct kc_httpd_req *r, struct kc_httpd_reply *rep)
{
	struct kc_httpd_stats *s = &r->h->st;
	struct kc_ep *ep = r->h->ep;
	struct kc_err err = KC_ERR_INIT;
	int64_t servers = 0, active = 0, outdated = 0, keys = 0, ps = 0, feeds = 0;
	char *text = NULL;
	int db_ok = kc_db_begin(ep->db, 0, &err) == 0;

	if (db_ok) {
		db_ok =
		    kc_db_query_int(ep->db, &servers, &err, "SELECT COUNT(*) FROM servers", "") >=
			0 &&
		    kc_db_query_int(ep->db, &active, &err,
				    "SELECT COUNT(*) FROM servers WHERE last_seen >= ?", "i",
				    ep->now() - r->h->o.inactive_after) >= 0 &&
		    kc_db_query_int(ep->db, &outdated, &err,
				    "SELECT COUNT(*) FROM servers WHERE is_updated = 0", "") >= 0 &&
		    kc_db_query_int(ep->db, &keys, &err, "SELECT COUNT(*) FROM keys", "") >= 0 &&
		    kc_db_query_int(ep->db, &ps, &err, "SELECT COUNT(*) FROM patchsets", "") >= 0 &&
		    kc_db_query_int(ep->db, &feeds, &err, "SELECT COUNT(*) FROM feeds", "") >= 0;
		kc_ep_txn_end(ep->db, 0, &err);
	}
	if (asprintf(
		&text,
		"# HELP eportal_up 1 when the database answered this scrape\n"
		"# TYPE eportal_up gauge\neportal_up %d\n"
		"# TYPE eportal_start_time_seconds gauge\neportal_start_time_seconds %" PRId64 "\n"
		"# HELP eportal_http_requests_total requests by endpoint family\n"
		"# TYPE eportal_http_requests_total counter\n"
		"eportal_http_requests_total{family=\"agent\"} %lld\n"
		"eportal_http_requests_total{family=\"admin\"} %lld\n"
		"eportal_http_requests_total{family=\"repo\"} %lld\n"
		"eportal_http_requests_total{family=\"all\"} %lld\n"
		"# TYPE eportal_http_responses_total counter\n"
		"eportal_http_responses_total{class=\"2xx\"} %lld\n"
		"eportal_http_responses_total{class=\"4xx\"} %lld\n"
		"eportal_http_responses_total{class=\"5xx\"} %lld\n"
		"# TYPE eportal_repo_bytes_total counter\neportal_repo_bytes_total %lld\n"
		"# TYPE eportal_registrations_total counter\neportal_registrations_total %lld\n"
		"# TYPE eportal_checkins_total counter\neportal_checkins_total %lld\n"
		"# TYPE eportal_deploys_total counter\neportal_deploys_total %lld\n"
		"# TYPE eportal_servers gauge\neportal_servers %" PRId64 "\n"
		"# TYPE eportal_servers_active gauge\neportal_servers_active %" PRId64 "\n"
		"# TYPE eportal_servers_outdated gauge\neportal_servers_outdated %" PRId64 "\n"
		"# TYPE eportal_keys gauge\neportal_keys %" PRId64 "\n"
		"# TYPE eportal_feeds gauge\neportal_feeds %" PRId64 "\n"
		"# TYPE eportal_patchsets gauge\neportal_patchsets %" PRId64 "\n"
		"# HELP eportal_password_checks_total password hashes run for basic auth\n"
		"# TYPE eportal_password_checks_total counter\neportal_password_checks_total %lld\n"
		"# HELP eportal_logins_refused_total basic-auth refused before a password check\n"
		"# TYPE eportal_logins_refused_total counter\n"
		"eportal_logins_refused_total{reason=\"limit\"} %lld\n"
		"eportal_logins_refused_total{reason=\"busy\"} %lld\n"
		"# HELP eportal_http_head_timeouts_total connections closed for a late request "
		"head\n"
		"# TYPE eportal_http_head_timeouts_total counter\neportal_http_head_timeouts_total "
		"%lld\n",
		db_ok, r->h->started, (long long)s->agent, (long long)s->admin, (long long)s->repo,
		(long long)s->requests, (long long)s->status_2xx, (long long)s->status_4xx,
		(long long)s->status_5xx, (long long)s->bytes_repo, (long long)s->registrations,
		(long long)s->checkins, (long long)s->deploys, servers, active, outdated, keys,
		feeds, ps, (long long)ep->pw_checks, (long long)s->login_limited,
		(long long)s->login_busy, (long long)s->head_timeouts) < 0) {
		kc_httpd_error(rep, 500, "internal-error", "out of memory");
		return 1;
	}
	rep->status = 200;
	rep->ctype = "text/plain; version=0.0.4";
	rep->body = text;
	rep->len = strlen(text);
	return 1;
}
