// SPDX-License-Identifier: GPL-2.0-or-later
/* kc.eportal oval: the OVAL document the server publishes, written offline. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "eportal/cli/cli.h"
#include "eportal/oval.h"
#include "kcare/conf.h"
#include "kcare/osrelease.h"

#define OVAL_USAGE                                                                                 \
	"usage: kc.eportal oval [--out FILE] [--distro ID --release VERSION_ID] [--feed F]\n"      \
	"                       [--kernel-cvelist PATH] [--user-cvelist PATH]\n"                   \
	"  writes the OVAL definitions of the CVEs that the feed's enabled patches fix\n"          \
	"  (default: feed main, this host's os-release, standard output); the same\n"              \
	"  document eportal serves as /oval/com.kernelcare.ID.VERSION_ID.xml.\n"                   \
	"  The CVE list paths default to the agent's " KC_EP_OVAL_KERNEL_CVELIST " and\n"          \
	"  " KC_EP_OVAL_USER_CVELIST "; other paths are for testing definitions.\n"

int cmd_oval(int argc, char **argv)
{
	enum { O_DISTRO = 256, O_RELEASE, O_FEED, O_KLIST, O_ULIST };
	static const struct option longopts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"distro", required_argument, NULL, O_DISTRO},
	    {"release", required_argument, NULL, O_RELEASE},
	    {"feed", required_argument, NULL, O_FEED},
	    {"kernel-cvelist", required_argument, NULL, O_KLIST},
	    {"user-cvelist", required_argument, NULL, O_ULIST},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_err err = KC_ERR_INIT;
	struct kc_ep_oval_opts o = {0};
	const char *out = NULL;
	char id[KC_OS_RELEASE_FIELD], ver[KC_OS_RELEASE_FIELD], *xml = NULL;
	size_t len = 0;
	int c, r;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case O_DISTRO:
			o.distro = optarg;
			break;
		case O_RELEASE:
			o.release = optarg;
			break;
		case O_FEED:
			o.feed = optarg;
			break;
		case O_KLIST:
			o.kernel_cvelist = optarg;
			break;
		case O_ULIST:
			o.user_cvelist = optarg;
			break;
		case 'h':
			fputs(OVAL_USAGE, stdout);
			return KC_EXIT_OK;
		case ':':
			return cli_usage("oval: option '%s' needs an argument", argv[optind - 1]);
		default:
			return cli_usage("oval: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage("oval: unexpected argument '%s'", argv[optind]);
	if (!o.distro != !o.release)
		return cli_usage("oval: --distro and --release go together");
	if (!o.distro) {
		kc_os_release("/etc/os-release", id, ver);
		o.distro = id;
		o.release = ver;
	}
	/* a bad distribution is told before the data directory is opened */
	if (kc_ep_oval_distro_check(o.distro, o.release, &err) < 0)
		return cli_fail(&err);
	struct kc_ep *ep = cli_open();
	if (!ep)
		return KC_EXIT_ERROR;
	r = kc_ep_oval_generate(ep, &o, &xml, &len, &err);
	kc_ep_close(ep);
	if (r == 0 && out)
		r = kc_file_replace(out, xml, len, 0644, &err);
	else if (r == 0 && (fwrite(xml, 1, len, stdout) != len || fflush(stdout)))
		r = kc_err_set(&err, -EIO, "cannot write to standard output");
	free(xml);
	return r < 0 ? cli_fail(&err) : KC_EXIT_OK;
}
