/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OVAL definitions for vulnerability scanners (docs/eportal.md, "OVAL for
 * scanners"): for every CVE that an enabled patchset of a feed fixes, one
 * definition saying the host is vulnerable when it runs the build a patch
 * targets and the CVE is not in the agent's list of live-patched CVEs.
 */
#ifndef KC_EPORTAL_OVAL_H
#define KC_EPORTAL_OVAL_H

#include <stddef.h>

#include "eportal/eportal.h"

#define KC_EP_OVAL_KERNEL_CVELIST "/proc/kcare/cvelist"
#define KC_EP_OVAL_USER_CVELIST	  "/var/cache/kcare/libcare_cvelist"
#define KC_EP_OVAL_DIR		  "oval" /* under the data directory, served as /oval/ */

struct kc_ep_oval_opts {
	const char *distro;  /* os-release ID: debian, ubuntu, rhel, almalinux... */
	const char *release; /* os-release VERSION_ID: 12, 22.04, 9... */
	const char *feed;    /* NULL: main */
	/* where the scanned host keeps the CVE lists; NULL: the agent's paths above */
	const char *kernel_cvelist, *user_cvelist;
};

/*
 * Checks an os-release ID (one whose package manager the definitions can
 * test) and VERSION_ID ([A-Za-z0-9._-]{1,32}). -EINVAL naming what is known.
 */
int kc_ep_oval_distro_check(const char *distro, const char *release, struct kc_err *err);

/* com.kernelcare.ID.VERSION_ID.xml into @buf; -ENAMETOOLONG. */
int kc_ep_oval_file_name(const char *distro, const char *release, char *buf, size_t size);

/*
 * The OVAL 5.11.1 document for @o, from the database in one read
 * transaction. Deterministic: the same database gives the same bytes (the
 * time stamp is the feed's last state change). Caller frees *xml.
 */
int kc_ep_oval_generate(struct kc_ep *ep, const struct kc_ep_oval_opts *o, char **xml, size_t *len,
			struct kc_err *err);

/*
 * Writes DIR/oval/com.kernelcare.ID.VERSION_ID.xml for the main feed and
 * every distribution the registered servers report, and the one the server
 * runs itself; removes the documents of distributions no longer among
 * them. Called after each publish of the repository.
 */
int kc_ep_oval_publish(struct kc_ep *ep, struct kc_err *err);

#endif
