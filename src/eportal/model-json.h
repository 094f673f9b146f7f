/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The model's records as JSON, one encoder per record, so that the admin
 * API and `kc.eportal ... --json` print the same members under the same
 * names. Each encoder takes a pointer to the record its name says (void so
 * that kc_ep_json_array() can walk any of them) and returns a new object.
 */
#ifndef KC_EPORTAL_MODEL_JSON_H
#define KC_EPORTAL_MODEL_JSON_H

#include <stddef.h>

struct json_object;

typedef struct json_object *kc_ep_json_encoder(const void *record);

kc_ep_json_encoder kc_ep_server_json;	/* struct kc_ep_server */
kc_ep_json_encoder kc_ep_feed_json;	/* struct kc_ep_feed */
kc_ep_json_encoder kc_ep_key_json;	/* struct kc_ep_key */
kc_ep_json_encoder kc_ep_patchset_json; /* struct kc_ep_patchset */
kc_ep_json_encoder kc_ep_user_json;	/* struct kc_ep_user */
kc_ep_json_encoder kc_ep_apikey_json;	/* struct kc_ep_apikey */
kc_ep_json_encoder kc_ep_tag_json;	/* struct kc_ep_tag */
kc_ep_json_encoder kc_ep_report_json;	/* struct kc_ep_report */

/* [encode(record) for each of the n records of size bytes at records]. */
struct json_object *kc_ep_json_array(const void *records, size_t n, size_t size,
				     kc_ep_json_encoder *encode);

#endif
