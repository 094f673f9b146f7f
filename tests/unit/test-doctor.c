// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcarectl --doctor's collector: a report made from a temporary root
 * holds the expected members (read back with libarchive), never the
 * secrets of the config, the registration or the proxy, and notes the
 * items it could not read instead of failing; plus the config redaction
 * on its own; the upload against a one-shot fake server (the real eportal
 * endpoint is tested by tests/integration/5106-eportal-doctor.sh).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "kcare/doctor.h"

#define SERVER_ID "0123456789abcdef0123456789abcdef"

struct member {
	char name[128];
	char *data;
	size_t len;
};

struct fx {
	char root[64];
	struct kc_agent_paths paths;
	struct member m[32];
	int n;
	pid_t child; /* a fake server still running after a failed check */
};

static void put(const struct fx *f, const char *rel, const char *text)
{
	char path[KC_AGENT_PATH_MAX], dir[KC_AGENT_PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(s - path), path);
		mkdir(dir, 0755);
	}
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char link[KC_AGENT_PATH_MAX];

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/kc-doctor.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_int_equal(kc_agent_paths_init(&f->paths, f->root, NULL), 0);
	put(f, "/etc/sysconfig/kcare/kcare.conf",
	    "# kcare.conf of a test host, proxy http://carol:commentpw@p:1/\n"
	    "PATCH_SERVER=http://eportal.example/repo/\n"
	    "REGISTRATION_URL=http://eportal.example/api/v1\n"
	    "HTTPS_PROXY=http://bob:s3cr3tpw@proxy.example:3128\n"
	    "HTTP_PROXY = \"dave:plainpw@proxy.example:3128\"\n"
	    "MONITORING_KEY=topsecretvalue\n"
	    "export AUTH_TOKEN='tok123456'\n"
	    "EMPTY_PASSWORD=\n"
	    "AUTO_UPDATE=True\n");
	put(f, "/etc/sysconfig/kcare/systemid", "server_id=" SERVER_ID "\n");
	put(f, "/etc/os-release", "PRETTY_NAME=\"Test Linux 1\"\nID=testlinux\n");
	put(f, "/var/lib/kcare/registration.json",
	    "{\"server_id\": \"" SERVER_ID "\", \"key\": \"regkeysecret\", \"feed\": \"main\","
	    " \"repo\": \"http://eve:urlpw@eportal.example/repo/\"}");
	put(f, "/var/lib/kcare/kcarectl.lock", "");
	put(f, "/var/lib/kcare/trust/gen.3/root.json", "{\"root\": 1}");
	put(f, "/var/lib/kcare/trust/gen.3/timestamp.json", "{}");
	snprintf(link, sizeof(link), "%s/var/lib/kcare/trust/current", f->root);
	assert_int_equal(symlink("gen.3", link), 0);
	put(f, "/var/lib/libcare/blacklist", "path:/usr/sbin/sshd\n");
	put(f, "/var/cache/kcare/userspace/patches/abc", "blob");
	put(f, "/etc/cron.d/libcare-cron", "0 */4 * * * root /usr/bin/kcarectl --lib-update\n");
	*state = f;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < f->n; i++)
		free(f->m[i].data);
	free(f);
	return 0;
}

/* Reads every member of @path into f->m. */
static void read_report(struct fx *f, const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	assert_non_null(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, path, 16384), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		struct member *m = &f->m[f->n++];
		la_int64_t size = archive_entry_size(e);

		assert_true(f->n < 32);
		snprintf(m->name, sizeof(m->name), "%s", archive_entry_pathname(e));
		m->data = malloc((size_t)size + 1);
		assert_non_null(m->data);
		assert_int_equal(archive_read_data(a, m->data, (size_t)size), size);
		m->data[size] = '\0';
		m->len = (size_t)size;
	}
	archive_read_free(a);
}

static const char *member(const struct fx *f, const char *name)
{
	for (int i = 0; i < f->n; i++)
		if (!strcmp(f->m[i].name, name))
			return f->m[i].data;
	return NULL;
}

