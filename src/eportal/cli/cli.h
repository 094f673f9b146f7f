/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kc.eportal: what the verbs (cmd-*.c) share. Global options (--data DIR,
 * --db URL) are taken out of argv by main.c before a verb parses the rest;
 * cli_open() opens the server's data with them and prints a failure.
 */
#ifndef KC_EPORTAL_CLI_H
#define KC_EPORTAL_CLI_H

#include <stdint.h>
#include <stdlib.h>

#include "eportal/eportal.h"
#include "eportal/model-json.h"
#include "kcare/err.h"
#include "kcare/exitcodes.h"

extern const char *cli_data; /* --data, default /var/lib/eportal */
extern const char *cli_db;   /* --db, NULL: DIR/eportal.db */

/* Opens the data directory; prints the error and returns NULL on failure. */
struct kc_ep *cli_open(void);

/* Prints "kc.eportal: MESSAGE" and returns KC_EXIT_ERROR. */
int cli_fail(const struct kc_err *err);
/* Prints "kc.eportal: ..." plus a hint to --help and returns KC_EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a non-negative integer; -1 when @s is not one. */
int64_t cli_num(const char *s);
/*
 * Prints the records as a pretty JSON array on stdout, encoded as the admin
 * API encodes them (model-json.h).
 */
void cli_print_records(const void *records, size_t n, size_t size, kc_ep_json_encoder *encode);

/* "YYYY-MM-DD HH:MM:SS" UTC, or "-" for 0. @buf of 32 bytes. */
const char *cli_time(int64_t t, char *buf);

int cmd_key(int argc, char **argv);
int cmd_feed(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_api_key(int argc, char **argv);
int cmd_root_key(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_product(int argc, char **argv); /* argv[0]: kcare, libcare, qemu or db */
int cmd_server(int argc, char **argv);
int cmd_list_servers(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_upstream(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_oval(int argc, char **argv);

#endif
