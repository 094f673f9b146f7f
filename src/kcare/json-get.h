/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Typed reads of one member of a JSON object (feed entries, the agent's cache records). */
#ifndef KC_JSON_GET_H
#define KC_JSON_GET_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* The string member @key of @o; NULL if missing or not a string. Owned by @o. */
const char *kc_json_str(json_object *o, const char *key);

/* The integer member @key of @o into *@out; false if missing or not an integer. */
bool kc_json_int(json_object *o, const char *key, int64_t *out);

#endif
