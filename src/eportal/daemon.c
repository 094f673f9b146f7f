// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * eportal: the patch server daemon. Opens the data directory (first start
 * creates it, its schema and its keys), serves HTTP until SIGTERM or SIGINT,
 * re-signs the repository's timestamp periodically and, when asked, runs the
 * feeds' auto-update on a schedule. Prints one line when it is ready:
 * "eportal: listening on URL". Everything else is in the library.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eportal/eportal.h"
#include "eportal/http.h"
#include "kcare/exitcodes.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: eportal --listen HOST:PORT --data DIR [--db postgresql://...] [options]\n"
	    "  --listen HOST:PORT    address to serve on (default 127.0.0.1:8080; port 0: any)\n"
	    "  --data DIR            data directory (default /var/lib/eportal)\n"
	    "  --db URL              PostgreSQL database (default: DIR/eportal.db, SQLite)\n"
	    "  --public-url URL      base URL agents reach this server at\n"
	    "  --threads N           worker threads (default 4)\n"
	    "  --max-connections N   open connections (default 1024)\n"
	    "  --per-ip-limit N      connections per client address (default 128; 0: no limit)\n"
	    "  --timeout SECONDS     idle time before a connection is closed (default 15)\n"
	    "  --head-timeout SECONDS  time to send a request's head (default 10)\n"
	    "  --login-limit N       failed logins per client address and minute (default 10;\n"
	    "                        0: no limit)\n"
	    "  --login-limit-global N  failed logins per minute from all addresses (default 100;\n"
	    "                        0: no limit)\n"
	    "  --auth-threads N      threads that check passwords (default 1)\n"
	    "  --auth-queue N        password checks that may wait (default 16; more: 503)\n"
	    "  --max-body BYTES      JSON request bodies (default 65536)\n"
	    "  --max-upload BYTES    patchset uploads (default 67108864)\n"
	    "  --max-report BYTES    kcarectl --doctor report uploads (default 16777216)\n"
	    "  --reports-per-day N   doctor reports kept per address and day (default 100)\n"
	    "  --refresh SECONDS     re-sign the timestamp this often (default 3600)\n"
	    "  --auto-update SECONDS run auto-update of every product this often (default off)\n");
}

static long num(const char *s, const char *opt)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0) {
		fprintf(stderr, "eportal: %s needs a whole number >= 0\n", opt);
		exit(KC_EXIT_USAGE);
	}
	return v;
}

static long positive(const char *s, const char *opt)
{
	long v = num(s, opt);

	if (v < 1 || v > 1000000) {
		fprintf(stderr, "eportal: %s needs a whole number from 1 to 1000000\n", opt);
		exit(KC_EXIT_USAGE);
	}
	return v;
}

