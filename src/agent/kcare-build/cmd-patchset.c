// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `kcare-build patchset`: parses options, checks their syntax (product,
 * name, time, kernel ids), hands each PATCH with the per-patch options in
 * force to the patchset writer (src/lib/patchset-write.c) and prints one
 * line. Per-patch options come before the PATCH they describe. With
 * --verify, runs the server's reader (src/lib/patchset-read.c) on an
 * archive instead and lists what it holds.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/kcare-build/cmds.h"
#include "agent/kcare-build/pack-args.h"
#include "kcare/exitcodes.h"
#include "kcare/patchset.h"

#define PATCHSET_USAGE                                                                             \
	"usage: kcare-build patchset --product kernel|libs|qemu|db --name NAME [-o FILE]\n"        \
	"                            [--released ISO-TIME] [--description TEXT]\n"                 \
	"                            [[PATCH-OPTION]... PATCH]...\n"                               \
	"       kcare-build patchset --product kernel NAME MODULE.ko... (NAME without --name)\n"   \
	"       kcare-build patchset --verify ARCHIVE\n"                                           \
	"A kernel MODULE.ko names its series, level and kernel in .modinfo (kcare_* tags);\n"      \
	"its sidecar MODULE.json (kcare-build kmod) adds CVEs, description and kpatch fields.\n"   \
	"patch options (before the PATCH they describe):\n"                                        \
	"  --kernel-id HEX, --kernel-build-id HEX   kernel modules: must be the module's;\n"       \
	"                                           apply to every later PATCH\n"                  \
	"  --level N                                kernel modules: must be the module's;\n"       \
	"                                           the next PATCH only\n"                         \
	"  --kpatch-name, --kpatch-description, --kpatch-cve, --kpatch-cvss,\n"                    \
	"  --kpatch-cve-url, --kpatch-patch-url TEXT   the next PATCH only\n"                      \
	"  --package NAME=VERSION                   user patches: the package that installs\n"     \
	"                                           the target and its version (what OVAL\n"       \
	"                                           scanners match); the next PATCH only\n"        \
	"NAME is K<YYYYMMDD>_<NN> (kernel), U<YYYYMMDD>_<NN> (libs), U<YYYYMMDD>_<NN>-qemu,\n"     \
	"U<YYYYMMDD>_<NN>-db; FILE defaults to NAME.tar.bz2\n"

struct ps_arg {
	const char *path;
	struct kc_patchset_patch_opts o;
};

/* Hex of @min..@max digits, even count, either case. */
static int ps_is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return !s[n] && n >= min && n <= max && n % 2 == 0;
}

/* Reads @path as a server would and lists it; returns an exit status. */
static int ps_verify(const char *path)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset *ps;
	const struct kc_patchset_meta *m;
	char when[KC_PATCHSET_TIME_LEN + 1];

	if (kc_patchset_open(path, NULL, NULL, &ps, &err) < 0) {
		fprintf(stderr, "kcare-build: %s\n", err.msg);
		return KC_EXIT_ERROR;
	}
	m = kc_patchset_meta(ps);
	printf("%s: product %s, released %s, %zu patch%s\n", m->name,
	       kc_patchset_product_name(m->product),
	       kc_patchset_time_format(m->released, when, sizeof(when)), m->npatches,
	       m->npatches == 1 ? "" : "es");
	for (size_t i = 0; i < m->npatches; i++) {
		const struct kc_patchset_patch *p = &m->patches[i];

		printf(
		    "%s: %s %s level %u for %s (build-id %s%s%s%s%s%s%s%s%s), %llu bytes, sha256 "
		    "%s\n",
		    p->file, p->kind == KC_PATCHSET_USER ? "user" : "kernel", p->id, p->level,
		    p->target_name, p->build_id, p->kernel_id ? ", kernel-id " : "",
		    p->kernel_id ? p->kernel_id : "", p->release ? ", release " : "",
		    p->release ? p->release : "", p->package ? ", package " : "",
		    p->package ? p->package : "", p->package ? " " : "",
		    p->package ? p->package_version : "", (unsigned long long)p->length, p->sha256);
	}
	kc_patchset_free(ps);
	return KC_EXIT_OK;
}

