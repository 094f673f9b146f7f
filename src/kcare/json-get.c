// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Typed member reads shared by the parts of the agent that read JSON they
 * did not build in this run: signed feed entries (choose.c, kernel-plan.c)
 * and the cache records (libcare-plan.c, kernel-plan.c). A member of the
 * wrong type is as absent as a missing one.
 */
#include "kcare/json-get.h"

const char *kc_json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool kc_json_int(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}
