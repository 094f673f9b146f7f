/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inside the LibCare back end: the plan's entries, shared by plan, apply and info. */
#ifndef KC_LIBCARE_INT_H
#define KC_LIBCARE_INT_H

#include "kcare/buildid.h"
#include "kcare/libcare.h"
#include "kcare/patch.h"
#include "kcare/trust.h"

struct kc_lc_entry {
	char product[8];
	char patchset[96];
	char sha256[2 * KC_TRUST_SHA256_BYTES + 1];
	uint64_t length;
	char build_id[2 * KC_BUILDID_MAX + 1];
	struct kc_buildid bid;
	char id[64];
	uint32_t level;
	char target[256];
	int64_t released;
	char *description;		   /* owned */
	struct json_object *cves;	   /* owned array of strings */
	struct kc_patch *patch;		   /* owned; NULL in a metadata-only plan */
	char file[KC_AGENT_PATH_MAX + 80]; /* the cached blob */
};

struct kc_lc_plan {
	struct kc_lc_entry *v;
	size_t n;
	char feed[65];
	char newest[4][96]; /* by product bit index: libs 1, qemu 2, db 3 */
	size_t held_back;
};

/* Bit index of a product bit (KC_PRODUCT_LIBS -> 1). */
int kc_lc_product_index(unsigned bit);

/* Reads selected.json: every entry, whatever product (no blob is read). -ENOENT if none. */
int kc_lc_selected_load(const struct kc_agent *a, struct kc_lc_plan **out, struct kc_err *err);

#endif
