// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1005 for the library itself: its own variables, one general-dynamic, one initial-exec. */
extern __thread int tls_lib;
extern __thread int tls_lib2 __attribute__((tls_model("initial-exec")));

int lib_get(void)
{
	return tls_lib + tls_lib2;
}
