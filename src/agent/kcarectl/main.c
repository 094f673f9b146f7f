// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kcarectl: the agent's command line. Options as KernelCare documents
 * them: any number of settings (--set-sticky-patch, --tag, --prefix, ...)
 * and at most one action (--lib-update, --register KEY, --status, ...),
 * settings first. Parsing and dispatch only; the work is in src/kcare.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kcarectl/kcarectl.h"
#include "kcare/exitcodes.h"

volatile int kcctl_cancel;

static void on_signal(int sig)
{
	(void)sig;
	kcctl_cancel = 1;
}

static void conf_warning(void *ctx, unsigned line, const char *msg)
{
	const struct kc_agent *a = ctx; /* its paths are set before the config is read */

	kcctl_warn("%s:%u: %s", a->paths.conf, line, msg);
}

static void usage(FILE *f)
{
	fputs("usage: kcarectl [--root DIR] [--json] [--quiet] [SETTINGS...] [ACTION]\n"
	      "Kernel (KernelCare):\n"
	      "  -u, --update           fetch the newest patch level for this kernel and load it\n"
	      "  --smart-update         the same, from where UPDATE_POLICY says (REMOTE, LOCAL,\n"
	      "                         LOCAL_FIRST)\n"
	      "  --boot                 what the boot unit runs: the cached level, before the "
	      "network\n"
	      "  --unload               unload kcare's kernel patches (never another vendor's)\n"
	      "  -i, --info             the live patch level\n"
	      "  --patch-info           the applied kernel patches (kpatch-* blocks)\n"
	      "  --uname                the effective kernel version\n"
	      "  --force                force a transition that does not finish in time\n"
	      "  --freezer none|full|smart\n"
	      "                         how tasks that block a transition are nudged\n"
	      "Userspace (LibraryCare, QEMUCare, DatabaseCare):\n"
	      "  --lib-update, --userspace-update [libs,qemu,db]\n"
	      "                         fetch the patches for running processes and apply them\n"
	      "  --lib-info             processes with patches applied (JSON)\n"
	      "  --lib-patch-info       applied patches with their CVEs (JSON)\n"
	      "  --lib-unload           unpatch every process\n"
	      "  --disable-libcare, --enable-libcare\n"
	      "Both:\n"
	      "  --auto-update          what the scheduled job runs: kernel, then userspace\n"
	      "                         (honours AUTO_UPDATE, IGNORE_UNKNOWN_KERNEL)\n"
	      "  --status               0 up to date, 1 nothing applied, 2 new patches not "
	      "applied,\n"
	      "                         3 kernel unsupported\n"
	      "  --check                0 a newer patchset is available, 1 none\n"
	      "Server:\n"
	      "  --register KEY [--register-autoretry], --unregister, --license-info\n"
	      "  --set-monitoring-key KEY, --tag TAG, --doctor\n"
	      "Settings:\n"
	      "  --prefix PREFIX        feed for this run: test, a feed name, or a delay "
	      "12h/24h/48h\n"
	      "  --test                 same as --prefix test\n"
	      "  --set-sticky-patch DDMMYY|KEY|''\n"
	      "  --set-patch-type extra|free|default\n"
	      "  --import-key PATH      trust the patch server's root key\n"
	      "  --timeout SECONDS      per process while a thread is in a function to replace;\n"
	      "                         for the kernel, the transition's deadline (30)\n"
	      "Other: --version, --help.\n"
	      "Config: /etc/sysconfig/kcare/kcare.conf (under --root DIR or $KCARE_ROOT).\n",
	      f);
}

enum {
	O_LIB_UPDATE = 1000,
	O_USER_UPDATE,
	O_LIB_INFO,
	O_LIB_PATCH_INFO,
	O_LIB_UNLOAD,
	O_DISABLE_LIBCARE,
	O_ENABLE_LIBCARE,
	O_AUTO_UPDATE,
	O_STATUS,
	O_CHECK,
	O_REGISTER,
	O_AUTORETRY,
	O_UNREGISTER,
	O_LICENSE,
	O_MONITORING,
	O_TAG,
	O_DOCTOR,
	O_PREFIX,
	O_TEST,
	O_STICKY,
	O_PATCH_TYPE,
	O_IMPORT_KEY,
	O_TIMEOUT,
	O_ROOT,
	O_JSON,
	O_QUIET,
	O_VERSION,
	O_HELP,
	O_UPDATE,
	O_SMART_UPDATE,
	O_BOOT,
	O_UNLOAD,
	O_INFO,
	O_PATCH_INFO,
	O_UNAME,
	O_FORCE,
	O_FREEZER,
};