static void test_doctor__collects_and_redacts(void **state)
{
	static const char *const expected[] = {
	    "report.txt", "kcare.conf",		"systemid",	     "state/registration.json",
	    "trust.txt",  "blacklist-packaged", "cron/libcare-cron", "limits.txt",
	    "cache.txt",  "lib-info.txt",
	};
	static const char *const secrets[] = {"s3cr3tpw",  "plainpw",	   "topsecretvalue",
					      "tok123456", "regkeysecret", "commentpw",
					      "urlpw",	   SERVER_ID};
	struct fx *f = *state;
	struct kc_doctor_section extra[] = {{"lib-info", "{\"processes\": []}\n"}};
	struct kc_err err = KC_ERR_INIT;
	char out[KC_AGENT_PATH_MAX], dir[KC_AGENT_PATH_MAX];
	struct stat st;

	assert_int_equal(kc_doctor_collect(&f->paths, extra, 1, out, sizeof(out), &err), 0);
	snprintf(dir, sizeof(dir), "%s/var/cache/kcare/doctor/kcare-report-", f->root);
	assert_memory_equal(out, dir, strlen(dir));
	assert_non_null(strstr(out, ".tar.gz"));
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(dir, sizeof(dir), "%s/var/cache/kcare/doctor", f->root);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	read_report(f, out);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (!member(f, expected[i]))
			fail_msg("member '%s' is missing", expected[i]);
	assert_null(member(f, "state/kcarectl.lock"));
	for (int i = 0; i < f->n; i++)
		for (size_t s = 0; s < sizeof(secrets) / sizeof(secrets[0]); s++)
			if (memmem(f->m[i].data, f->m[i].len, secrets[s], strlen(secrets[s])))
				fail_msg("member '%s' holds the secret '%s'", f->m[i].name,
					 secrets[s]);

	const char *conf = member(f, "kcare.conf");
	assert_non_null(strstr(conf, "PATCH_SERVER=http://eportal.example/repo/\n"));
	assert_non_null(strstr(conf, "HTTPS_PROXY=http://<redacted>@proxy.example:3128\n"));
	assert_non_null(strstr(conf, "HTTP_PROXY = \"<redacted>@proxy.example:3128\"\n"));
	assert_non_null(strstr(conf, "MONITORING_KEY=<redacted>\n"));
	assert_non_null(strstr(conf, "export AUTH_TOKEN=<redacted>\n"));
	assert_non_null(strstr(conf, "EMPTY_PASSWORD=\n"));
	assert_non_null(strstr(conf, "AUTO_UPDATE=True\n"));
	assert_string_equal(member(f, "systemid"), "server_id=01234567...\n");
	const char *reg = member(f, "state/registration.json");
	assert_non_null(strstr(reg, "\"01234567...\""));
	assert_non_null(strstr(reg, "\"main\""));

	const char *rep = member(f, "report.txt");
	assert_non_null(strstr(rep, "agent: kcarectl " KC_VERSION "\n"));
	assert_non_null(strstr(rep, "PRETTY_NAME=\"Test Linux 1\""));
	assert_non_null(strstr(rep, "uname: Linux "));
	assert_non_null(strstr(rep, "unavailable: blacklist-user: "));
	assert_non_null(strstr(rep, "unavailable: cron/libcare-cron.timer: "));
	assert_non_null(strstr(rep, "collected: kcare.conf"));
	assert_non_null(strstr(member(f, "trust.txt"), "current -> gen.3\n"));
	assert_non_null(strstr(member(f, "trust.txt"), " root.json\n"));
	assert_non_null(strstr(member(f, "cache.txt"), "userspace/patches/abc\n"));
	assert_string_equal(member(f, "lib-info.txt"), "{\"processes\": []}\n");
	assert_non_null(strstr(member(f, "limits.txt"), "Max open files"));
}