/* Writes the archive; returns an exit status. */
static int ps_build(const char *name, enum kc_patchset_product product, int64_t released,
		    const char *description, const struct ps_arg *args, size_t nargs,
		    const char *output)
{
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_writer *w = NULL;
	uint64_t size = 0;
	int ret = KC_EXIT_ERROR;

	if (kc_patchset_writer_new(name, product, released, description, &w, &err) < 0)
		goto out;
	for (size_t i = 0; i < nargs; i++)
		if (kc_patchset_writer_add_file(w, args[i].path, &args[i].o, &err) < 0)
			goto out;
	if (kc_patchset_writer_write(w, output, KC_PATCHSET_BZIP2, &size, &err) < 0)
		goto out;
	printf("wrote %s: patchset %s, product %s, %zu patch%s, %llu bytes\n", output, name,
	       kc_patchset_product_name(product), nargs, nargs == 1 ? "" : "es",
	       (unsigned long long)size);
	ret = KC_EXIT_OK;
out:
	if (ret != KC_EXIT_OK)
		fprintf(stderr, "kcare-build: %s\n", err.msg);
	kc_patchset_writer_free(w);
	return ret;
}

int cmd_patchset(int argc, char **argv)
{
	enum {
		O_PRODUCT = 256,
		O_NAME,
		O_RELEASED,
		O_DESC,
		O_VERIFY,
		O_KID,
		O_KBID,
		O_LEVEL,
		O_PACKAGE,
		O_KPATCH
	};
	static const struct option longopts[] = {
	    {"product", required_argument, NULL, O_PRODUCT},
	    {"name", required_argument, NULL, O_NAME},
	    {"released", required_argument, NULL, O_RELEASED},
	    {"description", required_argument, NULL, O_DESC},
	    {"output", required_argument, NULL, 'o'},
	    {"verify", required_argument, NULL, O_VERIFY},
	    {"kernel-id", required_argument, NULL, O_KID},
	    {"kernel-build-id", required_argument, NULL, O_KBID},
	    {"level", required_argument, NULL, O_LEVEL},
	    {"package", required_argument, NULL, O_PACKAGE},
	    {"kpatch-name", required_argument, NULL, O_KPATCH + KC_KPATCH_NAME},
	    {"kpatch-description", required_argument, NULL, O_KPATCH + KC_KPATCH_DESCRIPTION},
	    {"kpatch-cve", required_argument, NULL, O_KPATCH + KC_KPATCH_CVE},
	    {"kpatch-cvss", required_argument, NULL, O_KPATCH + KC_KPATCH_CVSS},
	    {"kpatch-cve-url", required_argument, NULL, O_KPATCH + KC_KPATCH_CVE_URL},
	    {"kpatch-patch-url", required_argument, NULL, O_KPATCH + KC_KPATCH_PATCH_URL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kc_err err = KC_ERR_INIT;
	struct kc_patchset_patch_opts cur = {0};
	struct ps_arg *args;
	const char *name = NULL, *description = NULL, *output = NULL, *pending = NULL;
	const char *verify = NULL;
	char *defout = NULL;
	enum kc_patchset_product product = 0;
	int64_t released = (int64_t)time(NULL);
	size_t nargs = 0;
	int c, li = 0, ret;

	args = calloc((size_t)argc, sizeof(*args));
	if (!args) {
		fprintf(stderr, "kcare-build: out of memory\n");
		return KC_EXIT_ERROR;
	}
	opterr = 0;
	/* "-": PATCH arguments come back in order (as 1), between the options that describe them */
	while ((c = getopt_long(argc, argv, "-:o:h", longopts, &li)) != -1) {
		if (c >= O_KID)
			pending = longopts[li].name;
		switch (c) {
		case 1:
			args[nargs].path = optarg;
			args[nargs++].o = cur;
			/* --level and --kpatch-* describe one patch; kernel ids stay */
			memset(cur.kpatch, 0, sizeof(cur.kpatch));
			cur.level = 0;
			cur.package = cur.package_version = NULL;
			pending = NULL;
			break;
		case O_PRODUCT:
			if (kc_patchset_product_parse(optarg, &product) < 0) {
				ret =
				    kb_usage_error("patchset",
						   "unknown product '%s' (want kernel, libs, qemu "
						   "or db)",
						   optarg);
				goto out;
			}
			break;
		case O_NAME:
			name = optarg;
			break;
		case O_RELEASED:
			if (kc_patchset_time_parse(optarg, &released, &err) < 0) {
				ret = kb_usage_error("patchset", "%s", err.msg);
				goto out;
			}
			break;
		case O_DESC:
			description = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case O_VERIFY:
			verify = optarg;
			break;
		case O_KID:
		case O_KBID:
			if (c == O_KID ? !ps_is_hex(optarg, 40, 40) : !ps_is_hex(optarg, 2, 128)) {
				ret = kb_usage_error("patchset",
						     c == O_KID ? "bad kernel id '%s' (want 40 hex "
								  "digits)"
								: "bad build-id '%s' (want hex)",
						     optarg);
				goto out;
			}
			cur.kernel_id = c == O_KID ? optarg : NULL;
			cur.kernel_build_id = c == O_KBID ? optarg : NULL;
			break;
		case O_LEVEL:
			if (kb_parse_level(optarg, &cur.level) < 0) {
				ret = kb_usage_error("patchset",
						     "bad level '%s' (want a number >= 1)", optarg);
				goto out;
			}
			break;
		case O_PACKAGE: {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || !eq[1]) {
				ret = kb_usage_error(
				    "patchset", "bad --package '%s' (want NAME=VERSION)", optarg);
				goto out;
			}
			*eq = '\0'; /* the name ends in argv, which outlives the writer */
			cur.package = optarg;
			cur.package_version = eq + 1;
			break;
		}
		case 'h':
			fputs(PATCHSET_USAGE, stdout);
			ret = KC_EXIT_OK;
			goto out;
		case ':':
			ret = kb_usage_error("patchset", "option '%s' needs an argument",
					     argv[optind - 1]);
			goto out;
		default:
			if (c >= O_KPATCH && c < O_KPATCH + KC_KPATCH_NFIELDS) {
				cur.kpatch[c - O_KPATCH] = optarg;
				break;
			}
			ret = kb_usage_error("patchset", "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (verify) {
		if (product || name || nargs || output || description || pending) {
			ret = kb_usage_error("patchset", "%s",
					     "--verify takes an archive and nothing else");
			goto out;
		}
		ret = ps_verify(verify);
		goto out;
	}
	if (pending) {
		ret = kb_usage_error("patchset",
				     "--%s comes after the last PATCH it could describe", pending);
		goto out;
	}
	/* `patchset --product kernel NAME mod.ko...`: a first PATCH that is a patchset name */
	if (!name && nargs > 0 && (args[0].path[0] == 'K' || args[0].path[0] == 'U') &&
	    !strpbrk(args[0].path, "/.")) {
		name = args[0].path;
		memmove(args, args + 1, --nargs * sizeof(*args));
	}
	if (!product || !name || !nargs) {
		ret = kb_usage_error("patchset", "%s is required",
				     !product ? "--product"
				     : !name  ? "--name"
					      : "a PATCH");
		goto out;
	}
	if (kc_patchset_check_name(name, product, &err) < 0) {
		ret = kb_usage_error("patchset", "%s", err.msg);
		goto out;
	}
	if (!output) {
		if (asprintf(&defout, "%s.tar.bz2", name) < 0) {
			fprintf(stderr, "kcare-build: out of memory\n");
			ret = KC_EXIT_ERROR;
			goto out;
		}
		output = defout;
	}
	ret = ps_build(name, product, released, description, args, nargs, output);
out:
	free(defout);
	free(args);
	return ret;
}
