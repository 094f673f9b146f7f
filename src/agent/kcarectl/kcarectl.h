/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kcarectl: the options of one run and the commands they select. */
#ifndef KC_KCARECTL_H
#define KC_KCARECTL_H

#include <stdbool.h>
#include <stdio.h>

#include "kcare/agent.h"

/*
 * Exit statuses the documents fix for --check and --status (the rest use
 * kcare/exitcodes.h): --check 0 = a newer patchset is available, 1 = none;
 * --status 0 = up to date, 1 = nothing applied, 2 = new patches not
 * applied, 3 = unsupported. Either one exits KCCTL_EXIT_CHECK_ERROR when
 * it cannot tell.
 */
#define KCCTL_STATUS_UPTODATE	 0
#define KCCTL_STATUS_NONE	 1
#define KCCTL_STATUS_PENDING	 2
#define KCCTL_STATUS_UNSUPPORTED 3
#define KCCTL_EXIT_CHECK_ERROR	 4

struct kcctl {
	struct kc_agent agent;
	const char *root;
	bool json;
	bool quiet;
	bool autoretry;
	const char *prefix;   /* --prefix / --test, NULL: PREFIX */
	const char *products; /* --userspace-update's list, NULL: USERSPACE_PATCHES */
	double timeout;	      /* per process, seconds */
	bool force;	      /* --force: a kernel transition that does not end is forced */
	const char *freezer;  /* --freezer none|full|smart, NULL: PATCH_METHOD */
};

/* How a kernel update was asked for. */
enum kcctl_kmode {
	KCCTL_KUPDATE, /* --update: the server */
	KCCTL_KSMART,  /* --smart-update: UPDATE_POLICY */
	KCCTL_KAUTO,   /* --auto-update: the server, quiet about an unknown kernel if asked */
	KCCTL_KBOOT,   /* --boot: the cache for LOCAL and LOCAL_FIRST, nothing for REMOTE */
};

extern volatile int kcctl_cancel;

/* "kcarectl: MESSAGE" on stderr; returns KC_EXIT_ERROR. */
int kcctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kcctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a JSON object or array, pretty, on stdout. */
struct json_object;
void kcctl_print_json(struct json_object *o);

int kcctl_lib_update(struct kcctl *k, bool automatic);
int kcctl_lib_info(struct kcctl *k);
int kcctl_lib_patch_info(struct kcctl *k);
int kcctl_lib_unload(struct kcctl *k);
int kcctl_set_libcare(struct kcctl *k, bool enabled);
int kcctl_lib_status(struct kcctl *k);
int kcctl_lib_check(struct kcctl *k);

int kcctl_kernel_update(struct kcctl *k, enum kcctl_kmode mode);
int kcctl_kernel_unload(struct kcctl *k);
int kcctl_kernel_info(struct kcctl *k);
int kcctl_kernel_patch_info(struct kcctl *k);
int kcctl_kernel_uname(struct kcctl *k);
int kcctl_kernel_status(struct kcctl *k);
int kcctl_kernel_check(struct kcctl *k);
/* Over the products this host gets (cmd-kernel.c). */
int kcctl_status(struct kcctl *k);
int kcctl_check(struct kcctl *k);
int kcctl_auto_update(struct kcctl *k);

int kcctl_register(struct kcctl *k, const char *key);
int kcctl_unregister(struct kcctl *k);
int kcctl_license_info(struct kcctl *k);
int kcctl_set_tag(struct kcctl *k, const char *tag);
int kcctl_set_monitoring_key(struct kcctl *k, const char *key);

int kcctl_set_sticky(struct kcctl *k, const char *value);
int kcctl_set_patch_type(struct kcctl *k, const char *type);
int kcctl_import_key(struct kcctl *k, const char *path);
int kcctl_doctor(struct kcctl *k);

#endif
