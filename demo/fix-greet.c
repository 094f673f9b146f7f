// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The demo's fix for libgreet.so: the corrected bounds check. `users` is
 * static in the library; declaring it extern here makes kcare-build pack
 * bind it to the library's own table.
 */
#define NUSERS 3

extern const char *const users[NUSERS + 1];

const char *greet(int user)
{
	if (user < 0 || user >= NUSERS)
		return "no such user";
	return users[user];
}
