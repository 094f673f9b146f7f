// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kc.eportal doctor: the diagnostic reports agents uploaded with
 * kcarectl --doctor (eportal/doctor.h): list them, copy one out, delete one.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eportal/cli/cli.h"
#include "eportal/doctor.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: kc.eportal doctor -l|--list [--json]\n"
		   "       kc.eportal doctor -g|--get ID -o|--output FILE   (FILE '-': stdout)\n"
		   "       kc.eportal doctor -d|--delete ID\n"
		   "  reports uploaded by kcarectl --doctor, kept in DIR/doctor.\n");
}

static int list(struct kc_ep *ep, int json)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_report *r = NULL;
	size_t n = 0;
	char t[32];

	if (kc_ep_report_list(ep, &r, &n, &err) < 0)
		return cli_fail(&err);
	if (json) {
		cli_print_records(r, n, sizeof(*r), kc_ep_report_json);
	} else {
		printf("%-32s %-19s %-15s %10s %s\n", "ID", "RECEIVED", "IP", "SIZE", "SERVER");
		for (size_t i = 0; i < n; i++)
			printf("%-32s %-19s %-15s %10lld %s\n", r[i].id, cli_time(r[i].received, t),
			       r[i].ip[0] ? r[i].ip : "-", (long long)r[i].size,
			       r[i].server_id[0] ? r[i].server_id : "-");
	}
	free(r);
	return KC_EXIT_OK;
}

/* Copies report @id to @out ("-": stdout). */
static int get(struct kc_ep *ep, const char *id, const char *out)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_report r;
	char path[4096], buf[65536];
	int in, fd, ret = 0;
	ssize_t n;

	if (kc_ep_report_get(ep, id, &r, path, sizeof(path), &err) < 0)
		return cli_fail(&err);
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		kc_err_set(&err, -errno, "cannot open '%s': %s", path, strerror(errno));
		return cli_fail(&err);
	}
	fd = strcmp(out, "-") ? open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
			      : STDOUT_FILENO;
	if (fd < 0) {
		kc_err_set(&err, -errno, "cannot create '%s': %s", out, strerror(errno));
		close(in);
		return cli_fail(&err);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0) {
				ret = kc_err_set(&err, -errno, "cannot write '%s': %s", out,
						 strerror(errno));
				break;
			}
			off += w;
		}
		if (ret < 0)
			break;
	}
	if (n < 0 && ret == 0)
		ret = kc_err_set(&err, -errno, "cannot read '%s': %s", path, strerror(errno));
	close(in);
	if (fd != STDOUT_FILENO && close(fd) < 0 && ret == 0)
		ret = kc_err_set(&err, -errno, "cannot write '%s': %s", out, strerror(errno));
	return ret < 0 ? cli_fail(&err) : KC_EXIT_OK;
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"list", no_argument, NULL, 'l'},
	    {"json", no_argument, NULL, 'j'},
	    {"get", required_argument, NULL, 'g'},
	    {"output", required_argument, NULL, 'o'},
	    {"delete", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_err err = KC_ERR_INIT;
	const char *id = NULL, *out = NULL;
	int verb = 0, json = 0, c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ljg:o:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
		case 'g':
		case 'd':
			if (verb && verb != c)
				return cli_usage("give one of -l, --get and -d");
			verb = c;
			if (c != 'l')
				id = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return KC_EXIT_OK;
		default:
			return KC_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage("unexpected argument '%s'", argv[optind]);
	if (!verb) {
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	if (verb == 'g' && !out)
		return cli_usage("--get needs -o FILE");
	if (verb != 'g' && out)
		return cli_usage("-o goes with --get");
	if (verb != 'l' && json)
		return cli_usage("--json goes with -l");
	struct kc_ep *ep = cli_open();
	if (!ep)
		return KC_EXIT_ERROR;
	if (verb == 'l') {
		r = list(ep, json);
	} else if (verb == 'g') {
		r = get(ep, id, out);
	} else {
		r = kc_ep_report_delete(ep, id, &err) < 0 ? cli_fail(&err) : KC_EXIT_OK;
	}
	kc_ep_close(ep);
	return r;
}
