/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * os-release(5): the distribution's ID and VERSION_ID, which the agent
 * reports and the patch server names its OVAL documents by.
 */
#ifndef KCARE_OSRELEASE_H
#define KCARE_OSRELEASE_H

#define KC_OS_RELEASE_FIELD 64 /* bytes of each field, NUL included */

/*
 * ID and VERSION_ID of the os-release file @path, without quotes; "" for a
 * key the file lacks (both "" on error). 0, or -errno when it is unreadable.
 */
int kc_os_release(const char *path, char id[KC_OS_RELEASE_FIELD],
		  char version_id[KC_OS_RELEASE_FIELD]);

#endif
