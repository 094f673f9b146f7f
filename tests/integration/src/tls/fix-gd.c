// SPDX-License-Identifier: GPL-2.0-or-later
/* Fix of 1005, general-dynamic (the -fPIC default): the program's and the library's variables. */
extern __thread int tls_exe;
extern __thread int tls_lib;

int get_gd(void)
{
	return tls_exe + tls_lib;
}