/* A limit where 0 on the command line means none (0 in the options means the default). */
static unsigned unlimited(long v)
{
	return v == 0 ? KC_HTTPD_UNLIMITED : v > 1000000 ? 1000000 : (unsigned)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"data", required_argument, NULL, 'd'},
	    {"db", required_argument, NULL, 'b'},
	    {"public-url", required_argument, NULL, 'u'},
	    {"threads", required_argument, NULL, 't'},
	    {"max-connections", required_argument, NULL, 'c'},
	    {"per-ip-limit", required_argument, NULL, 'p'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"head-timeout", required_argument, NULL, 'H'},
	    {"login-limit", required_argument, NULL, 'L'},
	    {"login-limit-global", required_argument, NULL, 'G'},
	    {"auth-threads", required_argument, NULL, 'A'},
	    {"auth-queue", required_argument, NULL, 'Q'},
	    {"max-body", required_argument, NULL, 'B'},
	    {"max-upload", required_argument, NULL, 'U'},
	    {"max-report", required_argument, NULL, 'R'},
	    {"reports-per-day", required_argument, NULL, 'D'},
	    {"refresh", required_argument, NULL, 'r'},
	    {"auto-update", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_httpd_opts o = {.listen = "127.0.0.1:8080"};
	struct kc_err err = KC_ERR_INIT;
	const char *data = "/var/lib/eportal", *db = NULL;
	long refresh = 3600, autoupd = 0;
	struct kc_ep *ep = NULL;
	struct kc_httpd *h = NULL;
	sigset_t set;
	int c, sig;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.listen = optarg;
			break;
		case 'd':
			data = optarg;
			break;
		case 'b':
			db = optarg;
			break;
		case 'u':
			o.public_url = optarg;
			break;
		case 't':
			o.threads = (unsigned)num(optarg, "--threads");
			break;
		case 'c':
			o.conn_limit = (unsigned)num(optarg, "--max-connections");
			break;
		case 'p':
			o.per_ip_limit = unlimited(num(optarg, "--per-ip-limit"));
			break;
		case 'H':
			o.head_timeout = (unsigned)positive(optarg, "--head-timeout");
			break;
		case 'L':
			o.login_limit = unlimited(num(optarg, "--login-limit"));
			break;
		case 'G':
			o.login_limit_global = unlimited(num(optarg, "--login-limit-global"));
			break;
		case 'A':
			o.auth_threads = (unsigned)positive(optarg, "--auth-threads");
			break;
		case 'Q':
			o.auth_queue = (unsigned)positive(optarg, "--auth-queue");
			break;
		case 'T':
			o.timeout = (unsigned)num(optarg, "--timeout");
			break;
		case 'B':
			o.max_body = (size_t)num(optarg, "--max-body");
			break;
		case 'U':
			o.max_upload = (size_t)num(optarg, "--max-upload");
			break;
		case 'R':
			o.max_report = (size_t)num(optarg, "--max-report");
			break;
		case 'D':
			o.report_quota = (unsigned)num(optarg, "--reports-per-day");
			break;
		case 'r':
			refresh = num(optarg, "--refresh");
			break;
		case 'a':
			autoupd = num(optarg, "--auto-update");
			break;
		case 'h':
			usage(stdout);
			return KC_EXIT_OK;
		case 'V':
			printf("eportal %s\n", KC_VERSION);
			return KC_EXIT_OK;
		default:
			usage(stderr);
			return KC_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "eportal: unexpected argument '%s'\n", argv[optind]);
		return KC_EXIT_USAGE;
	}
	/* signals are taken synchronously below; worker threads inherit the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (kc_ep_open(data, db, 0, &ep, &err) < 0 || kc_ep_servers_refresh(ep, &err) < 0 ||
	    kc_ep_publish(ep, &err) < 0 || kc_httpd_start(ep, &o, &h, &err) < 0) {
		fprintf(stderr, "eportal: %s\n", err.msg);
		kc_ep_close(ep);
		return KC_EXIT_ERROR;
	}
	printf("eportal: listening on http://%s (port %u), data %s, %s database\n", o.listen,
	       kc_httpd_port(h), data, db ? "postgresql" : "sqlite");
	fflush(stdout);
	time_t next_refresh = time(NULL) + refresh, next_auto = time(NULL) + autoupd;
	for (;;) {
		struct timespec ts = {.tv_sec = 1};
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		time_t now = time(NULL);
		if (refresh && now >= next_refresh) {
			next_refresh = now + refresh;
			if (kc_ep_refresh(ep, &err) < 0)
				fprintf(stderr, "eportal: refresh: %s\n", err.msg);
		}
		if (autoupd && now >= next_auto) {
			next_auto = now + autoupd;
			for (int i = 0; i < 4; i++) {
				int64_t n = 0;
				if (kc_ep_auto_update(ep, kc_ep_products[i], &n, &err) < 0)
					fprintf(stderr, "eportal: auto-update %s: %s\n",
						kc_ep_products[i], err.msg);
				else if (n)
					printf("eportal: auto-update enabled %lld %s patchsets\n",
					       (long long)n, kc_ep_products[i]);
			}
			fflush(stdout);
		}
	}
	kc_httpd_stop(h);
	kc_ep_close(ep);
	printf("eportal: stopped\n");
	return KC_EXIT_OK;
}
