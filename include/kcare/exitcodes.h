/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exit statuses of the command line tools, unless a product document fixes others. */
#ifndef KCARE_EXITCODES_H
#define KCARE_EXITCODES_H

#define KC_EXIT_OK    0 /* done */
#define KC_EXIT_ERROR 1 /* the operation failed; one line on stderr says why */
#define KC_EXIT_USAGE 2 /* bad command line */

#endif
