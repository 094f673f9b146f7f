// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * How every kcarectl command speaks: errors and warnings as one line on
 * stderr behind "kcarectl: ", JSON pretty on stdout.
 */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>

#include "agent/kcarectl/kcarectl.h"
#include "kcare/exitcodes.h"

int kcctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("kcarectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return KC_EXIT_ERROR;
}

void kcctl_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("kcarectl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void kcctl_print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
}
