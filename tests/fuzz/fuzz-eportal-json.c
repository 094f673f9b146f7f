// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for what the patch server decodes from the network: a
 * request body as a JSON object, then as an agent's report and as an admin
 * key object, and the bytes as a repository path and as a basic-auth header.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eportal/http-json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kc_err err = KC_ERR_INIT;
	struct json_object *o = NULL;
	char *path;

	if (kc_httpd_json_object((const char *)data, size, &o, &err) == 0) {
		struct kc_ep_checkin c;
		struct kc_ep_key k;
		unsigned mask;
		(void)kc_httpd_checkin_decode(o, &c, &err);
		(void)kc_httpd_key_decode(o, &k, &mask, &err);
		json_object_put(o);
	}
	path = malloc(size + 1);
	if (path) {
		memcpy(path, data, size);
		path[size] = '\0';
		(void)kc_httpd_repo_path_ok(path);
		/* and as an Authorization header */
		static char user[KC_HTTPD_BASIC_MAX + 1], pass[KC_HTTPD_BASIC_MAX + 1];
		(void)kc_httpd_basic_decode(path, user, pass, &err);
		free(path);
	}
	return 0;
}
