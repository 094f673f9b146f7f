// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1005, initial-exec: the program's and the library's variables. */
extern __thread int tls_exe __attribute__((tls_model("initial-exec")));
extern __thread int tls_lib2 __attribute__((tls_model("initial-exec")));

int get_ie(void)
{
	return 2 * (tls_exe + tls_lib2);
}