/* A host with nothing installed still gets a report that says so. */
static void test_doctor__empty_root(void **state)
{
	struct fx *f = *state;
	struct kc_agent_paths p;
	struct kc_err err = KC_ERR_INIT;
	char root[128], out[KC_AGENT_PATH_MAX], out2[KC_AGENT_PATH_MAX];

	snprintf(root, sizeof(root), "%s/empty", f->root);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(kc_agent_paths_init(&p, root, &err), 0);
	assert_int_equal(kc_doctor_collect(&p, NULL, 0, out, sizeof(out), &err), 0);
	/* a second report in the same second gets a name of its own */
	assert_int_equal(kc_doctor_collect(&p, NULL, 0, out2, sizeof(out2), &err), 0);
	assert_string_not_equal(out, out2);
	read_report(f, out);
	const char *rep = member(f, "report.txt");
	assert_non_null(rep);
	assert_non_null(strstr(rep, "unavailable: kcare.conf: "));
	assert_non_null(strstr(rep, "unavailable: trust.txt: "));
	assert_null(member(f, "kcare.conf"));
}

static void test_doctor__bad_section_name(void **state)
{
	struct fx *f = *state;
	struct kc_doctor_section bad[] = {{"../x", "t"}};
	struct kc_doctor_section clash[] = {{"report", "t"}};
	struct kc_err err = KC_ERR_INIT;
	char out[KC_AGENT_PATH_MAX];

	assert_int_equal(kc_doctor_collect(&f->paths, bad, 1, out, sizeof(out), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'../x'"));
	kc_err_clear(&err);
	assert_int_equal(kc_doctor_collect(&f->paths, clash, 1, out, sizeof(out), &err), -EINVAL);
	kc_err_clear(&err);
	assert_int_equal(kc_doctor_collect(&f->paths, NULL, 0, out, 10, &err), -ENAMETOOLONG);
}

static void check_redact(const char *in, const char *want)
{
	struct kc_err err = KC_ERR_INIT;
	char *out = NULL;

	assert_int_equal(kc_doctor_redact_conf(in, strlen(in), &out, &err), 0);
	assert_string_equal(out, want);
	free(out);
}

static void test_doctor__redact_conf(void **state)
{
	(void)state;
	check_redact("", "");
	check_redact("A=1\nB=2", "A=1\nB=2");
	check_redact("LICENSE_KEY=abc # note\n", "LICENSE_KEY=<redacted>\n");
	check_redact("  password = x\n", "  password = <redacted>\n");
	check_redact("https_proxy=https://u:p@h:8443/path?q\n",
		     "https_proxy=https://<redacted>@h:8443/path?q\n");
	check_redact("HTTPS_PROXY=u@h\n", "HTTPS_PROXY=<redacted>@h\n");
	check_redact("NOTE=mail me at a@b\n", "NOTE=mail me at a@b\n");
	check_redact("X=a://u:p@h b://h2 c://v:w@h3\n",
		     "X=a://<redacted>@h b://h2 c://<redacted>@h3\n");
	check_redact("#MY_TOKEN=abc\n", "#MY_TOKEN=<redacted>\n");
	check_redact("X=a://b://u:p@h\n", "X=a://b://<redacted>@h\n");
	check_redact("# see http://h/x\n", "# see http://h/x\n");
	check_redact("not a line\n", "not a line\n");
}

/*
 * A fake server in a child: answers each of @n connections with @replies[i]
 * and appends each request (headers and body) to @log.
 */
static pid_t fake_server(const char *const *replies, int n, const char *log, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 4), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid > 0) {
		close(ls);
		return pid;
	}
	for (int i = 0; i < n; i++) {
		static char req[1 << 20];
		size_t got = 0, need = 0;
		int c = accept(ls, NULL, NULL);
		FILE *f;

		if (c < 0)
			_exit(1);
		/* headers, then Content-Length bytes of body */
		for (;;) {
			ssize_t r = read(c, req + got, sizeof(req) - 1 - got);
			if (r <= 0)
				break;
			got += (size_t)r;
			req[got] = '\0';
			char *end = strstr(req, "\r\n\r\n"),
			     *cl = strcasestr(req, "Content-Length:");
			if (end && !need)
				need =
				    (size_t)(end + 4 - req) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
			if (need && got >= need)
				break;
		}
		f = fopen(log, "a");
		if (f) {
			fwrite(req, 1, got, f);
			fclose(f);
		}
		if (write(c, replies[i], strlen(replies[i])) < 0)
			_exit(1);
		close(c);
	}
	_exit(0);
}

