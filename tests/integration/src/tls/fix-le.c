// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1005, local-exec (compiled -fPIE): only valid for the program's own variable. */
extern __thread int tls_exe __attribute__((tls_model("local-exec")));

int get_le(void)
{
	return 3 * tls_exe;
}
