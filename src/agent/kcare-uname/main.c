// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcare-uname: uname(1) with the kernel release a live kcare patch level
 * brings the kernel to (/proc/kcare/effective_version) in place of the
 * real one; the real values otherwise. Same options, order and output as
 * coreutils' uname. KCARE_SYSROOT moves /proc and /sys for tests.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcare/exitcodes.h"
#include "kcare/kpatch.h"

enum {
	F_S = 1 << 0,
	F_N = 1 << 1,
	F_R = 1 << 2,
	F_V = 1 << 3,
	F_M = 1 << 4,
	F_P = 1 << 5,
	F_I = 1 << 6,
	F_O = 1 << 7,
	F_ALL = 1 << 8,
};

static void usage(FILE *f)
{
	fputs("usage: kcare-uname [OPTION]...\n"
	      "Print system information, with the effective kernel release when a kcare\n"
	      "patch level is live. With no OPTION, same as -s.\n"
	      "  -a, --all                print all information in the following order,\n"
	      "                           except omit -p and -i if unknown\n"
	      "  -s, --kernel-name        print the kernel name\n"
	      "  -n, --nodename           print the network node hostname\n"
	      "  -r, --kernel-release     print the (effective) kernel release\n"
	      "  -v, --kernel-version     print the kernel version\n"
	      "  -m, --machine            print the machine hardware name\n"
	      "  -p, --processor          print the processor type (non-portable)\n"
	      "  -i, --hardware-platform  print the hardware platform (non-portable)\n"
	      "  -o, --operating-system   print the operating system\n"
	      "      --help               display this help and exit\n"
	      "      --version            output version information and exit\n",
	      f);
}

static const struct option options[] = {
    {"all", no_argument, NULL, 'a'},
    {"kernel-name", no_argument, NULL, 's'},
    {"sysname", no_argument, NULL, 's'},
    {"nodename", no_argument, NULL, 'n'},
    {"kernel-release", no_argument, NULL, 'r'},
    {"release", no_argument, NULL, 'r'},
    {"kernel-version", no_argument, NULL, 'v'},
    {"machine", no_argument, NULL, 'm'},
    {"processor", no_argument, NULL, 'p'},
    {"hardware-platform", no_argument, NULL, 'i'},
    {"operating-system", no_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void put(const char *s, bool *first)
{
	if (!*first)
		putchar(' ');
	fputs(s, stdout);
	*first = false;
}

int main(int argc, char **argv)
{
	const char *sysroot = getenv("KCARE_SYSROOT");
	struct kc_err err = KC_ERR_INIT;
	struct kc_kernel_ident id;
	unsigned f = 0;
	char eff[128];
	bool first = true;
	int opt;

	while ((opt = getopt_long(argc, argv, "asnrvmpio", options, NULL)) != -1) {
		switch (opt) {
		case 'a':
			f |= F_ALL | F_S | F_N | F_R | F_V | F_M | F_O;
			break;
		case 's':
			f |= F_S;
			break;
		case 'n':
			f |= F_N;
			break;
		case 'r':
			f |= F_R;
			break;
		case 'v':
			f |= F_V;
			break;
		case 'm':
			f |= F_M;
			break;
		case 'p':
			f |= F_P;
			break;
		case 'i':
			f |= F_I;
			break;
		case 'o':
			f |= F_O;
			break;
		case 'h':
			usage(stdout);
			return KC_EXIT_OK;
		case 'V':
			printf("kcare-uname %s\n", KC_VERSION);
			return KC_EXIT_OK;
		default:
			fputs("Try 'kcare-uname --help' for more information.\n", stderr);
			return KC_EXIT_ERROR;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kcare-uname: extra operand '%s'\n", argv[optind]);
		fputs("Try 'kcare-uname --help' for more information.\n", stderr);
		return KC_EXIT_ERROR;
	}
	if (!f)
		f = F_S;
	if (kc_kpatch_ident(sysroot, &id, &err) < 0) {
		fprintf(stderr, "kcare-uname: %s\n", err.msg);
		return KC_EXIT_ERROR;
	}
	kc_kpatch_effective(sysroot, &id, eff, sizeof(eff));
	if (f & F_S)
		put(id.sysname, &first);
	if (f & F_N)
		put(id.nodename, &first);
	if (f & F_R)
		put(eff, &first);
	if (f & F_V)
		put(id.version, &first);
	if (f & F_M)
		put(id.machine, &first);
	/* Linux has no processor or platform name to give: "unknown", left out of -a */
	if (f & F_P)
		put("unknown", &first);
	if (f & F_I)
		put("unknown", &first);
	if (f & F_O)
		put("GNU/Linux", &first);
	putchar('\n');
	return fflush(stdout) == 0 ? KC_EXIT_OK : KC_EXIT_ERROR;
}