static void reply(char *out, int status, const char *json)
{
	snprintf(out, 256,
		 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n%s",
		 status, strlen(json), json);
}

static void test_doctor__upload(void **state)
{
	struct fx *f = *state;
	struct kc_http_opts o = {.timeout = 20};
	struct kc_err err = KC_ERR_INIT;
	struct kc_http *h = NULL;
	char report[KC_AGENT_PATH_MAX], log[128], url[128], id[64] = "", rep[3][256];
	const char *replies[3] = {rep[0], rep[1], rep[2]};
	char *buf = NULL;
	size_t len = 0;
	int port, status;
	pid_t pid;
	FILE *lf;

	reply(rep[0], 201, "{\"id\": \"00112233445566778899aabbccddeeff\"}\n");
	reply(rep[1], 413, "{\"error\": \"too-large\", \"message\": \"body is too large\"}\n");
	reply(rep[2], 201, "{\"id\": \"../etc\"}\n");
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	assert_int_equal(kc_doctor_collect(&f->paths, NULL, 0, report, sizeof(report), &err), 0);
	snprintf(log, sizeof(log), "%s/requests.log", f->root);
	pid = f->child = fake_server(replies, 3, log, &port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/", port);
	assert_int_equal(kc_http_new(&o, &h, &err), 0);

	assert_int_equal(kc_doctor_upload(h, url, SERVER_ID, report, id, sizeof(id), &err), 0);
	assert_string_equal(id, "00112233445566778899aabbccddeeff");
	assert_int_equal(kc_doctor_upload(h, url, NULL, report, id, sizeof(id), &err), -EFBIG);
	assert_non_null(strstr(err.msg, "body is too large"));
	kc_err_clear(&err);
	assert_int_equal(kc_doctor_upload(h, url, "", report, id, sizeof(id), &err), -EPROTO);
	kc_err_clear(&err);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	f->child = 0;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* a bad server id is refused before anything is sent */
	assert_int_equal(kc_doctor_upload(h, url, "a&b=c", report, id, sizeof(id), &err), -EINVAL);
	kc_err_clear(&err);
	assert_int_equal(kc_doctor_upload(h, url, NULL, "/nonexistent", id, sizeof(id), &err),
			 -ENOENT);
	kc_http_free(h);

	lf = fopen(log, "r");
	assert_non_null(lf);
	buf = malloc(4 << 20);
	assert_non_null(buf);
	len = fread(buf, 1, (4 << 20) - 1, lf);
	buf[len] = '\0';
	fclose(lf);
	/* the log holds binary bodies: search it with memmem */
#define LOG_HAS(s) assert_non_null(memmem(buf, len, s, strlen(s)))
	LOG_HAS("POST /api/v1/doctor?server_id=" SERVER_ID " HTTP/1.1\r\n");
	LOG_HAS("POST /api/v1/doctor HTTP/1.1\r\n");
	LOG_HAS("Content-Type: application/gzip\r\n");
	/* the body is the report itself: gzip magic right after the headers */
	LOG_HAS("\r\n\r\n\x1f\x8b");
#undef LOG_HAS
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_doctor__collects_and_redacts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_doctor__empty_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_doctor__bad_section_name, setup, teardown),
	    cmocka_unit_test(test_doctor__redact_conf),
	    cmocka_unit_test_setup_teardown(test_doctor__upload, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