static const struct option options[] = {
    {"lib-update", no_argument, NULL, O_LIB_UPDATE},
    {"userspace-update", optional_argument, NULL, O_USER_UPDATE},
    {"lib-info", no_argument, NULL, O_LIB_INFO},
    {"lib-patch-info", no_argument, NULL, O_LIB_PATCH_INFO},
    {"lib-unload", no_argument, NULL, O_LIB_UNLOAD},
    {"disable-libcare", no_argument, NULL, O_DISABLE_LIBCARE},
    {"enable-libcare", no_argument, NULL, O_ENABLE_LIBCARE},
    {"auto-update", no_argument, NULL, O_AUTO_UPDATE},
    {"status", no_argument, NULL, O_STATUS},
    {"check", no_argument, NULL, O_CHECK},
    {"register", required_argument, NULL, O_REGISTER},
    {"register-autoretry", no_argument, NULL, O_AUTORETRY},
    {"unregister", no_argument, NULL, O_UNREGISTER},
    {"license-info", no_argument, NULL, O_LICENSE},
    {"set-monitoring-key", required_argument, NULL, O_MONITORING},
    {"tag", required_argument, NULL, O_TAG},
    {"doctor", no_argument, NULL, O_DOCTOR},
    {"prefix", required_argument, NULL, O_PREFIX},
    {"test", no_argument, NULL, O_TEST},
    {"set-sticky-patch", required_argument, NULL, O_STICKY},
    {"set-patch-type", required_argument, NULL, O_PATCH_TYPE},
    {"import-key", required_argument, NULL, O_IMPORT_KEY},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"root", required_argument, NULL, O_ROOT},
    {"json", no_argument, NULL, O_JSON},
    {"quiet", no_argument, NULL, O_QUIET},
    {"version", no_argument, NULL, O_VERSION},
    {"help", no_argument, NULL, O_HELP},
    {"info", no_argument, NULL, O_INFO},
    {"update", no_argument, NULL, O_UPDATE},
    {"smart-update", no_argument, NULL, O_SMART_UPDATE},
    {"boot", no_argument, NULL, O_BOOT},
    {"unload", no_argument, NULL, O_UNLOAD},
    {"patch-info", no_argument, NULL, O_PATCH_INFO},
    {"uname", no_argument, NULL, O_UNAME},
    {"force", no_argument, NULL, O_FORCE},
    {"freezer", required_argument, NULL, O_FREEZER},
    {NULL, 0, NULL, 0},
};

/* A setting given on the command line, applied before the action. */
struct setting {
	int opt;
	const char *arg;
};

static int apply_setting(struct kcctl *k, const struct setting *s)
{
	switch (s->opt) {
	case O_DISABLE_LIBCARE:
		return kcctl_set_libcare(k, false);
	case O_ENABLE_LIBCARE:
		return kcctl_set_libcare(k, true);
	case O_MONITORING:
		return kcctl_set_monitoring_key(k, s->arg);
	case O_TAG:
		return kcctl_set_tag(k, s->arg);
	case O_STICKY:
		return kcctl_set_sticky(k, s->arg);
	case O_PATCH_TYPE:
		return kcctl_set_patch_type(k, s->arg);
	case O_IMPORT_KEY:
		return kcctl_import_key(k, s->arg);
	default:
		return KC_EXIT_OK;
	}
}

static int run_action(struct kcctl *k, int action, const char *arg)
{
	switch (action) {
	case O_LIB_UPDATE:
	case O_USER_UPDATE:
		return kcctl_lib_update(k, false);
	case O_AUTO_UPDATE:
		return kcctl_auto_update(k);
	case O_UPDATE:
		return kcctl_kernel_update(k, KCCTL_KUPDATE);
	case O_SMART_UPDATE:
		return kcctl_kernel_update(k, KCCTL_KSMART);
	case O_BOOT:
		return kcctl_kernel_update(k, KCCTL_KBOOT);
	case O_UNLOAD:
		return kcctl_kernel_unload(k);
	case O_INFO:
		return kcctl_kernel_info(k);
	case O_PATCH_INFO:
		return kcctl_kernel_patch_info(k);
	case O_UNAME:
		return kcctl_kernel_uname(k);
	case O_LIB_INFO:
		return kcctl_lib_info(k);
	case O_LIB_PATCH_INFO:
		return kcctl_lib_patch_info(k);
	case O_LIB_UNLOAD:
		return kcctl_lib_unload(k);
	case O_STATUS:
		return kcctl_status(k);
	case O_CHECK:
		return kcctl_check(k);
	case O_REGISTER:
		return kcctl_register(k, arg);
	case O_UNREGISTER:
		return kcctl_unregister(k);
	case O_LICENSE:
		return kcctl_license_info(k);
	case O_DOCTOR:
		return kcctl_doctor(k);
	default:
		return KC_EXIT_OK;
	}
}

