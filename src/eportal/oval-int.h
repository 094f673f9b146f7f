/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the OVAL writer needs from the database (oval-model.c reads it,
 * oval-xml.c writes it): the CVEs a feed's enabled patches fix and, per
 * CVE, the kernels and packages those patches target.
 */
#ifndef KC_EPORTAL_OVAL_INT_H
#define KC_EPORTAL_OVAL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kcare/err.h"

struct kc_ep;

/* A kernel release (b NULL) or a package and its version. Owned strings. */
struct kc_oval_target {
	char *a, *b;
};

struct kc_oval_cve {
	char id[32];
	char products[32]; /* "kernel", "libs, qemu"... in product order */
	char *description; /* of the first patch that fixes it; owned, never NULL */
	struct kc_oval_target *kernel, *user;
	size_t nkernel, nuser, capk, capu;
};

struct kc_oval_data {
	struct kc_oval_cve *cves; /* sorted by year, then number */
	size_t n, cap;
	int64_t timestamp; /* the feed's last state change, 0 if none */
};

/* Reads @feed's enabled patches. -ENOENT for an unknown feed. */
int kc_oval_data_read(struct kc_ep *ep, const char *feed, struct kc_oval_data *d,
		      struct kc_err *err);
void kc_oval_data_free(struct kc_oval_data *d);

/* How the scanned host's packages are tested. */
enum kc_oval_pkg { KC_OVAL_DPKG, KC_OVAL_RPM };

struct kc_oval_doc {
	const char *ns;	      /* id namespace: com.kernelcare.ID.VERSION_ID */
	const char *platform; /* "Debian 12" */
	enum kc_oval_pkg pkg;
	const char *kernel_cvelist, *user_cvelist;
};

/* The document as XML; caller frees *xml. -ENOMEM, -EIO from the writer. */
int kc_oval_xml(const struct kc_oval_doc *doc, const struct kc_oval_data *d, char **xml,
		size_t *len, struct kc_err *err);

#endif
