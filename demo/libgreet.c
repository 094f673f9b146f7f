// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The demo's vulnerable library. greet() looks a user up in a table whose
 * last entry is private, and its bounds check is off by one: user 3 gets
 * the private entry. demo/fix-greet.c is the live fix.
 */
#define NUSERS 3

static const char *const users[NUSERS + 1] = {"alice", "bob", "carol", "SECRET-ADMIN-TOKEN"};

const char *greet(int user)
{
	if (user < 0 || user > NUSERS) /* bug: should be >= */
		return "no such user";
	return users[user];
}