static bool is_setting(int opt)
{
	return opt == O_DISABLE_LIBCARE || opt == O_ENABLE_LIBCARE || opt == O_MONITORING ||
	       opt == O_TAG || opt == O_STICKY || opt == O_PATCH_TYPE || opt == O_IMPORT_KEY;
}

int main(int argc, char **argv)
{
	struct kcctl k = {.timeout = -1};
	struct setting settings[32];
	size_t nsettings = 0;
	int opt, idx, action = 0, ret;
	const char *action_arg = NULL, *action_name = NULL;
	struct kc_err err = KC_ERR_INIT;
	struct sigaction sa = {.sa_handler = on_signal};
	char *end;

	k.root = getenv("KCARE_ROOT");
	while ((idx = -1, opt = getopt_long(argc, argv, "iuh", options, &idx)) != -1) {
		const char *name = idx >= 0 ? options[idx].name : opt == 'i' ? "info" : "update";

		if (opt == 'i' || opt == 'u')
			opt = opt == 'i' ? O_INFO : O_UPDATE;
		if (opt == 'h')
			opt = O_HELP;
		switch (opt) {
		case O_HELP:
			usage(stdout);
			return KC_EXIT_OK;
		case O_VERSION:
			printf("kcarectl %s\n", KC_VERSION);
			return KC_EXIT_OK;
		case O_ROOT:
			k.root = optarg;
			continue;
		case O_JSON:
			k.json = true;
			continue;
		case O_QUIET:
			k.quiet = true;
			continue;
		case O_AUTORETRY:
			k.autoretry = true;
			continue;
		case O_PREFIX:
			k.prefix = optarg;
			continue;
		case O_TEST:
			k.prefix = "test";
			continue;
		case O_FORCE:
			k.force = true;
			continue;
		case O_FREEZER:
			if (strcmp(optarg, "none") && strcmp(optarg, "full") &&
			    strcmp(optarg, "smart")) {
				fprintf(stderr,
					"kcarectl: --freezer '%s' is not none, full or smart\n",
					optarg);
				return KC_EXIT_USAGE;
			}
			k.freezer = optarg;
			continue;
		case O_TIMEOUT:
			k.timeout = strtod(optarg, &end);
			if (*end || end == optarg || k.timeout < 0 || k.timeout > 3600) {
				fprintf(stderr, "kcarectl: invalid --timeout '%s' (0-3600 s)\n",
					optarg);
				return KC_EXIT_USAGE;
			}
			continue;
		case '?':
			usage(stderr);
			return KC_EXIT_USAGE;
		default:
			break;
		}
		if (is_setting(opt)) {
			if (nsettings == sizeof(settings) / sizeof(settings[0])) {
				fprintf(stderr, "kcarectl: too many settings\n");
				return KC_EXIT_USAGE;
			}
			settings[nsettings++] = (struct setting){opt, optarg};
			continue;
		}
		if (action) {
			fprintf(stderr, "kcarectl: one action at a time (--%s and --%s)\n",
				action_name, name);
			return KC_EXIT_USAGE;
		}
		action = opt;
		action_name = name;
		action_arg = optarg;
		/* "--userspace-update libs" as well as "--userspace-update=libs" */
		if (opt == O_USER_UPDATE && !optarg && optind < argc && argv[optind][0] != '-')
			action_arg = argv[optind++];
		if (opt == O_USER_UPDATE)
			k.products = action_arg;
	}
	if (optind < argc) {
		fprintf(stderr, "kcarectl: unexpected argument '%s'\n", argv[optind]);
		return KC_EXIT_USAGE;
	}
	if (!action && !nsettings) {
		usage(stderr);
		return KC_EXIT_USAGE;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (kc_agent_open(&k.agent, k.root, conf_warning, &k.agent, &err) < 0)
		return kcctl_fail("%s", err.msg);
	k.agent.cancel = &kcctl_cancel;
	/* tests point the kernel side at fake /proc and /sys trees */
	k.agent.sysroot = getenv("KCARE_SYSROOT");
	ret = KC_EXIT_OK;
	for (size_t i = 0; i < nsettings && ret == KC_EXIT_OK; i++)
		ret = apply_setting(&k, &settings[i]);
	if (ret == KC_EXIT_OK && action)
		ret = run_action(&k, action, action_arg);
	kc_agent_close(&k.agent);
	return ret;
}
